/**
 * The mesh service: syncs every workspace this peer holds with every connected peer that
 * proves it is a member, over a started libp2p node (node.ts).
 *
 * - **Responder.** Registers `/outpost/sync/1.0.0` (framed streams, relayed connections
 *   allowed): reads the stream's first frame as HELLO, picks the workspace it names
 *   (DENIED 1 when this peer does not serve it) and runs a {@link SyncSession} on it.
 * - **Opener.** On every new connection this peer dialled, direct or relayed, opens one
 *   sync stream per workspace (the peer that dialled opens, so two peers run one session
 *   per workspace, not two). A workspace added later is opened on every connection.
 * - **Live updates go both ways at once** (see PROTOCOL.md "Live updates"): sync sessions
 *   forward every update to directly connected members (lowest latency; one hop, no
 *   envelope), and every update made on this peer is also sealed onto the workspace's
 *   gossipsub topic (gossip.ts), which reaches members through intermediaries, including
 *   ones that are not members. Yjs updates are idempotent, so the copies are harmless;
 *   what came from gossip is never published again.
 * - **Anti-entropy.** Every `antiEntropyIntervalMs`, this peer opens a fresh session with
 *   every connected peer and workspace (unless the peer refused it on that connection, or
 *   the peer already drives a session with us): the digest comparison repairs lost gossip.
 *   The fresh session replaces the previous one once it is synced. A session this peer
 *   opened that fails while its connection stays open is opened again sooner, a few times
 *   ({@link REOPEN_DELAYS_MS}).
 * - **Presence.** A workspace may carry the app's y-protocols `Awareness`: local changes are
 *   sealed as awareness envelopes on the same topic (awareness.ts), re-sent in full when a
 *   session reaches synced (a member appeared), and withdrawn when the workspace is removed
 *   or the service stops.
 * - **Hostile input.** A bad frame or a session error resets that stream only and is
 *   reported through the `error` event; every other stream goes on.
 */
import type { AbortOptions, Connection, PeerId } from '@libp2p/interface';
import type { Awareness } from 'y-protocols/awareness';
import { WorkspaceAwareness } from './awareness.js';
import { DEFAULT_LIMITS, DeniedReason, SYNC_PROTOCOL_ID, type SyncLimits } from './constants.js';
import { MembershipDeniedError, SessionEndedEarlyError } from './errors.js';
import { frameStream, handleFrames, type FrameStream } from './frameStream.js';
import { GOSSIP_FLUSH_MS, WorkspaceGossip } from './gossip.js';
import type { MeshNode } from './node.js';
import { SessionState, SyncSession, type SealedStore } from './SyncSession.js';
import type { SyncDocs } from './syncDocs.js';
import { deny, frameDrain, frameSender, maxSyncFrameBytes, readHello, runSyncStream } from './syncStream.js';
import { provenLimits, UnprovenBudget } from './unprovenBudget.js';
import type { GossipKeyring } from './keyring.js';
import { deriveWorkspaceKeys, type WorkspaceKeys } from './workspaceKeys.js';
import { summarize, type WorkspaceStatus } from './workspaceStatus.js';
import type { MeshAuthority } from './authority.js';
import { TeamGate } from './teamGate.js';
import { Listeners } from '../events.js';

export { WorkspaceSyncState, type WorkspaceStatus } from './workspaceStatus.js';

/** Options of {@link meshService}. */
export interface MeshServiceInit {
	/** Milliseconds between anti-entropy rounds; default 30,000; 0 turns them off. */
	antiEntropyIntervalMs?: number;
	/** Limits of every sync session (PROTOCOL.md "Limits"). */
	limits?: Partial<SyncLimits>;
	/** Milliseconds allowed to open a sync stream (dial excluded); default 10,000. */
	openTimeoutMs?: number;
	/** Waits before each reopen of a failed session this peer opened; default {@link REOPEN_DELAYS_MS}. */
	reopenDelaysMs?: readonly number[];
	/**
	 * Milliseconds a stream this peer ended (cleanly, or with DENIED) waits for the remote to
	 * close its end before it is reset; default 5,000.
	 */
	closeGraceMs?: number;
	/** Whether a proven member may be served (false when revoked in the roster); default: yes. */
	isAllowed?: (workspaceId: string, peerId: string) => boolean | Promise<boolean>;
	/**
	 * Whether an update with this transaction origin was made on this peer and must be
	 * published on gossip. Default: any origin but a sync session or gossip.
	 */
	isLocalOrigin?: (origin: unknown) => boolean;
	/**
	 * What peers that have proved nothing yet may make this node hold (unprovenBudget.ts);
	 * share one between the protocols of a node. Default: a budget of this service's own.
	 */
	unproven?: UnprovenBudget;
}

