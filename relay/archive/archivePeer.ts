/**
 * The relay as an archive peer: a {@link MeshService} on the relay's libp2p node syncing
 * every workspace in `<data>/workspaces.json` through the workspace core ({@link OutpostCore},
 * as the browser and tests/mesh/teamPeers.ts build it): per workspace its documents in an
 * {@link ArchiveDocs}, a TeamAuthority over the roster document (signing with the relay's
 * libp2p key: the relay is a member device of the team), and a gossip keyring kept in step by
 * the key keeper. Sessions, gossip, the model host and API keys all ask that authority.
 *
 * Workspaces join in two ways while the relay runs:
 * - {@link ArchivePeer.request} (the HTTP API, api.ts): an admin's device sends the team's
 *   operations, in which it added this relay; they are checked (teamCheck.ts), seeded into
 *   the roster, the workspace is listed and syncs at once;
 * - `npm run relay -- join <invite>` lists the workspace with the relay's own admission from
 *   another process; the archive peer watches the data directory and, when `workspaces.json`
 *   changes, syncs every workspace it lists that is not synced yet, presenting the admission
 *   to members in HELLO. Both writers hold the list's lock file (workspaces.ts).
 *
 * Requests and re-reads of the list run one at a time, in order; a request that finds
 * {@link ArchivePeerInit.maxPendingRequests} tasks waiting already is refused at once
 * ({@link ArchiveBusyError}; the first of a burst is logged).
 */
import { watch, type FSWatcher } from 'node:fs';
import type { Libp2p, PrivateKey } from '@libp2p/interface';
import * as Y from 'yjs';
import { OutpostCore, sameSecret, type CoreWorkspace } from '../../src/lib/core/OutpostCore.ts';
import { TEAM_WRITE_ORIGIN, type TeamAuthority, type TeamDevice } from '../../src/lib/core/TeamAuthority.ts';
import { isId } from '../../src/lib/doc/ids.ts';
import { decodeOp, TeamRole, type TeamOp } from '../../src/lib/doc/team/ops.ts';
import { addTeamOp } from '../../src/lib/doc/team/TeamDoc.ts';
import { meshService, type MeshService, type MeshServiceComponents } from '../../src/lib/mesh/MeshService.ts';
import { SECRET_BYTES } from '../../src/lib/mesh/secret.ts';
import { BlobMesh } from '../../src/lib/core/blobMesh.ts';
import { ArchiveDocs, WorkspaceQuotaError } from './ArchiveDocs.ts';
import { DiskBound, MAX_RELAY_BYTES, RelayFullError } from './diskBound.ts';
import { SqliteBlobStore, SqliteSealedBlobIndex } from './SqliteBlobStore.ts';
import { useRelayDb } from './relayDb.ts';
import { MAX_SEALED_BYTES, SealedLog } from './SealedLog.ts';
import { MAX_PENDING_TASKS, SerialQueue } from './serialQueue.ts';
import { checkArchiveRequest } from './teamCheck.ts';
import { onceEach } from '../onceEach.ts';
import { AddressArchiveLimitError, addArchivedWorkspace, readWorkspaces, requestedFrom, WorkspaceLimitError, workspacesPath, type ArchivedWorkspace } from './workspaces.ts';

/** The archive peer was closed. */
export class ArchiveClosedError extends Error {
	override name = 'ArchiveClosedError';
	constructor() {
		super('the archive is closed');
	}
}

/** Too many archive requests are waiting already: the relay takes this one later (HTTP 503). */
export class ArchiveBusyError extends Error {
	override name = 'ArchiveBusyError';
	constructor(readonly waiting: number) {
		super(`the relay is busy with ${waiting} other archive requests: try again in a few seconds`);
	}
}

