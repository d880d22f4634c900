/**
 * API keys of the relay's OpenAI-compatible `/v1` endpoints, kept hashed in the relay's
 * database (`<data>/relay.db`, table `api_keys`: relay/archive/relayDb.ts), and the
 * `npm run relay -- api-key …` command that manages them on a headless box; the workspace
 * owner creates them in the app too (keysApi.ts).
 *
 * A key is `sk-outpost-<id>-<secret>`: the id finds the entry (and names the key in `list`
 * and `revoke`), the secret is 32 random bytes. Only SHA-256 of the whole key is stored (a
 * key is random, not a password, so a slow hash would add nothing); it is shown once, when
 * created. Every check reads the table, so a key created or revoked from the command line
 * (another process on the same database) takes effect at once.
 *
 * Each change is one SQLite statement, atomic and serialised by SQLite's own locking across
 * processes: a revoke and a create at once both take effect, and nothing half-written is
 * ever read. (Before the database, keys were kept in `api-keys.json`; it is moved in on
 * first use.)
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import Database from 'better-sqlite3';
import { readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_DATA_DIR } from '../cli.ts';
import { UsageError } from '../errors.ts';
import { DB_FILE, useRelayDb } from '../archive/relayDb.ts';

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
	/** For a key made in the app: whether the operator shares the relay's own models with its workspace. */
	relayModels?: boolean;
}

/** Who made a key in the app: its workspace and the member's peer id. */
export interface ApiKeyOrigin {
	workspace: string;
	createdBy: string;
}

/** `<data>/api-keys.json`: where the keys were kept before the relay's database; moved in on first use. */
export function apiKeysPath(dataDir: string): string {
	return join(dataDir, 'api-keys.json');
}

/** `<data>/api-keys.json` exists but is not a key list: it is left where it is, and nothing is moved. */
export class ApiKeysFileError extends Error {
	override name = 'ApiKeysFileError';
}

const KEY_PATTERN = /^sk-outpost-([0-9a-f]{12})-([A-Za-z0-9_-]{43})$/;

function sha256(text: string): string {
	return createHash('sha256').update(text).digest('hex');
}

const SCHEMA = `CREATE TABLE IF NOT EXISTS api_keys (
	id TEXT PRIMARY KEY,
	name TEXT NOT NULL,
	created_at TEXT NOT NULL,
	hash TEXT NOT NULL,
	workspace TEXT,
	created_by TEXT
)`;

interface KeyRow {
	id: string;
	name: string;
	created_at: string;
	hash: string;
	workspace: string | null;
	created_by: string | null;
}

function entryOf(row: KeyRow): ApiKeyEntry {
	return {
		id: row.id,
		name: row.name,
		createdAt: row.created_at,
		hash: row.hash,
		...(row.workspace !== null ? { workspace: row.workspace } : {}),
		...(row.created_by !== null ? { createdBy: row.created_by } : {})
	};
}

/** The keys of one data directory; see the module comment. */
export class ApiKeyStore {
	private opened: { db: Database.Database; release: () => void } | undefined;

	constructor(readonly dataDir: string) {}

	/** Where the keys live (the relay's database), for messages. */
	get path(): string {
		return join(this.dataDir, DB_FILE);
	}

	/** The relay database, opened on first use, with the table made and an old key file moved in. */
	private db(): Database.Database {
		if (this.opened === undefined) {
			const { relayDb, release } = useRelayDb(this.dataDir);
			try {
				relayDb.db.exec(SCHEMA);
				moveKeyFile(relayDb.db, this.dataDir);
			} catch (error) {
				release();
				throw error;
			}
			this.opened = { db: relayDb.db, release };
		}
		return this.opened.db;
	}

	/** The stored keys, oldest first. */
	async list(): Promise<ApiKeyEntry[]> {
		return this.db().prepare<[], KeyRow>('SELECT * FROM api_keys ORDER BY created_at, id').all().map(entryOf);
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
		this.db()
			.prepare('INSERT INTO api_keys (id, name, created_at, hash, workspace, created_by) VALUES (?, ?, ?, ?, ?, ?)')
			.run(entry.id, entry.name, entry.createdAt, entry.hash, entry.workspace ?? null, entry.createdBy ?? null);
		return { key, entry };
	}

	/** Revokes the key with this id; false when there is none. */
	async revoke(id: string): Promise<boolean> {
		return this.db().prepare('DELETE FROM api_keys WHERE id = ?').run(id).changes > 0;
	}

	/** The entry of a presented key, or `undefined` when it is not a valid, unrevoked key. */
	async verify(key: string): Promise<ApiKeyEntry | undefined> {
		const id = KEY_PATTERN.exec(key)?.[1];
		if (id === undefined) return undefined;
		const row = this.db().prepare<[string], KeyRow>('SELECT * FROM api_keys WHERE id = ?').get(id);
		if (row === undefined) return undefined;
		const presented = Buffer.from(sha256(key), 'hex');
		const stored = Buffer.from(row.hash, 'hex');
		return stored.length === presented.length && timingSafeEqual(stored, presented) ? entryOf(row) : undefined;
	}

	/** Lets go of the database (the store opens it again if used). */
	close(): void {
		this.opened?.release();
		this.opened = undefined;
	}
}

/**
 * Moves the keys of `<data>/api-keys.json` (the relay before its database) into the table in
 * one transaction, then renames the file `api-keys.json.migrated` so it is not read again.
 * @throws {ApiKeysFileError} when the file is not a key list (it stays, nothing moves).
 */
function moveKeyFile(db: Database.Database, dataDir: string): void {
	const path = apiKeysPath(dataDir);
	let text: string;
	try {
		text = readFileSync(path, 'utf8');
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
		throw error;
	}
	const keys = parseKeys(text, path);
	const insert = db.prepare('INSERT OR IGNORE INTO api_keys (id, name, created_at, hash, workspace, created_by) VALUES (?, ?, ?, ?, ?, ?)');
	db.transaction(() => {
		for (const k of keys) insert.run(k.id, k.name, k.createdAt, k.hash, k.workspace ?? null, k.createdBy ?? null);
	})();
	renameSync(path, `${path}.migrated`);
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
	try {
		return await apiKeyCommand(store, command);
	} finally {
		store.close();
	}
}

async function apiKeyCommand(store: ApiKeyStore, command: ApiKeyCommand): Promise<string> {
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