/** The dependencies of a {@link MeshService}: a started mesh node. */
export interface MeshServiceComponents {
	node: Pick<
		MeshNode,
		'peerId' | 'handle' | 'unhandle' | 'getConnections' | 'getPeers' | 'addEventListener' | 'removeEventListener'
	> & { services: Pick<MeshNode['services'], 'pubsub'> };
}

/** A workspace to sync: its id, its secret (32 bytes) and its documents. */
export interface MeshWorkspace {
	id: string;
	secret: Uint8Array;
	docs: SyncDocs;
	/**
	 * Presence to share with the workspace's members (PROTOCOL.md "Awareness envelope"): the
	 * app owns it (one per workspace, over a throwaway Y.Doc: only its clientID matters) and
	 * sets its local state; remote states arrive with an origin other than the app's.
	 */
	awareness?: Awareness;
	/**
	 * The workspace's team (authority.ts). With it, sessions run only with current member
	 * devices: this peer opens sessions only to them (a joiner, to any peer), admits an opener
	 * only when it is one (or its HELLO's admission makes it one), and closes the sessions of
	 * a device the moment the team stops counting it. Without it, the secret alone admits
	 * (tests of the sync protocol itself).
	 */
	authority?: MeshAuthority;
	/** The workspace's gossip key generations (keyring.ts); without it, gossip uses the secret's key alone. */
	keyring?: GossipKeyring;
	/**
	 * Where sealed updates of private spaces this replica is not in are kept (a relay's
	 * SealedLog): sessions serve SEALED_PUT and SEALED_WANT from devices of
	 * the space's members (TeamGate.maySeal).
	 */
	sealed?: { storeFor(mayUse: (docId: string) => boolean): SealedStore };
}

/** A failure the service reports; syncing goes on with everyone else. */
export interface MeshErrorEvent {
	error: Error;
	/** The remote peer, when the failure came from one. */
	peerId?: string;
	workspaceId?: string;
}

/** Events of a {@link MeshService} and their handlers. */
export interface MeshServiceEvents {
	/** The number of connected peers changed (members or not). */
	'peer-count': (count: number) => void;
	/** A workspace's sync state or progress changed. */
	'workspace-status': (status: WorkspaceStatus) => void;
	/** A stream, session, envelope or publish failed. */
	error: (event: MeshErrorEvent) => void;
}

/** Syncs workspaces over a libp2p node; see the module comment. */
export interface MeshService {
	start(options?: AbortOptions): Promise<void>;
	stop(): Promise<void>;
	/** Starts syncing a workspace (derives its keys, subscribes to its topic, opens sessions). */
	addWorkspace(workspace: MeshWorkspace, options?: AbortOptions): Promise<void>;
	/** Stops syncing a workspace and closes its sessions. */
	removeWorkspace(id: string): Promise<void>;
	/** Runs an anti-entropy round now (a fresh session with every connected peer). */
	syncNow(): void;
	/** Connected peers (members or not). */
	readonly peerCount: number;
	/** What peers that have proved nothing yet hold here now, and how many streams went over it. */
	readonly unproven: UnprovenBudget;
	/** The sync state of a workspace, or undefined when it is not added. */
	status(workspaceId: string): WorkspaceStatus | undefined;
	/**
	 * The keys of an added workspace (undefined otherwise), for protocols beside sync that
	 * prove membership or seal envelopes with them (the model host, model adverts).
	 */
	workspaceKeys(workspaceId: string): WorkspaceKeys | undefined;
	/** The documents of a workspace this peer syncs (a model host writes answers through them), else undefined. */
	workspaceDocs(workspaceId: string): SyncDocs | undefined;
	/**
	 * Stores sealed updates of `docId` on `peerId` (a relay outside the space)
	 * over the live session with it; false when there is none.
	 */
	putSealed(workspaceId: string, peerId: string, docId: string, envelopes: Uint8Array[]): boolean;
	/** Peers with a live session in the workspace. */
	livePeers(workspaceId: string): string[];
	/**
	 * The sealed updates of `docId` that `peerId` keeps, from index `from` on (one batch);
	 * rejects without a live session with it, or after `timeoutMs` without an answer (a peer
	 * that refuses answers nothing).
	 */
	wantSealed(workspaceId: string, peerId: string, docId: string, from: number, timeoutMs?: number): Promise<{ envelopes: Uint8Array[]; more: boolean }>;
	/** Adds an event handler; returns a function that removes it. */
	on<E extends keyof MeshServiceEvents>(event: E, handler: MeshServiceEvents[E]): () => void;
}