/** An archive request whose signature the HTTP layer checked. */
export interface ArchiveRequest {
	id: string;
	/** The workspace secret (32 bytes): its gossip topic and legacy key. */
	secret: Uint8Array;
	name?: string;
	/** Relay multiaddrs to list with it. */
	relays?: string[];
	/** The team's operations as the signer's device holds them. */
	ops: TeamOp[];
	/** The peer id that signed the request. */
	signer: string;
	/** The address it came from (rateLimit.ts `addressKey`); a new workspace is counted against it. */
	from?: string;
}

/** What {@link ArchivePeer.request} did. */
export interface AddResult {
	id: string;
	/** The name in the list. */
	name: string;
	/** Whether the workspace is new to the list. */
	created: boolean;
	/** Whether an archived workspace took the request's secret (see {@link ArchivePeer.request}). */
	secretReplaced: boolean;
}

/** A running archive peer. */
export interface ArchivePeer {
	mesh: MeshService;
	/** The workspace core of the archived workspaces. */
	core: OutpostCore<ArchiveDocs>;
	/** The open archives, by workspace id. */
	archives: Map<string, ArchiveDocs>;
	/** The team of an archived workspace, as this relay folds it. */
	authority(id: string): TeamAuthority | undefined;
	/**
	 * Archives a workspace for an admin: checks the request's team (teamCheck.ts, with the
	 * operations held already), adds its operations to the roster, lists the workspace and
	 * syncs it. For a workspace archived already the operations are merged, and a different
	 * secret replaces the listed one: the secret no longer admits anyone (the team does), so
	 * a current admin, as this relay folds the team, may correct it. Safe to call concurrently.
	 * @throws {ArchiveRefusedError} when the team does not allow it (nothing is stored).
	 * @throws {WorkspaceLimitError} when the list is full (workspaces.ts).
	 * @throws {WorkspaceQuotaError} or {@link RelayFullError} when the request's new operations do
	 *   not fit the workspace's byte quota or what the relay stores in all (nothing is stored).
	 * @throws {ArchiveBusyError} when `maxPendingRequests` requests and re-reads are waiting already.
	 * @throws {TypeError} for a malformed id or secret.
	 */
	request(request: ArchiveRequest): Promise<AddResult>;
	/** Whether workspace `id` is archived and synced now. */
	has(id: string): boolean;
	/** The blobs the relay serves, and pins for the workspaces it archives (within the blob quota). */
	blobs: BlobMesh;
	/** Re-reads `workspaces.json` and syncs what it lists (the watcher calls it on every change). */
	reload(): Promise<void>;
	/** Stops watching and syncing and closes every archive (after its pending writes). */
	close(): Promise<void>;
}

/** Default of how many workspaces {@link ArchivePeer.request} lets the list grow to. */
export const MAX_ARCHIVED_WORKSPACES = 1000;
/**
 * Default of how many workspaces archive requests from one address may list. Anyone on the LAN
 * can make a team with this relay in it and ask: without a share per address, one stranger
 * took every slot of the list (found in review) and the real teams got 507.
 */
export const MAX_ARCHIVES_PER_ADDRESS = 16;

/** Default of how many bytes of blobs the relay pins per workspace (beyond, members serve them from their devices). */
export const MAX_WORKSPACE_BLOB_BYTES = 4 * 1024 ** 3;

