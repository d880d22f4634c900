/**
 * API keys of the relay's OpenAI-compatible `/v1` endpoints, kept hashed in
 * `<data>/api-keys.json` (mode 0600), and the `npm run relay -- api-key …` command that
 * manages them on a headless box; the workspace owner creates them in the app too (keysApi.ts).
 *
 * A key is `sk-outpost-<id>-<secret>`: the id finds the entry (and names the key in `list`
 * and `revoke`), the secret is 32 random bytes. Only SHA-256 of the whole key is stored (a
 * key is random, not a password, so a slow hash would add nothing); it is shown once, when
 * created. A running relay re-reads the file when it changes, so a key created or revoked
 * from the command line takes effect at once.
 *
 * Every change is a read-modify-write under a lock: one at a time within a process (a chain
 * per file), and across processes (the relay and the command line) through an exclusive lock
 * file beside it, taken with `O_EXCL`; a lock left by a process that died is taken over after
 * {@link STALE_LOCK_MS}. Each write goes to a temporary file of its own and is renamed into
 * place, so a reader sees the old list or the new one, never a mix.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_DATA_DIR } from '../cli.ts';
import { UsageError } from '../errors.ts';

/** A stored key, without its secret. */
export interface ApiKeyEntry {
	/** Short random id, part of the key; names it in `list` and `revoke`. */
	id: string;
	/** What the key is for, as its creator wrote it. */
	name: string;
	/** When it was created (ISO 8601). */
	createdAt: string;
	/** SHA-256 of the whole key, hex. */
	hash: string;
	/** The workspace whose owner made it in the app (keysApi.ts); absent for command-line keys. */
	workspace?: string;
	/** The peer id of the member who made it in the app; absent for command-line keys. */
	createdBy?: string;
}

/**
 * A key `/v1` accepted (openai.ts): its entry and, for a key made in the app, which models its
 * maker's role may use now (keysApi.ts `memberKeys`); without `mayUse`, every model.
 */
export interface VerifiedKey extends ApiKeyEntry {
	/** Its maker's role in the workspace when it was checked. */
	role?: string;
	mayUse?: (model: string) => boolean;
}

/** Who made a key in the app: its workspace and the member's peer id. */
export interface ApiKeyOrigin {
	workspace: string;
	createdBy: string;
}

/** `<data>/api-keys.json` holds the keys of that data directory. */
export function apiKeysPath(dataDir: string): string {
	return join(dataDir, 'api-keys.json');
}

/** A lock file older than this is taken for one left by a process that died. */
export const STALE_LOCK_MS = 10_000;
/** How long a change waits for the lock before it fails. */
const LOCK_WAIT_MS = 15_000;

/** The lock could not be taken in time. */
export class ApiKeysLockedError extends Error {
	override name = 'ApiKeysLockedError';
}

/** Changes in progress per key file in this process, one after another. */
const chains = new Map<string, Promise<unknown>>();

/** Runs `change` after every earlier change of `path` in this process. */
function serially<T>(path: string, change: () => Promise<T>): Promise<T> {
	const run = (chains.get(path) ?? Promise.resolve()).then(change, change);
	const settled = run.catch(() => undefined);
	chains.set(path, settled);
	void settled.then(() => {
		if (chains.get(path) === settled) chains.delete(path);
	});
	return run;
}

/** Takes the lock file beside `path` (waiting while another process holds it); returns its release. */
async function lockFile(path: string): Promise<() => Promise<void>> {
	const lock = `${path}.lock`;
	const deadline = Date.now() + LOCK_WAIT_MS;
	for (let wait = 5; ; wait = Math.min(wait * 2, 200)) {
		try {
			const handle = await open(lock, 'wx', 0o600);
			await handle.writeFile(String(process.pid));
			await handle.close();
			return () => rm(lock, { force: true });
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
		}
		const held = await stat(lock).catch(() => undefined);
		if (held !== undefined && Date.now() - held.mtimeMs > STALE_LOCK_MS) {
			await rm(lock, { force: true });
			continue;
		}
		if (Date.now() > deadline) throw new ApiKeysLockedError(`${lock} is held by another process; remove it if no relay or api-key command is running`);
		await new Promise((resolve) => setTimeout(resolve, wait));
	}
}