/** A workspace being synced. */
interface Workspace {
	id: string;
	keys: WorkspaceKeys;
	docs: SyncDocs;
	gossip: WorkspaceGossip;
	/** Present when the workspace shares an awareness. */
	presence: WorkspaceAwareness | undefined;
	/** The team's rules for its sessions and gossip. */
	gate: TeamGate;
	/** Stops watching the team. */
	unwatch: () => void;
	sessions: Set<Tracked>;
	lastStatus: string;
	/** MeshWorkspace.sealed. */
	sealed: MeshWorkspace['sealed'];
}

/** A running session and where it runs. */
interface Tracked {
	session: SyncSession;
	peerId: string;
	connectionId: string;
	role: 'opener' | 'responder';
	/** Whether its connection is limited (a circuit relay hop: slow, capped in time and data). */
	limited: boolean;
	/** Callers waiting for a SEALED_BATCH, by document and index (one answer serves all of them). */
	sealedWaiters: Map<string, Set<(batch: { envelopes: Uint8Array[]; more: boolean }) => void>>;
}

/** Whether a connection is a limited one (relayed), which a direct one to the same peer beats. */
function isLimited(connection: Connection): boolean {
	return connection.limits !== undefined;
}

/** Errors that say something about what the peer sent: reported even as the connection closes. */
const PEER_ERRORS = new Set([
	'MalformedMessageError',
	'MessageTooLargeError',
	'UnexpectedMessageError',
	'ProtocolVersionError',
	'MembershipDeniedError',
	'MembershipTimeoutError',
	'SyncStalledError',
	'UpdateRejectedError',
	'FrameTooLargeError',
	'MalformedFrameError',
	'BudgetExceededError',
	'SlowPeerError'
]);

const MiB = 1024 * 1024;

const DEFAULT_ANTI_ENTROPY_MS = 30_000;
/** Gossip gathering time while this peer has a live session in the workspace (see gossip.ts). */
const GOSSIP_FLUSH_LINKED_MS = 200;
const DEFAULT_OPEN_TIMEOUT_MS = 10_000;
/**
 * Waits before this peer opens a session again on a connection where the one it opened failed
 * (the connection still open): one entry per try, then anti-entropy's rounds take over.
 */
export const REOPEN_DELAYS_MS: readonly number[] = [500, 2000, 8000];

class DefaultMeshService implements MeshService {
	private readonly limits: SyncLimits;
	readonly unproven: UnprovenBudget;
	/** What members' sync streams hold unread, bounded per connection and node (unprovenBudget.ts `provenLimits`). */
	readonly proven: UnprovenBudget;
	private readonly workspaces = new Map<string, Workspace>();
	/** `connectionId/workspaceId` pairs the remote refused: not retried on that connection. */
	private readonly refused = new Set<string>();
	/** `connectionId/workspaceId` pairs with a stream being opened. */
	private readonly opening = new Set<string>();
	/** `connectionId/workspaceId` pairs whose opened session failed: tries made, and the timer of the next. */
	private readonly reopens = new Map<string, { tries: number; timer: ReturnType<typeof setTimeout> | undefined }>();
	private readonly listeners = new Listeners<MeshServiceEvents>('MeshService');
	private timer: ReturnType<typeof setInterval> | undefined;
	private running = false;