/** Options of {@link startArchivePeer}. */
export interface ArchivePeerInit {
	/** The relay's started libp2p node (it also serves and fetches blobs). */
	node: MeshServiceComponents['node'] & Pick<Libp2p, 'dialProtocol'>;
	/** The node's private key: the relay's device key in every team. */
	privateKey: PrivateKey;
	dataDir: string;
	log: (line: string) => void;
	/** Most workspaces `request` lets the list hold (WorkspaceLimitError beyond); default {@link MAX_ARCHIVED_WORKSPACES}. */
	maxWorkspaces?: number;
	/** Most workspaces requests from one address may list (AddressArchiveLimitError beyond); default {@link MAX_ARCHIVES_PER_ADDRESS}. */
	maxArchivesPerAddress?: number;
	/** Most bytes of records one archived workspace may take; default `MAX_WORKSPACE_BYTES` (ArchiveDocs.ts). */
	maxWorkspaceBytes?: number;
	/** Most documents one archived workspace may hold; default `MAX_DOCS` (ArchiveDocs.ts). */
	maxWorkspaceDocs?: number;
	/** Most bytes of blobs one archived workspace may pin; default {@link MAX_WORKSPACE_BLOB_BYTES}. */
	maxWorkspaceBlobBytes?: number;
	/** Most bytes the relay's database holds in all, every workspace together (diskBound.ts); default `MAX_RELAY_BYTES`. */
	maxRelayBytes?: number;
	/** Most requests and re-reads waiting or running before a request is refused (ArchiveBusyError); default {@link MAX_PENDING_TASKS}. */
	maxPendingRequests?: number;
	/** Follow changes of `workspaces.json` made by other processes; default true. */
	watch?: boolean;
	/** Milliseconds to wait after a change before re-reading (a burst of events is one); default 50. */
	watchDelayMs?: number;
}