/** `<data>/api-keys.json` exists but is not a key list. */
export class ApiKeysFileError extends Error {
	override name = 'ApiKeysFileError';
}

const KEY_PATTERN = /^sk-outpost-([0-9a-f]{12})-([A-Za-z0-9_-]{43})$/;

function sha256(text: string): string {
	return createHash('sha256').update(text).digest('hex');
}

/** The keys of one data directory; see the module comment. */
export class ApiKeyStore {
	readonly path: string;
	private cached: { stamp: string; keys: ApiKeyEntry[] } | undefined;

	constructor(readonly dataDir: string) {
		this.path = apiKeysPath(dataDir);
	}

	/** The stored keys (none when the file does not exist). */
	async list(): Promise<ApiKeyEntry[]> {
		let stamp: string;
		try {
			const info = await stat(this.path);
			stamp = `${info.ino}:${info.size}:${info.mtimeMs}`;
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
			throw error;
		}
		if (this.cached?.stamp === stamp) return this.cached.keys;
		const keys = parseKeys(await readFile(this.path, 'utf8'), this.path);
		this.cached = { stamp, keys };
		return keys;
	}

	/** Creates a key; the returned `key` is the only time its secret exists in the clear. */
	async create(name = '', origin?: ApiKeyOrigin): Promise<{ key: string; entry: ApiKeyEntry }> {
		const id = randomBytes(6).toString('hex');
		const key = `sk-outpost-${id}-${randomBytes(32).toString('base64url')}`;
		const entry: ApiKeyEntry = {
			id,
			name: name.trim().slice(0, 200),
			createdAt: new Date().toISOString(),
			hash: sha256(key),
			...(origin ? { workspace: origin.workspace, createdBy: origin.createdBy } : {})
		};
		await this.change((keys) => [...keys, entry]);
		return { key, entry };
	}

	/** Revokes the key with this id; false when there is none. */
	async revoke(id: string): Promise<boolean> {
		let found = false;
		await this.change((keys) => {
			const kept = keys.filter((k) => k.id !== id);
			found = kept.length !== keys.length;
			return found ? kept : undefined;
		});
		return found;
	}

	/**
	 * Reads the list, applies `edit` and writes the result (nothing when `edit` gives
	 * undefined), holding the lock from the read to the write: see the module comment.
	 */
	private change(edit: (keys: ApiKeyEntry[]) => ApiKeyEntry[] | undefined): Promise<void> {
		return serially(this.path, async () => {
			await mkdir(this.dataDir, { recursive: true });
			const release = await lockFile(this.path);
			try {
				this.cached = undefined; // another process may have written since
				const next = edit(await this.list());
				if (next !== undefined) await this.save(next);
			} finally {
				await release();
			}
		});
	}

	/** The entry of a presented key, or `undefined` when it is not a valid, unrevoked key. */
	async verify(key: string): Promise<ApiKeyEntry | undefined> {
		const id = KEY_PATTERN.exec(key)?.[1];
		if (id === undefined) return undefined;
		const entry = (await this.list()).find((k) => k.id === id);
		if (!entry) return undefined;
		const presented = Buffer.from(sha256(key), 'hex');
		const stored = Buffer.from(entry.hash, 'hex');
		return stored.length === presented.length && timingSafeEqual(stored, presented) ? entry : undefined;
	}