	constructor(
		private readonly components: MeshServiceComponents,
		private readonly init: MeshServiceInit
	) {
		this.limits = { ...DEFAULT_LIMITS, ...init.limits };
		this.unproven = init.unproven ?? new UnprovenBudget();
		this.proven = new UnprovenBudget(provenLimits(maxSyncFrameBytes(this.limits)), 'by members’ streams');
	}

	get peerCount(): number {
		return this.components.node.getPeers().length;
	}

	async start(options?: AbortOptions): Promise<void> {
		if (this.running) return;
		const { node } = this.components;
		await handleFrames(node, SYNC_PROTOCOL_ID, (frames, connection) => this.respond(frames, connection), {
			maxFrameBytes: maxSyncFrameBytes(this.limits),
			budget: (connection) => this.unproven.forStream(connection.id),
			runOnLimitedConnection: true,
			onError: (error, connection) => this.report({ error, peerId: connection.remotePeer.toString() }),
			signal: options?.signal
		});
		this.running = true;
		node.addEventListener('connection:open', this.onConnectionOpen);
		node.addEventListener('connection:close', this.onConnectionClose);
		node.addEventListener('peer:connect', this.onPeerChange);
		node.addEventListener('peer:disconnect', this.onPeerChange);
		for (const workspace of this.workspaces.values()) {
			workspace.gossip.start();
			workspace.presence?.start();
		}
		const interval = this.init.antiEntropyIntervalMs ?? DEFAULT_ANTI_ENTROPY_MS;
		if (interval > 0) this.timer = setInterval(() => this.syncNow(), interval);
		// Connections made before start: open on each (the remote may run its service already).
		for (const connection of node.getConnections()) this.openAll(connection);
	}

	async stop(): Promise<void> {
		if (!this.running) return;
		this.running = false;
		clearInterval(this.timer);
		for (const reopen of this.reopens.values()) clearTimeout(reopen.timer);
		this.reopens.clear();
		const { node } = this.components;
		node.removeEventListener('connection:open', this.onConnectionOpen);
		node.removeEventListener('connection:close', this.onConnectionClose);
		node.removeEventListener('peer:connect', this.onPeerChange);
		node.removeEventListener('peer:disconnect', this.onPeerChange);
		await node.unhandle(SYNC_PROTOCOL_ID);
		// Withdraw our presence while still on the topics.
		await Promise.all([...this.workspaces.values()].map((w) => w.presence?.stop()));
		for (const workspace of this.workspaces.values()) {
			workspace.gossip.stop();
			for (const tracked of workspace.sessions) tracked.session.close();
		}
	}

	async addWorkspace({ id, secret, docs, awareness, authority, keyring, sealed }: MeshWorkspace, options?: AbortOptions): Promise<void> {
		if (this.workspaces.has(id)) return;
		const derived = await deriveWorkspaceKeys(id, secret);
		const keys: WorkspaceKeys = keyring ? { ...derived, keyring } : derived;
		options?.signal?.throwIfAborted();
		if (this.workspaces.has(id)) return;
		const { pubsub } = this.components.node.services;
		const gate = new TeamGate(authority);
		const onError = (error: Error) => this.report({ error, workspaceId: id });
		const presence =
			awareness &&
			new WorkspaceAwareness({
				pubsub,
				keys,
				awareness,
				onError,
				// A member device speaks for itself, a tab for the device that delegated to it.
				speaksFor: (publisher, peer) => publisher === peer || authority?.deviceOf?.(publisher) === peer
			});
		const gossip = new WorkspaceGossip({
			pubsub,
			keys,
			docs,
			isLocalOrigin: (origin) => this.isLocalOrigin(origin),
			// With a live session, the peers that matter most already have each update; gossip
			// (for members behind a relay) then gathers longer, to keep its CPU off the direct path.
			flushDelayMs: () => ([...workspace.sessions].some((t) => t.session.state === SessionState.live) ? GOSSIP_FLUSH_LINKED_MS : GOSSIP_FLUSH_MS),
			onError,
			mayGossip: (docId) => gate.mayGossip(docId, docs),
			acceptsGossip: (docId) => gate.acceptsGossip(docId),
			unlisted: (publisher) => gate.unlistedFor(publisher, docs),
			hasSessionWith: (peerId) => [...workspace.sessions].some((t) => t.peerId === peerId && t.session.state === SessionState.live),
			...(authority !== undefined ? { isMember: (peerId: string) => gate.hears(peerId) } : {}),
			...(presence !== undefined ? { onAwareness: (envelope: Uint8Array, publisher: string | undefined) => presence.receive(envelope, publisher) } : {})
		});
		const workspace: Workspace = { id, keys, docs, gossip, presence, gate, unwatch: () => {}, sessions: new Set(), lastStatus: '', sealed };
		workspace.unwatch = gate.onChange(() => this.onTeamChange(workspace));
		this.workspaces.set(id, workspace);
		this.emitStatus(workspace);
		if (!this.running) return;
		gossip.start();
		presence?.start();
		for (const connection of this.components.node.getConnections()) this.open(connection, workspace);
	}

