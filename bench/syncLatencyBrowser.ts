/**
 * The in-page half of the sync-latency benchmark (bench/sync-latency.ts), bundled for
 * Chromium. Each page holds one peer of each kind under test, a Y.Doc per kind, and records
 * when the other page's writes arrive:
 *
 * - `y-webrtc+password`, `y-webrtc`: a WebrtcProvider signalling through the relay's `/y-webrtc`;
 * - `outpost`: the browser mesh node and a MeshService over in-memory SyncDocs;
 * - `raw`: one length-prefixed libp2p stream over the direct WebRTC connection, each Yjs
 *   update written as one frame and applied on arrival (the floor under `outpost`).
 *
 * A write sets key `i` of the Y.Map `lat` to the sender's clock (performance.timeOrigin +
 * performance.now(), taken just before the transaction); the receiver stamps the same clock
 * when the map changes, so one-way latency = receive - send across the two pages. For
 * `outpost` the page also logs every copy that reaches it (each session's apply, each gossip
 * message) and times the sender's update listeners and gossip publishes, to tell where time goes.
 */
import { generateKeyPair, privateKeyFromProtobuf } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { TeamAuthority } from '../src/lib/core/TeamAuthority.js';
import { syncWorkspace } from '../src/lib/core/meshWorkspace.js';
import { decodeOp } from '../src/lib/doc/team/ops.js';
import { teamRosterId } from '../src/lib/doc/team/teamId.js';
import type { GossipsubMessage } from '@libp2p/gossipsub';
import type { Connection } from '@libp2p/interface';
import { lpStream } from '@libp2p/utils';
import { multiaddr } from '@multiformats/multiaddr';
import { WebrtcProvider } from 'y-webrtc';
import * as Y from 'yjs';
import { SYNC_PROTOCOL_ID } from '../src/lib/mesh/constants.js';
import { dialWithRetry } from '../src/lib/mesh/dial.js';
import { openEnvelope } from '../src/lib/mesh/gossipEnvelope.js';
import { meshService } from '../src/lib/mesh/MeshService.js';
import type { MeshService } from '../src/lib/mesh/MeshService.js';
import { createMeshNode } from '../src/lib/mesh/node.browser.js';
import { linkKind } from '../src/lib/mesh/node.js';
import type { MeshNode } from '../src/lib/mesh/node.js';
import { SyncSession } from '../src/lib/mesh/SyncSession.js';
import type { UpdateListener } from '../src/lib/mesh/syncDocs.js';
import { deriveWorkspaceKeys, fromHex } from '../src/lib/mesh/workspaceKeys.js';
import type { WorkspaceKeys } from '../src/lib/mesh/workspaceKeys.js';
import { MemoryDocs } from '../tests/unit/mesh/memoryDocs.js';

export { microCosts } from './syncLatencyMicro.js';
export { startTrace, takeTrace } from './syncLatencyTrace.js';

/** The peers under test. */
export type Target = 'y-webrtc+password' | 'y-webrtc' | 'outpost' | 'raw';

/** One update as the receiving page saw it. */
export interface Sample {
	i: number;
	/** Sender's clock at the write, ms since the epoch (sub-millisecond). */
	sent: number;
	/** Receiver's clock when the map changed. */
	recv: number;
	/** What delivered it (`outpost`: `session` or `gossip`). */
	via: string;
}

/** One copy of an update reaching the Outpost page: its key, send time and arrival time. */
export interface Copy {
	i: number;
	sent: number;
	at: number;
	/**
	 * `session` (applied by a sync session), `session-dup` (a session's copy of what was already
	 * there), `gossip-direct` / `gossip-relay` (a gossip message, from the other page or the relay).
	 */
	via: string;
}

/** Time the sender spent, per measured run. */
export interface SenderCost {
	/** Local-update listeners (Outpost: each session's forward and the gossip enqueue; raw: the stream write), synchronous part. */
	listenerCalls: number;
	listenerMs: number;
	/** Gossip publishes: count, synchronous part, and until each resolved. */
	publishes: number;
	publishSyncMs: number;
	publishAwaitMs: number;
}

