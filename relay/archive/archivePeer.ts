/**
 * The relay as an archive peer: a {@link MeshService} on the relay's libp2p node syncing
 * every workspace in `<data>/workspaces.json`, each stored by an {@link ArchiveDocs}.
 *
 * Workspaces join in two ways while the relay runs:
 * - {@link ArchivePeer.add} (the HTTP API, api.ts) writes the list, then opens the archive and
 *   starts syncing it;
 * - `npm run relay -- join <invite>` writes the list from another process; the archive peer
 *   watches the data directory and, when `workspaces.json` changes, syncs every workspace it
 *   lists that is not synced yet. Watching (rather than having `join` post to the running
 *   relay) needs no port discovery and no credentials, and keeps the file the one source of
 *   truth; both writers hold the list's lock file (workspaces.ts), so neither loses an entry.
 *
 * Adds and re-reads of the list run one at a time, in order, so two adds of one workspace open
 * one archive. An add of a workspace that is archived already changes nothing; one that names
 * an archived workspace with another secret is refused ({@link ArchiveConflictError}), so
 * nobody who merely knows a workspace id can cut the relay off from it.
 */
import { timingSafeEqual } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { isId } from '../../src/lib/doc/ids.ts';
import { meshService, type MeshService, type MeshServiceComponents } from '../../src/lib/mesh/MeshService.ts';
import { SECRET_BYTES } from '../../src/lib/mesh/secret.ts';
import { ArchiveDocs } from './ArchiveDocs.ts';
import { notRevoked } from './roster.ts';
import { addArchivedWorkspace, readWorkspaces, workspacesPath, type ArchivedWorkspace } from './workspaces.ts';

/** The workspace is archived already, with a different secret. */
export class ArchiveConflictError extends Error {
	override name = 'ArchiveConflictError';
	constructor(readonly workspaceId: string) {
		super(`this relay already archives workspace ${workspaceId} with a different secret`);
	}
}

/** The archive peer was closed. */
export class ArchiveClosedError extends Error {
	override name = 'ArchiveClosedError';
	constructor() {
		super('the archive is closed');
	}
}

/** A workspace to archive. */
export interface WorkspaceToArchive {
	id: string;
	/** The workspace secret (32 bytes). */
	secret: Uint8Array;
	name?: string;
	/** Relay multiaddrs the invite named. */
	relays?: string[];
}

/** What {@link ArchivePeer.add} did. */
export interface AddResult {
	id: string;
	/** The name in the list (the first add's, when it was there already). */
	name: string;
	/** Whether the workspace is new to the list. */
	created: boolean;
}

/** A running archive peer. */
export interface ArchivePeer {
	mesh: MeshService;
	/** The open archives, by workspace id. */
	archives: Map<string, ArchiveDocs>;
	/**
	 * Archives a workspace: adds it to `workspaces.json` (unless there), opens its archive and
	 * starts syncing it. Idempotent; safe to call concurrently.
	 * @throws {ArchiveConflictError} when it is archived with another secret (nothing changes).
	 * @throws {WorkspaceLimitError} when the list is full (workspaces.ts).
	 * @throws {TypeError} for a malformed id or secret.
	 */
	add(workspace: WorkspaceToArchive): Promise<AddResult>;
	/** Whether workspace `id` is archived and synced now. */
	has(id: string): boolean;
	/** Re-reads `workspaces.json` and syncs what it lists (the watcher calls it on every change). */
	reload(): Promise<void>;
	/** Stops watching and syncing and closes every archive (after its pending writes). */
	close(): Promise<void>;
}

/** Default of how many workspaces {@link ArchivePeer.add} lets the list grow to. */
export const MAX_ARCHIVED_WORKSPACES = 1000;

/** Options of {@link startArchivePeer}. */
export interface ArchivePeerInit {
	/** Most workspaces `add` lets the list hold (WorkspaceLimitError beyond); default {@link MAX_ARCHIVED_WORKSPACES}. */
	maxWorkspaces?: number;
	/** Follow changes of `workspaces.json` made by other processes; default true. */
	watch?: boolean;
	/** Milliseconds to wait after a change before re-reading (a burst of events is one); default 50. */
	watchDelayMs?: number;
}