	async removeWorkspace(id: string): Promise<void> {
		const workspace = this.workspaces.get(id);
		if (workspace === undefined) return;
		this.workspaces.delete(id);
		workspace.unwatch();
		await workspace.presence?.stop(); // withdraws our presence while still on the topic
		workspace.gossip.stop();
		for (const tracked of workspace.sessions) tracked.session.close();
	}

	syncNow(): void {
		if (!this.running) return;
		for (const connection of this.components.node.getConnections()) {
			for (const workspace of this.workspaces.values()) {
				const peerId = connection.remotePeer.toString();
				const sessions = [...workspace.sessions].filter((t) => t.peerId === peerId);
				// The remote opened a session with us and runs its own rounds on it.
				if (sessions.some((t) => t.role === 'responder') && !sessions.some((t) => t.role === 'opener')) continue;
				// The last round's session is still catching up: let it finish rather than pile up.
				if (sessions.some((t) => t.role === 'opener' && t.session.state !== SessionState.live)) continue;
				this.open(connection, workspace);
			}
		}
	}

	/** The live session of a workspace with `peerId`, if any. */
	private liveSession(workspaceId: string, peerId: string): Tracked | undefined {
		const workspace = this.workspaces.get(workspaceId);
		if (workspace === undefined) return undefined;
		return [...workspace.sessions].find((t) => t.peerId === peerId && t.session.state === SessionState.live);
	}

	livePeers(workspaceId: string): string[] {
		const workspace = this.workspaces.get(workspaceId);
		if (workspace === undefined) return [];
		return [...new Set([...workspace.sessions].filter((t) => t.session.state === SessionState.live).map((t) => t.peerId))];
	}

	putSealed(workspaceId: string, peerId: string, docId: string, envelopes: Uint8Array[]): boolean {
		const tracked = this.liveSession(workspaceId, peerId);
		if (tracked === undefined) return false;
		tracked.session.putSealed(docId, envelopes);
		return true;
	}

	wantSealed(workspaceId: string, peerId: string, docId: string, from: number, timeoutMs = 10_000): Promise<{ envelopes: Uint8Array[]; more: boolean }> {
		const tracked = this.liveSession(workspaceId, peerId);
		if (tracked === undefined) return Promise.reject(new Error(`no live session with ${peerId} in workspace ${workspaceId}`));
		const key = `${docId}\n${from}`;
		return new Promise((resolve, reject) => {
			const waiters = tracked.sealedWaiters.get(key) ?? new Set();
			tracked.sealedWaiters.set(key, waiters);
			const waiter = (batch: { envelopes: Uint8Array[]; more: boolean }) => {
				clearTimeout(timer);
				resolve(batch);
			};
			const timer = setTimeout(() => {
				waiters.delete(waiter);
				if (waiters.size === 0 && tracked.sealedWaiters.get(key) === waiters) tracked.sealedWaiters.delete(key);
				reject(new Error(`no sealed updates of ${docId} from ${peerId} within ${timeoutMs} ms`));
			}, timeoutMs);
			waiters.add(waiter);
			try {
				tracked.session.wantSealed(docId, from);
			} catch (error) {
				waiters.delete(waiter);
				clearTimeout(timer);
				reject(error instanceof Error ? error : new Error(String(error)));
			}
		});
	}