/** Name of the Y.Map the benchmark writes: a note's `meta`, a map the note policy lets change (a note takes no name of its own). */
const MAP = 'meta';
/** Protocol of the raw baseline stream. */
const RAW_PROTOCOL = '/outpost-bench/raw/1.0.0';
/** Transaction origin of the benchmark's own writes. */
const LOCAL = 'bench-local';

const now = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** What the sender's hooks add up. */
const cost: SenderCost = { listenerCalls: 0, listenerMs: 0, publishes: 0, publishSyncMs: 0, publishAwaitMs: 0 };

/** Docs that log every apply (bytes kept, decoded later) and time the local-update listeners. */
class ObservedDocs extends MemoryDocs {
	readonly applies: Array<{ at: number; via: string; update: Uint8Array }> = [];

	override apply(docId: string, update: Uint8Array, origin: unknown): void {
		this.applies.push({ at: now(), via: originKind(origin), update });
		super.apply(docId, update, origin);
	}

	override onLocalUpdate(listener: UpdateListener): () => void {
		return super.onLocalUpdate((docId, update, origin) => {
			const t0 = performance.now();
			try {
				listener(docId, update, origin);
			} finally {
				cost.listenerCalls++;
				cost.listenerMs += performance.now() - t0;
			}
		});
	}
}

function originKind(origin: unknown): string {
	if (origin instanceof SyncSession) return 'session';
	if (typeof origin === 'object' && origin !== null && 'gossip' in origin) return 'gossip';
	return typeof origin === 'string' ? origin : 'other';
}

/** Everything this page holds. */
const state: {
	docs: Partial<Record<Target, Y.Doc>>;
	providers: WebrtcProvider[];
	node?: MeshNode;
	key?: PrivateKey;
	direct?: Connection;
	mesh?: MeshService;
	meshDocs?: ObservedDocs;
	keys?: WorkspaceKeys;
	meshErrors: string[];
	/** Sync streams per connection kind after the direct dial, as they change. */
	streamLog: string[];
	/** The workspace's sync states over time. */
	statusLog: string[];
	/** Whether this page's gossip publishes go out (off: a diagnostic run, sessions only). */
	gossipPublish: boolean;
	gossipIn: Array<{ at: number; data: Uint8Array; from: string }>;
	samples: Partial<Record<Target, Sample[]>>;
} = { docs: { raw: new Y.Doc() }, providers: [], meshErrors: [], statusLog: [], streamLog: [], gossipPublish: true, gossipIn: [], samples: {} };

/** Polls `check` every 10 ms; false after `timeoutMs`. */
async function until(check: () => boolean, timeoutMs: number): Promise<boolean> {
	const deadline = performance.now() + timeoutMs;
	while (!check()) {
		if (performance.now() > deadline) return false;
		await sleep(10);
	}
	return true;
}

/**
 * Joins a y-webrtc room through `signaling`; resolves once a peer is connected. y-webrtc
 * never retries a peer connection that failed (nor announces again), so a join that finds no
 * peer within `attemptMs` starts over with a fresh provider, up to `attempts` times.
 */
export async function yWebrtcJoin(init: {
	target: 'y-webrtc+password' | 'y-webrtc';
	room: string;
	signaling: string;
	password?: string;
	attemptMs: number;
	attempts: number;
}): Promise<{ ms: number; attempts: number }> {
	const t0 = performance.now();
	const doc = new Y.Doc();
	state.docs[init.target] = doc;
	let failure = '';
	for (let attempt = 1; attempt <= init.attempts; attempt++) {
		const provider = new WebrtcProvider(init.room, doc, {
			signaling: [init.signaling],
			...(init.password !== undefined ? { password: init.password } : {}),
			peerOpts: { config: { iceServers: [] } }
		});
		// A peer's `synced` flag can stay false for ever (y-webrtc sets it only while the room is
		// not synced, and a room whose first, glare-rejected peer closed counts as synced): wait
		// for a connected peer; the warm-up updates then prove that updates flow.
		const connected = () => [...(provider.room?.webrtcConns.values() ?? [])].some((c) => c.connected);
		if (await until(connected, init.attemptMs)) {
			state.providers.push(provider);
			return { ms: performance.now() - t0, attempts: attempt };
		}
		const peers = [...(provider.room?.webrtcConns.values() ?? [])].map((c) => `connected ${c.connected}`);
		const signalling = provider.signalingConns.map((c) => `connected ${c.connected}`);
		failure = `peers: ${peers.join('; ') || 'none'}; signalling: ${signalling.join('; ')}`;
		provider.destroy();
	}
	throw new Error(`${init.target}: no connected peer after ${init.attempts} attempts (${failure})`);
}

