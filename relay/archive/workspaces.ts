/**
 * The workspaces this relay archives (id, secret, name, relays, and team operations to seed
 * its roster with: the relay's own admission written by `join`), kept in `<data>/workspaces.json`.
 * The file holds secrets, so it is written with mode 0600, and atomically: a temp file is
 * written and fsynced, then renamed over the old one, so a crash leaves one or the other.
 *
 * Two processes may change the list at once (a running relay adding a workspace through its
 * HTTP API, and `npm run relay -- join`): {@link addArchivedWorkspace} reads, changes and
 * writes it while holding `workspaces.json.lock` (created exclusively, holding the pid), so
 * neither loses the other's entry. A lock left by a process that died is broken.
 */
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isId } from '../../src/lib/doc/ids.ts';
import type { Invite } from '../../src/lib/mesh/invite.ts';
import { decodeSecret, encodeSecret } from '../../src/lib/mesh/secret.ts';
import { syncDir } from './updateLog.ts';

/** A workspace the relay archives. */
export interface ArchivedWorkspace {
	id: string;
	secret: Uint8Array;
	name: string;
	/** Relays the invite named (dialled to catch up). */
	relays: string[];
	/**
	 * Encoded team operations added to the workspace's roster when the relay opens it (the
	 * relay's admission, written by `join` in another process); checked when folded like
	 * any other. Usually none.
	 */
	ops: Uint8Array[];
	/**
	 * The address (rateLimit.ts `addressKey`) whose archive request first listed the workspace;
	 * absent for one joined from the command line or listed before addresses were kept. A
	 * relay lets one address list only so many ({@link AddressArchiveLimitError}).
	 */
	requestedBy?: string;
}

/** What {@link addArchivedWorkspace} adds: an invite's fields, and operations to seed the roster with. */
export interface WorkspaceEntry extends Pick<Invite, 'workspaceId' | 'secret' | 'name' | 'relays'> {
	ops?: Uint8Array[];
	/** The address asking, for a new entry (kept as the entry's {@link ArchivedWorkspace.requestedBy}). */
	requestedBy?: string;
}

/** `<data>/workspaces.json` exists but cannot be read as a list of workspaces. */
export class WorkspaceListError extends Error {
	override name = 'WorkspaceListError';
}

/** The list holds as many workspaces as it may; nothing was added. */
export class WorkspaceLimitError extends Error {
	override name = 'WorkspaceLimitError';
	constructor(readonly limit: number) {
		super(`this relay archives ${limit} workspaces, the most it will; remove one from workspaces.json first`);
	}
}

/** The address has asked for as many archives as one address may; nothing was added. */
export class AddressArchiveLimitError extends Error {
	override name = 'AddressArchiveLimitError';
	constructor(readonly limit: number) {
		super(`this relay archives ${limit} workspaces asked for from your address, the most it archives for one address; ask the relay's operator to remove one or to raise --archives-per-address`);
	}
}

/** The path of the list under `dataDir`. */
export function workspacesPath(dataDir: string): string {
	return join(dataDir, 'workspaces.json');
}

interface StoredWorkspace {
	id: string;
	secret: string;
	name: string;
	relays: string[];
	ops?: string[];
	requestedBy?: string;
}

/**
 * The archived workspaces; none when the file does not exist.
 * @throws {WorkspaceListError} when the file is not a valid list.
 */
export async function readWorkspaces(dataDir: string): Promise<ArchivedWorkspace[]> {
	const path = workspacesPath(dataDir);
	let text: string;
	try {
		text = await readFile(path, 'utf8');
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
		throw error;
	}
	try {
		const parsed = JSON.parse(text) as { workspaces?: unknown };
		if (!Array.isArray(parsed.workspaces)) throw new Error('no "workspaces" array');
		return parsed.workspaces.map((entry: StoredWorkspace) => {
			const secret = decodeSecret(String(entry.secret));
			if (!isId(entry.id)) throw new Error(`bad entry ${JSON.stringify(entry.id)}`);
			return {
				id: entry.id,
				secret,
				name: typeof entry.name === 'string' ? entry.name : '',
				relays: Array.isArray(entry.relays) ? entry.relays.filter((r) => typeof r === 'string') : [],
				ops: Array.isArray(entry.ops) ? entry.ops.filter((o) => typeof o === 'string').map((o) => new Uint8Array(Buffer.from(o, 'base64'))) : [],
				...(typeof entry.requestedBy === 'string' ? { requestedBy: entry.requestedBy } : {})
			};
		});
	} catch (error) {
		throw new WorkspaceListError(`${path}: ${error instanceof Error ? error.message : String(error)}`);
	}
}

/** Writes `text` to `path` atomically (temp file, fsync, rename, fsync of the directory) with mode 0600. */
export async function writeFileAtomic(path: string, text: string, dir: string): Promise<void> {
	const temp = `${path}.tmp`;
	const file = await open(temp, 'w', 0o600);
	try {
		await file.chmod(0o600); // the mode of open() applies only to a new file
		await file.writeFile(text);
		await file.sync();
	} finally {
		await file.close();
	}
	await rename(temp, path);
	await syncDir(dir);
}