	status(workspaceId: string): WorkspaceStatus | undefined {
		const workspace = this.workspaces.get(workspaceId);
		return workspace && summarize(workspace.id, [...workspace.sessions]);
	}

	workspaceKeys(workspaceId: string): WorkspaceKeys | undefined {
		return this.workspaces.get(workspaceId)?.keys;
	}

	workspaceDocs(workspaceId: string): SyncDocs | undefined {
		return this.workspaces.get(workspaceId)?.docs;
	}

	on<E extends keyof MeshServiceEvents>(event: E, handler: MeshServiceEvents[E]): () => void {
		return this.listeners.on(event, handler);
	}

	private readonly onConnectionOpen = (event: CustomEvent<Connection>): void => {
		const connection = event.detail;
		// The peer that dialled opens the sessions; the other answers them. A member never names
		// a workspace to a stranger, so a joiner opens its own on every new connection.
		if (connection.direction === 'outbound') this.openAll(connection);
		else for (const workspace of this.workspaces.values()) if (workspace.gate.joining) this.open(connection, workspace);
	};

	private readonly onConnectionClose = (event: CustomEvent<Connection>): void => {
		const prefix = `${event.detail.id}/`;
		for (const key of this.refused) if (key.startsWith(prefix)) this.refused.delete(key);
		for (const [key, reopen] of this.reopens) {
			if (!key.startsWith(prefix)) continue;
			clearTimeout(reopen.timer);
			this.reopens.delete(key);
		}
	};

	private readonly onPeerChange = (_event: CustomEvent<PeerId>): void => {
		this.emit('peer-count', this.peerCount);
	};

	private isLocalOrigin(origin: unknown): boolean {
		if (this.init.isLocalOrigin !== undefined) return this.init.isLocalOrigin(origin);
		if (origin instanceof SyncSession) return false;
		for (const workspace of this.workspaces.values()) if (origin === workspace.gossip.origin) return false;
		return true;
	}

	private openAll(connection: Connection): void {
		for (const workspace of this.workspaces.values()) this.open(connection, workspace);
	}

	/** Whether the peer of a limited connection also has an unlimited one open (which sessions should use). */
	private hasBetterLink(connection: Connection): boolean {
		if (!isLimited(connection)) return false;
		return this.components.node
			.getConnections(connection.remotePeer)
			.some((other) => other.id !== connection.id && other.status === 'open' && !isLimited(other));
	}

	/**
	 * The team changed: sessions with devices that are no longer members close at once, and
	 * peers the team now counts (a new member, or one this peer had refused) get a session.
	 */
	private onTeamChange(workspace: Workspace): void {
		if (this.workspaces.get(workspace.id) !== workspace) return;
		const { gate } = workspace;
		gate.revisit(() => this.onTeamChange(workspace));
		for (const tracked of workspace.sessions) {
			// A session still proving membership is checked when that ends (and may be admitted by its HELLO).
			if (tracked.session.state === SessionState.membership) continue;
			if (!gate.mayServe(tracked.peerId, tracked.role)) tracked.session.close();
			else void tracked.session.reoffer(); // a private space this peer was just added to
		}
		const suffix = `/${workspace.id}`;
		for (const key of this.refused) if (key.endsWith(suffix)) this.refused.delete(key);
		if (!this.running) return;
		for (const connection of this.components.node.getConnections()) {
			const peerId = connection.remotePeer.toString();
			if ([...workspace.sessions].some((t) => t.peerId === peerId)) continue;
			if (gate.authority?.isMember(peerId)) this.open(connection, workspace);
		}
	}