/** Starts this page's mesh node against the relay; resolves with its direct-dial address. */
export async function startNode(relay: string, timeoutMs: number, keyHex?: string): Promise<{ peerId: string; webrtcAddr: string; ms: number }> {
	const t0 = performance.now();
	// The device key of the team (made by the bench, so both pages are members of one team).
	const privateKey = keyHex !== undefined ? privateKeyFromProtobuf(fromHex(keyHex)) : await generateKeyPair('Ed25519');
	state.key = privateKey;
	const node = await createMeshNode({ privateKey, bootstrap: [relay] });
	state.node = node;
	const address = () => node.getMultiaddrs().map(String).find((a) => a.includes('/p2p-circuit/webrtc/p2p/'));
	if (!(await until(() => address() !== undefined, timeoutMs))) throw new Error('no relay reservation');
	return { peerId: node.peerId.toString(), webrtcAddr: address()!, ms: performance.now() - t0 };
}

/**
 * Starts a MeshService with the app's settings syncing one workspace over ObservedDocs
 * (before any direct dial, as in the app: the dialling peer opens the sessions), the
 * gossip and publish hooks, and the raw baseline's handler.
 */
export async function startMesh(init: { workspaceId: string; secretHex: string; docId: string; teamOpsHex?: string[]; rootHex?: string }): Promise<void> {
	const node = requireNode();
	// With the team, the pages run the workspace core as the app does: sessions by identity,
	// the write policy on every apply, gossip from members only, gossip key generations.
	const docs = new ObservedDocs(init.teamOpsHex !== undefined ? init.workspaceId : undefined);
	state.meshDocs = docs;
	state.docs.outpost = docs.get(init.docId);
	// Under a team a document is offered only when the root lists it (as the app's are).
	// The same root on both pages (made once by the bench: a listing is made once, rootPolicy.ts).
	if (init.teamOpsHex !== undefined && init.rootHex !== undefined) Y.applyUpdate(docs.get(init.workspaceId), fromHex(init.rootHex));
	const secret = fromHex(init.secretHex);
	state.keys = await deriveWorkspaceKeys(init.workspaceId, secret);
	const { pubsub } = node.services;
	const publish = pubsub.publish.bind(pubsub);
	pubsub.publish = (...args: Parameters<typeof publish>) => {
		if (!state.gossipPublish) return Promise.resolve({ recipients: [] });
		const t0 = performance.now();
		const result = publish(...args);
		cost.publishes++;
		cost.publishSyncMs += performance.now() - t0;
		void result.then(
			() => (cost.publishAwaitMs += performance.now() - t0),
			() => {}
		);
		return result;
	};
	pubsub.addEventListener('gossipsub:message', (event: CustomEvent<GossipsubMessage>) => {
		const { msg, propagationSource } = event.detail;
		if (msg.topic === state.keys?.topic) state.gossipIn.push({ at: now(), data: msg.data, from: propagationSource.toString() });
	});
	const mesh = meshService()({ node });
	state.mesh = mesh;
	mesh.on('error', (event) => state.meshErrors.push(`${event.error.name}: ${event.error.message}`));
	mesh.on('workspace-status', (status) => state.statusLog.push(`${(performance.now() / 1000).toFixed(1)}s ${status.state} live ${status.livePeers}`));
	await mesh.start();
	if (init.teamOpsHex === undefined || !state.key) {
		await mesh.addWorkspace({ id: init.workspaceId, secret, docs });
	} else {
		const peerId = node.peerId.toString();
		const device = { peerId, privateKey: state.key };
		const authority = new TeamAuthority({ workspaceId: init.workspaceId, doc: docs.get(teamRosterId(init.workspaceId)), device });
		for (const hex of init.teamOpsHex) await authority.add(decodeOp(fromHex(hex)));
		await syncWorkspace(mesh, { id: init.workspaceId, secret, docs, authority, device, onError: (e) => state.meshErrors.push(`keys: ${e.message}`) });
		// The bench opens gossip copies itself to attribute them: with the keyring's generations.
		state.keys = mesh.workspaceKeys(init.workspaceId) ?? state.keys;
	}
	// The raw baseline: whoever opens the stream receives; local writes to the raw doc go out on it.
	await node.handle(RAW_PROTOCOL, (stream) => {
		const lp = lpStream(stream);
		requireDoc('raw').on('update', (update: Uint8Array, origin: unknown) => {
			if (origin !== LOCAL) return;
			const t0 = performance.now();
			void lp.write(update).catch(() => {});
			cost.listenerCalls++;
			cost.listenerMs += performance.now() - t0;
		});
	});
}