/** Replaces the list with `workspaces` (creating `dataDir` when missing). */
export async function writeWorkspaces(dataDir: string, workspaces: readonly ArchivedWorkspace[]): Promise<void> {
	await mkdir(dataDir, { recursive: true });
	const stored: StoredWorkspace[] = workspaces.map((w) => ({
		id: w.id,
		secret: encodeSecret(w.secret),
		name: w.name,
		relays: w.relays,
		...(w.ops.length > 0 ? { ops: w.ops.map((op) => Buffer.from(op).toString('base64')) } : {}),
		...(w.requestedBy !== undefined ? { requestedBy: w.requestedBy } : {})
	}));
	await writeFileAtomic(workspacesPath(dataDir), `${JSON.stringify({ version: 1, workspaces: stored }, null, '\t')}\n`, dataDir);
}

/** Options of {@link addArchivedWorkspace}. */
export interface AddWorkspaceOptions {
	/**
	 * Leave an entry that is there already untouched (and return it) instead of refreshing its
	 * name, secret and relays; the file is then not written at all. Default false.
	 */
	keepExisting?: boolean;
	/** Refuse a new workspace when the list holds this many ({@link WorkspaceLimitError}); default: no limit. */
	maxWorkspaces?: number;
	/**
	 * Refuse a new workspace asked for from the entry's `requestedBy` when the list holds this
	 * many asked for from that address ({@link AddressArchiveLimitError}); default: no limit.
	 */
	maxPerAddress?: number;
}

/** How many workspaces of `list` were asked for from `address`. */
export function requestedFrom(list: readonly ArchivedWorkspace[], address: string): number {
	let n = 0;
	for (const w of list) if (w.requestedBy === address) n++;
	return n;
}

/**
 * Adds the workspace of `invite` to the list (or refreshes its name, secret and relays when
 * it is there already, unless `keepExisting`; its operations are then added to those listed).
 * Returns the entry now in the list and whether it is new.
 */
export async function addArchivedWorkspace(
	dataDir: string,
	invite: WorkspaceEntry,
	options: AddWorkspaceOptions = {}
): Promise<{ workspace: ArchivedWorkspace; added: boolean }> {
	await mkdir(dataDir, { recursive: true });
	return withListLock(dataDir, async () => {
		const workspaces = await readWorkspaces(dataDir);
		const at = workspaces.findIndex((w) => w.id === invite.workspaceId);
		const existing = at >= 0 ? workspaces[at] : undefined;
		if (existing !== undefined && options.keepExisting === true) return { workspace: existing, added: false };
		const ops = [...(existing?.ops ?? [])];
		for (const op of invite.ops ?? []) if (!ops.some((o) => Buffer.from(o).equals(op))) ops.push(op);
		// Who first asked stays: a refresh from elsewhere does not move the entry to its address.
		const requestedBy = existing === undefined ? invite.requestedBy : existing.requestedBy;
		const workspace: ArchivedWorkspace = { id: invite.workspaceId, secret: invite.secret, name: invite.name, relays: invite.relays, ops, ...(requestedBy !== undefined ? { requestedBy } : {}) };
		if (at < 0 && options.maxWorkspaces !== undefined && workspaces.length >= options.maxWorkspaces) {
			throw new WorkspaceLimitError(options.maxWorkspaces);
		}
		if (at < 0 && requestedBy !== undefined && options.maxPerAddress !== undefined && requestedFrom(workspaces, requestedBy) >= options.maxPerAddress) {
			throw new AddressArchiveLimitError(options.maxPerAddress);
		}
		if (at >= 0) workspaces[at] = workspace;
		else workspaces.push(workspace);
		await writeWorkspaces(dataDir, workspaces);
		return { workspace, added: at < 0 };
	});
}

/** How long a lock may be waited for before giving up. */
const LOCK_WAIT_MS = 10_000;
/** A lock older than this is taken as left behind even if its pid lives (a reused pid). */
const LOCK_STALE_MS = 60_000;

/** Runs `task` while holding `<data>/workspaces.json.lock`. */
async function withListLock<T>(dataDir: string, task: () => Promise<T>): Promise<T> {
	const path = `${workspacesPath(dataDir)}.lock`;
	const until = Date.now() + LOCK_WAIT_MS;
	for (;;) {
		try {
			const file = await open(path, 'wx', 0o600);
			try {
				await file.writeFile(String(process.pid));
			} finally {
				await file.close();
			}
			break;
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
			if (await isStaleLock(path)) {
				await rm(path, { force: true });
				continue;
			}
			if (Date.now() > until) {
				throw new WorkspaceListError(`${path} is held by another process; remove it if no relay or join command is running`);
			}
			await new Promise((resolve) => setTimeout(resolve, 20));
		}
	}
	try {
		return await task();
	} finally {
		await rm(path, { force: true });
	}
}

/** Whether the lock at `path` was left by a process that is gone (or is very old). */
async function isStaleLock(path: string): Promise<boolean> {
	let text: string;
	let age: number;
	try {
		[text, age] = await Promise.all([readFile(path, 'utf8'), stat(path).then((s) => Date.now() - s.mtimeMs)]);
	} catch {
		return false; // just released: try again
	}
	if (age > LOCK_STALE_MS) return true;
	const pid = Number(text);
	// Being written right now: the holder has not put its pid in yet.
	if (text === '' || !Number.isInteger(pid) || pid <= 0) return age > 1000;
	if (pid === process.pid) return false;
	try {
		process.kill(pid, 0);
		return false;
	} catch (error) {
		return (error as NodeJS.ErrnoException).code === 'ESRCH';
	}
}