	/** Opens a sync stream for `workspace` on `connection` and runs a session on it. */
	private open(connection: Connection, workspace: Workspace): void {
		const key = `${connection.id}/${workspace.id}`;
		if (!this.running || connection.status !== 'open' || this.refused.has(key) || this.opening.has(key)) return;
		if (!workspace.gate.mayOpen(connection.remotePeer.toString())) return;
		// A relayed hop to a peer we also reach directly (the signalling leg of a WebRTC dial) carries no session.
		if (this.hasBetterLink(connection)) return;
		this.opening.add(key);
		const peerId = connection.remotePeer.toString();
		const signal = AbortSignal.timeout(this.init.openTimeoutMs ?? DEFAULT_OPEN_TIMEOUT_MS);
		connection
			.newStream(SYNC_PROTOCOL_ID, { signal, runOnLimitedConnection: true })
			.then(
				(stream) => {
					this.opening.delete(key);
					const frames = frameStream(stream, {
						maxFrameBytes: maxSyncFrameBytes(this.limits),
						budget: this.unproven.forStream(connection.id)
					});
					if (!this.running || this.workspaces.get(workspace.id) !== workspace) {
						frames.abort(new Error('the mesh service stopped'));
						return;
					}
					void this.run(workspace, frames, connection, 'opener'); // never rejects
				},
				(error: unknown) => {
					this.opening.delete(key);
					if (!this.running || connection.status !== 'open') return;
					// A peer without the sync protocol (a plain relay) is not an error; retried next round.
					if (error instanceof Error && error.name === 'UnsupportedProtocolError') return;
					this.report({ error: asError(error), peerId, workspaceId: workspace.id });
				}
			);
	}

	/** Answers a sync stream: HELLO picks the workspace. */
	private async respond(frames: FrameStream, connection: Connection): Promise<void> {
		const first = await frames.read({ signal: AbortSignal.timeout(this.limits.membershipTimeoutMs) });
		if (first === null) return;
		const hello = readHello(first, this.limits);
		if (!hello.ok) {
			this.report({ error: hello.error, peerId: connection.remotePeer.toString() });
			return deny(frames, hello.reason, this.init.closeGraceMs);
		}
		const workspace = this.workspaces.get(hello.hello.workspaceId);
		if (workspace === undefined || !this.running) return deny(frames, DeniedReason.unknownWorkspace, this.init.closeGraceMs);
		await this.run(workspace, frames, connection, 'responder', first);
	}

	/** Runs one session over `frames` until it ends; reports its error. */
	private async run(
		workspace: Workspace,
		frames: FrameStream,
		connection: Connection,
		role: 'opener' | 'responder',
		first?: Uint8Array
	): Promise<void> {
		const peerId = connection.remotePeer.toString();
		const { isAllowed } = this.init;
		const { gate } = workspace;
		const admission = gate.admission();
		const admits = gate.admits;
		const session = new SyncSession({
			role,
			workspace: { id: workspace.id, keys: workspace.keys },
			localPeerId: this.components.node.peerId.toString(),
			remotePeerId: peerId,
			docs: workspace.docs,
			send: frameSender(frames, maxSyncFrameBytes(this.limits) + MiB),
			drained: frameDrain(frames, this.limits.syncStallTimeoutMs),
			limits: this.limits,
			isAllowed: async (remote: string) =>
				gate.mayServe(remote, role) && ((await isAllowed?.(workspace.id, remote)) ?? true),
			...(admission !== undefined ? { admission } : {}),
			...(admits !== undefined ? { admits } : {}),
			mayShare: (docId) => gate.mayShare(peerId, docId, workspace.docs),
			mayAccept: (docId) => gate.mayAccept(peerId, docId),
			unlisted: gate.unlistedFor(peerId, workspace.docs),
			...(workspace.sealed !== undefined ? { sealedStore: workspace.sealed.storeFor((docId) => gate.maySeal(peerId, docId)) } : {}),
			onSealed: (batch) => {
				const key = `${batch.docId}\n${batch.from}`;
				const waiters = tracked.sealedWaiters.get(key);
				tracked.sealedWaiters.delete(key);
				for (const waiter of waiters ?? []) waiter(batch);
			}
		});
		const tracked: Tracked = { session, peerId, connectionId: connection.id, role, limited: isLimited(connection), sealedWaiters: new Map() };
		workspace.sessions.add(tracked);
		const update = () => this.emitStatus(workspace);
		// The peer proved membership: its stream leaves the unproven budget for the members' one.
		session.on('trusted', () => frames.setBudget(this.proven.forStream(connection.id)));
		session.on('progress', update);
		session.on('synced', () => {
			if (role === 'opener') this.retireOlder(workspace, tracked);
			// A member appeared (or came back): let it see who is here now.
			workspace.presence?.republish();
			update();
		});
		update();
		const error = await runSyncStream(frames, session, first, this.init.closeGraceMs);
		workspace.sessions.delete(tracked);
		update();
		if (error === undefined) return;
		if (error instanceof MembershipDeniedError) this.refused.add(`${connection.id}/${workspace.id}`);
		else if (role === 'opener') this.reopenSoon(connection, workspace);
		// A stream cut because the connection or the service went away is no news; what the
		// peer sent (or refused) always is. An end before membership was proved is reopened above,
		// not reported: it is what a hang-up in the middle of the handshake looks like.
		if (PEER_ERRORS.has(error.name) || (this.running && connection.status === 'open' && !(error instanceof SessionEndedEarlyError))) {
			this.report({ error, peerId, workspaceId: workspace.id });
		}
	}