/** Dials the other page directly (WebRTC through the relay's circuit), with retries. */
export async function dialDirect(addr: string): Promise<{ kind: string; ms: number; retries: string[] }> {
	const t0 = performance.now();
	const retries: string[] = [];
	watchSyncStreams(5000);
	const connection = await dialWithRetry(requireNode(), multiaddr(addr), {
		firstTimeoutMs: 2000,
		onRetry: (event) => retries.push(event.error.name)
	});
	state.direct = connection;
	return { kind: linkKind(connection.remoteAddr), ms: performance.now() - t0, retries };
}

/** Logs, every 10 ms for `ms`, how many sync streams each connection kind carries whenever that changes. */
function watchSyncStreams(ms: number): void {
	const node = requireNode();
	const t0 = performance.now();
	let last = '';
	const timer = setInterval(() => {
		const counts = node
			.getConnections()
			.filter((c) => linkKind(c.remoteAddr) !== 'direct')
			.map((c) => `${linkKind(c.remoteAddr)} ${c.streams.filter((x) => x.protocol === SYNC_PROTOCOL_ID).length}`)
			.join(', ');
		if (counts !== last) state.streamLog.push(`+${(performance.now() - t0).toFixed(0)} ms: ${counts || 'no peer connection'}`);
		last = counts;
		if (performance.now() - t0 > ms) clearInterval(timer);
	}, 10);
}

/** Opens the raw baseline stream on the direct connection {@link dialDirect} made and applies every frame it brings. */
export async function openRaw(): Promise<void> {
	if (state.direct === undefined) throw new Error('dialDirect first');
	const lp = lpStream(await state.direct.newStream(RAW_PROTOCOL, { signal: AbortSignal.timeout(5000) }));
	const doc = requireDoc('raw');
	void (async () => {
		try {
			for (;;) Y.applyUpdate(doc, (await lp.read()).subarray(), 'raw');
		} catch {
			// The stream ended with the page.
		}
	})();
}

/** This page's connections (kind, direction, peer), its sync sessions' status and mesh errors. */
export function meshInfo(workspaceId: string): { connections: string[]; status: unknown; statusLog: string[]; streamLog: string[]; errors: string[] } {
	return {
		connections: requireNode()
			.getConnections()
			.map((c) => {
				const sync = c.streams.filter((x) => x.protocol === SYNC_PROTOCOL_ID).length;
				return `${linkKind(c.remoteAddr)} ${c.direction} …${c.remotePeer.toString().slice(-6)} (${sync} sync streams)`;
			}),
		status: state.mesh?.status(workspaceId),
		statusLog: state.statusLog.slice(-20),
		streamLog: state.streamLog.slice(0, 30),
		errors: state.meshErrors.slice(0, 20)
	};
}