/** Opens every archived workspace and starts syncing them over `init.node`. */
export async function startArchivePeer(init: ArchivePeerInit): Promise<ArchivePeer> {
	const { node, dataDir, log } = init;
	const device: TeamDevice = { peerId: node.peerId.toString(), privateKey: init.privateKey };
	const archives = new Map<string, ArchiveDocs>();
	/** What the relay stores in all, once its database is open (below). */
	let diskBound: DiskBound | undefined;
	const bound: Pick<DiskBound, 'check' | 'fits'> = {
		check: (bytes, what) => diskBound?.check(bytes, what),
		fits: (bytes, what) => diskBound?.fits(bytes, what) ?? true
	};
	// Who may sync is the team's call (the authority of each workspace), not a list of its own.
	const mesh = meshService()({ node });
	const core = new OutpostCore<ArchiveDocs>({
		device,
		openDocs: ({ id }) =>
			ArchiveDocs.open(dataDir, id, {
				log,
				bound,
				...(init.maxWorkspaceBytes !== undefined ? { maxBytes: init.maxWorkspaceBytes } : {}),
				...(init.maxWorkspaceDocs !== undefined ? { maxDocs: init.maxWorkspaceDocs } : {}),
				onRecovered: ({ docId, droppedBytes }) =>
					log(`Archive ${id}: document ${docId} had ${droppedBytes} bytes of damaged records (kept aside in the database; every intact update kept)`)
			}),
		onError: (error, id) => log(`Archive ${id}: ${error.message}`),
		// Private spaces the relay is not in: kept sealed for their members.
		sealedLogs: (id) => {
			if (database === undefined) return undefined;
			const sealed = new SealedLog(database.relayDb.db, id, MAX_SEALED_BYTES, bound);
			// Once per workspace, not per refused put (a member could fill the log with them); the bound logs its own.
			let told = false;
			const onQuota = (error: Error) => {
				if (!told && !(error instanceof RelayFullError)) log(`Archive ${id}: ${error.message}; refusing more until there is room`);
				told ||= !(error instanceof RelayFullError);
			};
			return { storeFor: (mayUse) => sealed.storeFor(mayUse, onQuota) };
		}
	});
	// Every blob an archived document references, while the workspace's quota has room.
	const blobStores = new Map<string, SqliteBlobStore>();
	const blobStore = (id: string): SqliteBlobStore | undefined => {
		if (database === undefined || core.get(id) === undefined) return undefined;
		let store = blobStores.get(id);
		if (store === undefined) blobStores.set(id, (store = new SqliteBlobStore(database.relayDb, id, bound)));
		return store;
	};
	const maxBlobBytes = init.maxWorkspaceBlobBytes ?? MAX_WORKSPACE_BLOB_BYTES;
	/** Whether a workspace is told (in the log) for the first time that its blob quota is full. */
	const quotaFullTold = onceEach();
	const blobs = new BlobMesh({
		node,
		workspace: (id) => core.get(id),
		storeFor: blobStore,
		livePeers: (id) => mesh.livePeers(id),
		unproven: mesh.unproven, // one account with sync's, per connection and in total
		// A first look with the size the reference claims (0 for a sealed pin: not known yet)...
		pins: (id, ref) => {
			const store = blobStore(id);
			if (store === undefined) return false;
			if (store.bytes + ref.size <= maxBlobBytes) return bound.fits(ref.size, `blob ${ref.blob} of workspace ${id}`);
			// Once per workspace, not per reference (a member could post references by the thousand).
			if (quotaFullTold(id)) log(`Archive ${id}: blob ${ref.blob} (${ref.size} bytes) not pinned: the workspace's ${maxBlobBytes}-byte blob quota is full (said once; further blobs past it are not pinned either)`);
			return false;
		},
		// ...and the quota itself on the verified manifest's size, before any chunk is stored (a reference's size is only claimed).
		room: (id, blobId, bytes) => {
			const store = blobStore(id);
			if (store === undefined) return 'the workspace is not archived';
			if (store.bytes + bytes > maxBlobBytes) return `its ${bytes} bytes do not fit the workspace's ${maxBlobBytes}-byte blob quota (${store.bytes} held)`;
			return bound.fits(bytes, `blob ${blobId} of workspace ${id}`) || `its ${bytes} bytes do not fit what the relay stores in all`;
		},
		// Private spaces it is not in: their sealed blobs, kept at a member's request.
		sealedIndex: {
			has: (ws, blob, doc) => sealedBlobs()?.has(ws, blob, doc) ?? false,
			add: (ws, blob, doc, asker) => sealedBlobs()?.add(ws, blob, doc, asker),
			askers: (ws, blob, doc) => sealedBlobs()?.askers(ws, blob, doc) ?? [],
			// The bytes go once no document keeps the blob (an UNPIN of its message's deletion or hiding).
			forget: async (ws, blob, doc, asker) => {
				if (sealedBlobs()?.forget(ws, blob, doc, asker) === false) await blobStore(ws)?.drop(blob);
			}
		},
		onError: (error) => log(`Blobs: ${error.message}`)
	});
	let sealedIndex: SqliteSealedBlobIndex | undefined;
	/** The sealed blobs index, opened on first use. */
	function sealedBlobs(): SqliteSealedBlobIndex | undefined {
		return database === undefined ? undefined : (sealedIndex ??= new SqliteSealedBlobIndex(database.relayDb));
	}
	let closed = false;
	let watcher: FSWatcher | undefined;
	let timer: ReturnType<typeof setTimeout> | undefined;
	/** Requests and reloads, one at a time; requests refused past the bound. */
	const queue = new SerialQueue(init.maxPendingRequests ?? MAX_PENDING_TASKS);
	/** `task`, refused once the archive is closed. */
	const unlessClosed = <T>(task: () => Promise<T>) => (): Promise<T> => (closed ? Promise.reject(new ArchiveClosedError()) : task());
	/** Whether the current burst of refusals was logged (again once the queue has room). */
	let toldBusy = false;
	/** Whether an address is told (in the log) for the first time that it has listed its share. */
	const firstTimeOver = onceEach();

	/**
	 * Adds operations to a workspace's roster (on disk before it resolves) and folds them. What
	 * the new ones add is held to the workspace's quota and the relay's bound first, as a
	 * member's update is (found in review: seeding was stored outside the quota, so an admin's
	 * requests grew the roster without end).
	 * @throws {WorkspaceQuotaError} or {@link RelayFullError} when they do not fit; nothing is stored then.
	 */
	const seed = async (workspace: CoreWorkspace<ArchiveDocs>, ops: readonly TeamOp[]): Promise<void> => {
		await workspace.authority.settled();
		const held = new Set(workspace.authority.operations().map((op) => op.id));
		const fresh = ops.filter((op) => !held.has(op.id));
		if (fresh.length === 0) return;
		const adds = rosterBytes(fresh);
		await workspace.docs.change(workspace.rosterId, (doc) => fresh.forEach((op) => addTeamOp(doc, op)), TEAM_WRITE_ORIGIN, adds);
		await workspace.authority.refresh();
	};

	/** Opens (when new) and syncs a listed workspace, seeding its listed operations; takes a new secret for one synced already. */
	const follow = async ({ id, secret, name, ops }: ArchivedWorkspace): Promise<void> => {
		const listedOps = decodeListed(id, ops, log);
		const workspace = core.get(id) ?? (await core.open({ id }));
		// The relay's own admission, from `join`: a full quota keeps it out, not the workspace from syncing.
		await seed(workspace, listedOps).catch((error: unknown) => {
			if (!(error instanceof WorkspaceQuotaError || error instanceof RelayFullError)) throw error;
			log(`Archive ${id}: listed team operations not added: ${error.message}`);
		});
		const previous = workspace.secret;
		if (previous !== undefined && sameSecret(previous, secret)) return;
		await core.sync(id, secret);
		if (previous !== undefined) {
			log(`Archive ${id}: new secret from ${workspacesPath(dataDir)}`);
			return;
		}
		archives.set(id, workspace.docs);
		blobs.follow(id);
		const { authority, docs } = workspace;
		const standing = authority.joined ? `as ${authority.roleOf(device.peerId)}` : 'not admitted to its team yet';
		log(`Archiving workspace ${name ? `"${name}" ` : ''}${id} (${docs.list().length} documents, ${standing})`);
		warnUnlessRelay(id, authority);
	};

	/**
	 * Says once, when the relay is in a workspace's team with a role other than relay (joined
	 * with a person's invitation), what that role leaves out, and how an admin sets it right.
	 */
	const warnUnlessRelay = (id: string, authority: TeamAuthority): void => {
		let told = false;
		const check = (): void => {
			const role = authority.joined ? authority.roleOf(device.peerId) : undefined;
			if (told || role === undefined || role === TeamRole.relay) return;
			told = true;
			log(
				`Workspace ${id}: this relay is in its team as ${role}, not as a relay (it joined with an invitation for a person). ` +
					'It archives the workspace, but keeps no sealed copies of private channels and shares no tools: ' +
					'an admin removes it in the Members panel and makes an invite with the role Relay, which this relay then joins with (`relay join`).'
			);
			stopWatching();
		};
		const stopWatching = authority.onChange(check);
		check();
	};

	const reload = (): Promise<void> =>
		queue.run(unlessClosed(async () => {
			for (const workspace of await readWorkspaces(dataDir)) {
				// One archive that cannot open (a disk error) does not keep the others from syncing.
				await follow(workspace).catch((error: unknown) => log(`Could not archive workspace ${workspace.id}: ${messageOf(error)}`));
			}
		}));

	const request = (req: ArchiveRequest): Promise<AddResult> => {
		if (!isId(req.id)) return Promise.reject(new TypeError(`not a workspace id: ${req.id}`));
		if (req.secret.length !== SECRET_BYTES) return Promise.reject(new TypeError(`a secret has ${SECRET_BYTES} bytes`));
		if (queue.full) {
			if (!toldBusy) log(`Archive requests: ${queue.size} waiting; refusing more until one finishes`);
			toldBusy = true;
			return Promise.reject(new ArchiveBusyError(queue.size));
		}
		toldBusy = false;
		return queue.run(unlessClosed(async () => {
			const current = core.get(req.id);
			if (current !== undefined) await current.authority.settled();
			const known = current?.authority.operations() ?? [];
			await checkArchiveRequest({ workspaceId: req.id, ops: req.ops, known, signer: req.signer, relayPeerId: device.peerId });
			const entry = { workspaceId: req.id, secret: req.secret, name: req.name ?? '', relays: req.relays ?? [], ...(req.from !== undefined ? { requestedBy: req.from } : {}) };
			if (current !== undefined) {
				await seed(current, req.ops);
				const listed = (await readWorkspaces(dataDir)).find((w) => w.id === req.id);
				const currentSecret = current.secret;
				if (currentSecret !== undefined && sameSecret(currentSecret, req.secret) && listed !== undefined) {
					return { id: req.id, name: listed.name, created: false, secretReplaced: false };
				}
				// Keep the name and relays listed; take the admin's secret.
				const { workspace } = await addArchivedWorkspace(dataDir, { ...entry, ...(listed ? { name: listed.name, relays: listed.relays } : {}) });
				const replaced = currentSecret === undefined || !sameSecret(currentSecret, req.secret);
				await follow(workspace);
				if (replaced) log(`Archive ${req.id}: secret replaced at the request of admin ${req.signer}`);
				return { id: req.id, name: workspace.name, created: false, secretReplaced: replaced };
			}
			// New: refuse a full list before anything reaches the disk; the roster is stored
			// before the list names the workspace, so a crash between leaves no team-less entry.
			const list = await readWorkspaces(dataDir);
			const max = init.maxWorkspaces ?? MAX_ARCHIVED_WORKSPACES;
			const perAddress = init.maxArchivesPerAddress ?? MAX_ARCHIVES_PER_ADDRESS;
			const fresh = !list.some((w) => w.id === req.id);
			if (fresh && list.length >= max) throw new WorkspaceLimitError(max);
			if (fresh && req.from !== undefined && requestedFrom(list, req.from) >= perAddress) {
				if (firstTimeOver(req.from)) log(`Archive requests from ${req.from}: ${perAddress} workspaces listed for that address already; refusing more from it`);
				throw new AddressArchiveLimitError(perAddress);
			}
			const opened = await core.open({ id: req.id });
			try {
				await seed(opened, req.ops);
				const { workspace, added } = await addArchivedWorkspace(dataDir, entry, { maxWorkspaces: max, maxPerAddress: perAddress });
				await follow(workspace);
				return { id: req.id, name: workspace.name, created: added, secretReplaced: false };
			} catch (error) {
				if (!archives.has(req.id)) {
					await core.release(req.id);
					if (fresh) await ArchiveDocs.drop(dataDir, req.id);
				}
				throw error;
			}
		}));
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
		await queue.idle();
		await blobs.stop().catch(() => undefined);
		await core.stop(); // off the mesh, keys stopped, archives closed after their pending writes
		await mesh.stop();
		archives.clear();
		database?.release();
	};

	let database: ReturnType<typeof useRelayDb> | undefined;
	try {
		// Opened at start, held until close: old logs move in and damage is reported now.
		database = useRelayDb(dataDir, log);
		diskBound = new DiskBound(database.relayDb.db, init.maxRelayBytes ?? MAX_RELAY_BYTES, log);
		await mesh.start();
		await blobs.start();
		await core.attach(mesh);
		for (const workspace of await readWorkspaces(dataDir)) await follow(workspace);
		if (init.watch ?? true) watcher = watchList();
	} catch (error) {
		await close();
		throw error;
	}
	return {
		mesh,
		core,
		archives,
		authority: (id) => core.get(id)?.authority,
		request,
		has: (id) => archives.has(id),
		blobs,
		reload,
		close
	};
}

/** The bytes `ops` take in a roster document of their own: about what adding them to a roster stores. */
function rosterBytes(ops: readonly TeamOp[]): number {
	const scratch = new Y.Doc();
	try {
		ops.forEach((op) => addTeamOp(scratch, op));
		return Y.encodeStateAsUpdate(scratch).byteLength;
	} finally {
		scratch.destroy();
	}
}

/** The listed operations of a workspace that decode; the others are reported and skipped. */
function decodeListed(id: string, ops: readonly Uint8Array[], log: (line: string) => void): TeamOp[] {
	const decoded: TeamOp[] = [];
	for (const bytes of ops) {
		try {
			decoded.push(decodeOp(bytes));
		} catch (error) {
			log(`Archive ${id}: skipped a listed team operation that does not decode (${messageOf(error)})`);
		}
	}
	return decoded;
}

function messageOf(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}