	/**
	 * The session this peer opened on `connection` failed (a reset stream, a stall, an update
	 * refused) while the connection stays open: open another after {@link REOPEN_DELAYS_MS},
	 * a few times per connection, rather than leave the pair without live sync until the next
	 * anti-entropy round. A peer whose sessions keep failing costs at most those tries.
	 */
	private reopenSoon(connection: Connection, workspace: Workspace): void {
		const key = `${connection.id}/${workspace.id}`;
		const reopen = this.reopens.get(key) ?? { tries: 0, timer: undefined };
		const delay = (this.init.reopenDelaysMs ?? REOPEN_DELAYS_MS)[reopen.tries];
		if (!this.running || connection.status !== 'open' || reopen.timer !== undefined || delay === undefined) return;
		reopen.tries++;
		reopen.timer = setTimeout(() => {
			reopen.timer = undefined;
			if (this.workspaces.get(workspace.id) !== workspace) return;
			if ([...workspace.sessions].some((t) => t.connectionId === connection.id)) return;
			this.open(connection, workspace);
		}, delay);
		this.reopens.set(key, reopen);
	}

	/**
	 * A fresh opener session is synced: close the older ones to the same peer, unless the
	 * fresh one runs over a limited (relayed) connection and another runs over a direct one:
	 * then the fresh one goes, so live updates keep the direct path whichever synced last.
	 */
	private retireOlder(workspace: Workspace, fresh: Tracked): void {
		const others = [...workspace.sessions].filter((t) => t !== fresh && t.role === 'opener' && t.peerId === fresh.peerId);
		if (fresh.limited && others.some((t) => !t.limited)) {
			fresh.session.close();
			return;
		}
		for (const tracked of others) tracked.session.close();
	}

	private emitStatus(workspace: Workspace): void {
		const status = summarize(workspace.id, [...workspace.sessions]);
		const text = JSON.stringify(status);
		if (text === workspace.lastStatus) return;
		workspace.lastStatus = text;
		this.emit('workspace-status', status);
	}

	private report(event: MeshErrorEvent): void {
		if (this.listeners.count('error') === 0) console.warn('mesh:', event.error, event.peerId ?? '', event.workspaceId ?? '');
		this.emit('error', event);
	}

	private emit<E extends keyof MeshServiceEvents>(event: E, ...args: Parameters<MeshServiceEvents[E]>): void {
		this.listeners.emit(event, ...args);
	}
}

/**
 * The mesh service in the libp2p service style: `meshService(init)(components)`. Call
 * `start()` once the node is started, then `addWorkspace` for each workspace.
 */
export function meshService(init: MeshServiceInit = {}): (components: MeshServiceComponents) => MeshService {
	return (components) => new DefaultMeshService(components, init);
}

function asError(error: unknown): Error {
	return error instanceof Error ? error : new Error(String(error));
}