/** Starts recording arrivals on `target`'s doc (the receiving page). */
export function watch(target: Target): void {
	const samples: Sample[] = [];
	state.samples[target] = samples;
	requireDoc(target)
		.getMap<number>(MAP)
		.observe((event) => {
			const recv = now();
			const via = target === 'outpost' ? originKind(event.transaction.origin) : target;
			for (const key of event.keysChanged) {
				const sent = event.target.get(key);
				if (typeof sent === 'number') samples.push({ i: Number(key), sent, recv, via });
			}
		});
}

/** Writes `count` updates to `target`'s doc, one every `intervalMs` (the sending page). */
export async function send(target: Target, init: { count: number; intervalMs: number; from: number }): Promise<SenderCost> {
	const doc = requireDoc(target);
	const map = doc.getMap<number>(MAP);
	Object.assign(cost, { listenerCalls: 0, listenerMs: 0, publishes: 0, publishSyncMs: 0, publishAwaitMs: 0 });
	for (let i = init.from; i < init.from + init.count; i++) {
		const sent = now();
		doc.transact(() => map.set(String(i), sent), LOCAL);
		await sleep(init.intervalMs);
	}
	await sleep(50); // let the last publishes resolve
	return { ...cost };
}

/** Turns this page's gossip publishing on or off (diagnostic: sessions alone carry updates). */
export function setGossipPublish(on: boolean): void {
	state.gossipPublish = on;
}

/** Forgets the copies logged so far (the receiving page, before a measured run). */
export function resetCopies(): void {
	state.meshDocs?.applies.splice(0);
	state.gossipIn.splice(0);
}

/** Waits until updates `from`…`from + count - 1` arrived on `target` (or the timeout); returns them. */
export async function collect(target: Target, init: { count: number; from: number; timeoutMs: number }): Promise<Sample[]> {
	const samples = state.samples[target] ?? [];
	const wanted = (s: Sample) => s.i >= init.from && s.i < init.from + init.count;
	await until(() => samples.filter(wanted).length >= init.count, init.timeoutMs);
	return samples.filter(wanted);
}

/**
 * Every copy of an Outpost update this page received since {@link resetCopies}: decoded
 * now (not while measuring) from the applied bytes and the opened gossip envelopes.
 */
export async function copies(): Promise<Copy[]> {
	const out: Copy[] = [];
	for (const { at, via, update } of state.meshDocs?.applies ?? []) {
		const items = writesIn(update);
		if (items.length === 0 && via === 'session') out.push({ i: -1, sent: NaN, at, via: 'session-dup' });
		for (const item of items) out.push({ ...item, at, via });
	}
	const keys = state.keys;
	if (keys !== undefined) {
		const peer = state.direct?.remotePeer.toString();
		for (const { at, data, from } of state.gossipIn) {
			try {
				const { update } = await openEnvelope(keys, data);
				const via = from === peer ? 'gossip-direct' : 'gossip-relay';
				for (const item of writesIn(update)) out.push({ ...item, at, via });
			} catch {
				// Not an update envelope (awareness, another kind): not ours to count.
			}
		}
	}
	return out;
}

/** The benchmark's writes (key, send time) in a Yjs update. */
function writesIn(update: Uint8Array): Array<{ i: number; sent: number }> {
	const out: Array<{ i: number; sent: number }> = [];
	for (const struct of Y.decodeUpdate(update).structs) {
		if (!(struct instanceof Y.Item) || struct.parentSub === null) continue;
		const [sent] = struct.content.getContent() as unknown[];
		if (typeof sent === 'number') out.push({ i: Number(struct.parentSub), sent });
	}
	return out;
}

function requireNode(): MeshNode {
	if (state.node === undefined) throw new Error('startNode first');
	return state.node;
}

function requireDoc(target: Target): Y.Doc {
	const doc = state.docs[target];
	if (doc === undefined) throw new Error(`no ${target} document on this page`);
	return doc;
}