/** Opens every archived workspace and starts syncing them over `node`. */
export async function startArchivePeer(
	node: MeshServiceComponents['node'],
	dataDir: string,
	log: (line: string) => void,
	init: ArchivePeerInit = {}
): Promise<ArchivePeer> {
	const archives = new Map<string, ArchiveDocs>();
	// A member revoked in the archived roster gets no sync sessions (nor does anyone else on its key).
	const mesh = meshService({ isAllowed: (workspaceId, peerId) => notRevoked(archives, workspaceId, peerId) })({ node });
	const secrets = new Map<string, Uint8Array>();
	let closed = false;
	let watcher: FSWatcher | undefined;
	let timer: ReturnType<typeof setTimeout> | undefined;
	/** Adds and reloads, one at a time. */
	let queue: Promise<unknown> = Promise.resolve();
	const serially = <T>(task: () => Promise<T>): Promise<T> => {
		const result = queue.then(() => {
			if (closed) throw new ArchiveClosedError();
			return task();
		});
		queue = result.catch(() => undefined);
		return result;
	};

	/** Opens and syncs a listed workspace (or takes a new secret for one synced already). */
	const follow = async ({ id, secret, name }: ArchivedWorkspace): Promise<void> => {
		const docs = archives.get(id);
		if (docs !== undefined) {
			if (sameBytes(secrets.get(id), secret)) return;
			// Only the operator (join, or an edit of the file) can change a secret.
			await mesh.removeWorkspace(id);
			await mesh.addWorkspace({ id, secret, docs });
			secrets.set(id, secret);
			log(`Archive ${id}: new secret from ${workspacesPath(dataDir)}`);
			return;
		}
		const opened = await ArchiveDocs.open(dataDir, id, {
			onRecovered: ({ docId, droppedBytes }) =>
				log(`Archive ${id}: document ${docId} had a torn tail of ${droppedBytes} bytes (dropped; earlier updates kept)`)
		});
		archives.set(id, opened);
		secrets.set(id, secret);
		await mesh.addWorkspace({ id, secret, docs: opened });
		log(`Archiving workspace ${name ? `"${name}" ` : ''}${id} (${opened.list().length} documents)`);
	};

	const reload = (): Promise<void> =>
		serially(async () => {
			for (const workspace of await readWorkspaces(dataDir)) {
				// One archive that cannot open (a disk error) does not keep the others from syncing.
				await follow(workspace).catch((error: unknown) => log(`Could not archive workspace ${workspace.id}: ${messageOf(error)}`));
			}
		});

	const add = (workspace: WorkspaceToArchive): Promise<AddResult> => {
		if (!isId(workspace.id)) return Promise.reject(new TypeError(`not a workspace id: ${workspace.id}`));
		if (workspace.secret.length !== SECRET_BYTES) return Promise.reject(new TypeError(`a secret has ${SECRET_BYTES} bytes`));
		return serially(async () => {
			const { workspace: listed, added } = await addArchivedWorkspace(
				dataDir,
				{ workspaceId: workspace.id, secret: workspace.secret, name: workspace.name ?? '', relays: workspace.relays ?? [] },
				{ keepExisting: true, maxWorkspaces: init.maxWorkspaces ?? MAX_ARCHIVED_WORKSPACES }
			);
			if (!sameBytes(listed.secret, workspace.secret)) throw new ArchiveConflictError(workspace.id);
			await follow(listed);
			return { id: listed.id, name: listed.name, created: added };
		});
	};

	/** Re-reads the list shortly after it changes; without a watcher (inotify exhausted) joins wait for a restart. */
	const watchList = (): FSWatcher | undefined => {
		const changed = (_event: string, file: string | null): void => {
			if (closed || (file !== null && file !== 'workspaces.json')) return;
			clearTimeout(timer);
			timer = setTimeout(() => {
				reload().catch((error: unknown) => {
					if (!(error instanceof ArchiveClosedError)) log(`Could not read the workspace list: ${messageOf(error)}`);
				});
			}, init.watchDelayMs ?? 50);
		};
		try {
			// The list is replaced by a rename: watch its directory, not the file.
			const watching = watch(dataDir, { persistent: false }, changed);
			watching.on('error', (error) => log(`Stopped watching ${workspacesPath(dataDir)}: ${error.message}`));
			return watching;
		} catch (error) {
			log(`Cannot watch ${workspacesPath(dataDir)} (${messageOf(error)}): workspaces joined from the command line sync from the next start`);
			return undefined;
		}
	};

	const close = async (): Promise<void> => {
		closed = true;
		watcher?.close();
		clearTimeout(timer);
		await queue;
		await mesh.stop();
		for (const archive of archives.values()) await archive.close();
	};

	try {
		await mesh.start();
		for (const workspace of await readWorkspaces(dataDir)) await follow(workspace);
		if (init.watch ?? true) watcher = watchList();
	} catch (error) {
		await close();
		throw error;
	}
	return { mesh, archives, add, has: (id) => archives.has(id), reload, close };
}

/** Compares secrets in constant time (the API must not tell a guess's right prefix by timing). */
function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
	return a !== undefined && a.length === b.length && timingSafeEqual(a, b);
}

function messageOf(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}