	/** Writes the list atomically, readable by this user only. */
	private async save(keys: ApiKeyEntry[]): Promise<void> {
		await mkdir(this.dataDir, { recursive: true });
		const temporary = `${this.path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
		await writeFile(temporary, `${JSON.stringify({ version: 1, keys }, null, '\t')}\n`, { mode: 0o600 });
		await chmod(temporary, 0o600); // mode applies only to a new file; the umask may narrow it, never widen
		await rename(temporary, this.path);
		this.cached = undefined;
	}
}

function parseKeys(text: string, path: string): ApiKeyEntry[] {
	let body: unknown;
	try {
		body = JSON.parse(text);
	} catch {
		throw new ApiKeysFileError(`${path} is not valid JSON; fix or remove it`);
	}
	const keys = typeof body === 'object' && body !== null ? (body as { keys?: unknown }).keys : undefined;
	if (!Array.isArray(keys)) throw new ApiKeysFileError(`${path} holds no "keys" list; fix or remove it`);
	return keys.filter(
		(k): k is ApiKeyEntry =>
			typeof k === 'object' &&
			k !== null &&
			typeof k.id === 'string' &&
			typeof k.name === 'string' &&
			typeof k.createdAt === 'string' &&
			typeof k.hash === 'string' &&
			/^[0-9a-f]{64}$/.test(k.hash) &&
			(k.workspace === undefined || typeof k.workspace === 'string') &&
			(k.createdBy === undefined || typeof k.createdBy === 'string')
	);
}

/** Usage of the `api-key` command. */
export const API_KEY_USAGE = `Usage: npm run relay -- api-key create [--name NAME] [--data DIR]
       npm run relay -- api-key list [--data DIR]
       npm run relay -- api-key revoke <id> [--data DIR]

  Keys for the relay's OpenAI-compatible API (/v1/models, /v1/chat/completions),
  sent as "Authorization: Bearer <key>". A new key is printed once; only its hash is kept.`;

/** What `api-key` was asked to do. */
export type ApiKeyCommand =
	| { action: 'create'; name: string; dataDir: string }
	| { action: 'list'; dataDir: string }
	| { action: 'revoke'; id: string; dataDir: string };

/**
 * Parses the arguments after `api-key`.
 * @throws {UsageError} on a missing or unknown action, a stray argument or an unknown flag.
 */
export function parseApiKeyArgs(argv: readonly string[]): ApiKeyCommand {
	let parsed;
	try {
		parsed = parseArgs({
			args: [...argv],
			strict: true,
			allowPositionals: true,
			options: { data: { type: 'string' }, name: { type: 'string' } }
		});
	} catch (error) {
		throw new UsageError(error instanceof Error ? error.message : String(error));
	}
	const { values, positionals } = parsed;
	const dataDir = values.data ?? DEFAULT_DATA_DIR;
	if (dataDir.trim() === '') throw new UsageError('--data needs a value');
	const [action, ...rest] = positionals;
	if (values.name !== undefined && action !== 'create') throw new UsageError('--name goes with api-key create');
	if (action === 'create' && rest.length === 0) return { action, name: values.name ?? '', dataDir };
	if (action === 'list' && rest.length === 0) return { action, dataDir };
	if (action === 'revoke' && rest.length === 1) return { action, id: rest[0]!, dataDir };
	if (action === 'revoke') throw new UsageError('api-key revoke needs exactly one key id (api-key list shows them)');
	if (action === undefined) throw new UsageError('api-key needs an action: create, list or revoke');
	if (['create', 'list'].includes(action)) throw new UsageError(`api-key ${action} takes no other arguments`);
	throw new UsageError(`api-key: unknown action "${action}"; use create, list or revoke`);
}

/** Runs `api-key`: returns the text to print. */
export async function runApiKeyCommand(command: ApiKeyCommand): Promise<string> {
	const store = new ApiKeyStore(command.dataDir);
	if (command.action === 'create') {
		const { key, entry } = await store.create(command.name);
		return [
			`New API key ${entry.id}${entry.name ? ` ("${entry.name}")` : ''}, stored hashed in ${store.path}.`,
			'Copy it now; it is not shown again:',
			'',
			`  ${key}`
		].join('\n');
	}
	if (command.action === 'revoke') {
		if (!(await store.revoke(command.id))) throw new UsageError(`no API key with id "${command.id}" (api-key list shows them)`);
		return `Revoked API key ${command.id}.`;
	}
	const keys = await store.list();
	if (keys.length === 0) return `No API keys in ${store.path}; create one with: npm run relay -- api-key create --name NAME`;
	return keys.map((k) => `${k.id}  ${k.createdAt.slice(0, 10)}  ${k.name}`).join('\n');
}
