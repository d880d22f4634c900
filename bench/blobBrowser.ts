/**
 * The in-page half of the blob-transfer bench (bench/blob-transfer.ts), bundled for Chromium:
 * the app's browser mesh node (node.browser.ts) against the bench's relay, the app's
 * {@link BlobService} (`/outpost/blob/1`) over the app's IndexedDB blob store (IdbBlobStore in
 * an OutpostDb of its own), and the raw baseline (blobRaw.ts). Every transfer is timed here,
 * in the fetching page. The team's read check is not part of this half (`mayRead` allows):
 * the app's UI path, with it, is timed by blobApp.ts.
 *
 * Stores by workspace id: a page serves every GET from its source store (what {@link makeSource}
 * put there), whatever workspace the GET names; a fetch goes into a fresh store per run
 * (`run` names it), emptied again by {@link dropRun}.
 */
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { Connection } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import { manifestOf, verifyChunk } from '../src/lib/blob/blobManifest.js';
import { BlobService } from '../src/lib/blob/blobService.js';
import { MemoryBlobStore, storeBlob, type BlobStore } from '../src/lib/blob/BlobStore.js';
import { dialWithRetry } from '../src/lib/mesh/dial.js';
import { createMeshNode } from '../src/lib/mesh/node.browser.js';
import { linkKind, type LinkKind, type MeshNode } from '../src/lib/mesh/node.js';
import { OutpostDb } from '../src/lib/store/db.js';
import { IdbBlobStore } from '../src/lib/store/IdbBlobStore.js';
import { handleRaw, onConnection, readRaw, TimedStore, type StoreTimes } from './blobRaw.js';

const state: {
	node?: MeshNode;
	db?: OutpostDb;
	server?: BlobService;
	/** What this page serves: IndexedDB (the app's) and the same blob in memory (diagnostic). */
	source?: { idb: TimedStore; memory: TimedStore };
	runs: Map<string, TimedStore>;
	errors: string[];
} = { runs: new Map(), errors: [] };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Starts the node against the relay; resolves with its addresses once it holds a reservation. */
export async function start(relay: string, dbName: string): Promise<{ peerId: string; webrtc: string; circuit: string }> {
	const node = await createMeshNode({ privateKey: await generateKeyPair('Ed25519'), bootstrap: [relay] });
	state.node = node;
	state.db = new OutpostDb(dbName);
	await state.db.open();
	state.source = { idb: new TimedStore(new IdbBlobStore(state.db, 'source')), memory: new TimedStore(new MemoryBlobStore()) };
	state.server = new BlobService({
		node,
		// A GET naming a `memory` workspace is served from memory, any other from IndexedDB.
		storeFor: (id) => state.runs.get(id) ?? (id.startsWith('memory') ? state.source!.memory : state.source!.idb),
		mayRead: () => true,
		onError: (error) => state.errors.push(`${error.name}: ${error.message}`)
	});
	await state.server.start();
	await handleRaw(node);
	const deadline = performance.now() + 15_000;
	for (;;) {
		const addrs = node.getMultiaddrs().map(String);
		const webrtc = addrs.find((a) => a.includes('/p2p-circuit/webrtc/p2p/'));
		const circuit = addrs.find((a) => a.endsWith(`/p2p-circuit/p2p/${node.peerId.toString()}`));
		if (webrtc !== undefined && circuit !== undefined) return { peerId: node.peerId.toString(), webrtc, circuit };
		if (performance.now() > deadline) throw new Error(`no relay reservation within 15 s (addresses: ${addrs.join(', ')})`);
		await sleep(50);
	}
}

/**
 * Makes `bytes` random bytes and stores them as a blob in both source stores; returns its id and
 * what the app's own attach costs (hashing the chunks; hashing and storing in IndexedDB).
 */
export async function makeSource(bytes: number): Promise<{ blobId: string; hashMs: number; storeMs: number }> {
	const data = new Uint8Array(bytes);
	for (let i = 0; i < bytes; i += 65_536) crypto.getRandomValues(data.subarray(i, Math.min(bytes, i + 65_536)));
	let t0 = performance.now();
	const manifest = await manifestOf(data);
	const hashMs = performance.now() - t0;
	t0 = performance.now();
	await storeBlob(state.source!.idb, data);
	const storeMs = performance.now() - t0;
	await storeBlob(state.source!.memory, data);
	return { blobId: manifest.id, hashMs, storeMs };
}

/** Dials a page: `webrtc` (the direct upgrade, with retries) or `relayed` (the circuit itself). */
export async function dial(address: string, kind: 'webrtc' | 'relayed'): Promise<string> {
	const node = state.node!;
	const connection = kind === 'webrtc' ? await dialWithRetry(node, multiaddr(address), { firstTimeoutMs: 3000 }) : await node.dial(multiaddr(address));
	return `${linkKind(connection.remoteAddr)}${connection.limits ? ` (limited: ${JSON.stringify(connection.limits, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v))})` : ''}`;
}

/** Dials `address` (the relay) unless a connection to it is open; true when it had to redial. */
export async function ensureConnected(address: string): Promise<boolean> {
	const peer = peerIdFromString(multiaddr(address).getComponents().at(-1)!.value!);
	if (state.node!.getConnections(peer).some((c) => c.status === 'open')) return false;
	await state.node!.dial(multiaddr(address));
	return true;
}

/** This node's open connection of `kind` to `peerId`. */
function connectionTo(peerId: string, kind: LinkKind): Connection {
	const found = state.node!.getConnections(peerIdFromString(peerId)).find((c) => linkKind(c.remoteAddr) === kind && c.status === 'open');
	if (found === undefined) throw new Error(`no open ${kind} connection to ${peerId}`);
	return found;
}

/** The kinds of this node's connections to `peerId`. */
export function links(peerId: string): string[] {
	return state.node!.getConnections(peerIdFromString(peerId)).map((c) => `${linkKind(c.remoteAddr)}${c.limits ? ' (limited)' : ''}`);
}

/** One timed transfer. */
export interface Transfer {
	ms: number;
	bytes: number;
	/** Time in the fetching side's store calls (blob fetches). */
	store?: StoreTimes;
	error?: string;
}

/**
 * Fetches blob `blobId` from `peerId` over this page's `link` connection to it into a fresh
 * store named `run` (IndexedDB, or memory when `memory`: the GETs then name a `memory…`
 * workspace, which the other side serves from memory too).
 */
export async function fetchBlob(init: { peerId: string; link: LinkKind; blobId: string; run: string; memory: boolean; timeoutMs: number }): Promise<Transfer> {
	const store = new TimedStore(init.memory ? new MemoryBlobStore() : new IdbBlobStore(state.db!, init.run));
	state.runs.set(init.run, store);
	const service = new BlobService({ node: onConnection(state.node!, connectionTo(init.peerId, init.link)), storeFor: (id) => state.runs.get(id), mayRead: () => false });
	const t0 = performance.now();
	try {
		const manifest = await service.fetch(init.run, init.blobId, [init.peerId], { docId: 'bench', signal: AbortSignal.timeout(init.timeoutMs) });
		return { ms: performance.now() - t0, bytes: manifest.size, store: store.times };
	} catch (error) {
		const held = (await store.inner.missing(init.blobId).catch(() => undefined)) ?? [];
		const e = error instanceof Error ? error : new Error(String(error));
		const why = 'failures' in e ? (e as { failures: Array<{ error: Error }> }).failures.map((f) => `${f.error.name}: ${f.error.message}`).join('; ') : '';
		return { ms: performance.now() - t0, bytes: 0, error: `${e.name}: ${e.message}${why ? ` (${why})` : ''}; ${held.length} chunks still missing` };
	}
}

/** Reads `bytes` raw bytes from `peerId` over this page's `link` connection to it. */
export async function raw(init: { peerId: string; link: LinkKind; bytes: number; timeoutMs: number }): Promise<Transfer> {
	try {
		return { ms: await readRaw(connectionTo(init.peerId, init.link), init.bytes, init.timeoutMs), bytes: init.bytes };
	} catch (error) {
		return { ms: NaN, bytes: 0, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
	}
}

/** Empties run `run`'s store. */
export async function dropRun(run: string): Promise<void> {
	state.runs.delete(run);
	await state.db!.blobChunks.where('[workspaceId+id]').between([run, ''], [run, '\uffff']).delete();
	await state.db!.blobManifests.where('[workspaceId+id]').between([run, ''], [run, '\uffff']).delete();
}

/** The serving side's store time since the last call (then reset). */
export function takeServeTimes(): { idb: StoreTimes; memory: StoreTimes } {
	const out = structuredClone({ idb: state.source!.idb.times, memory: state.source!.memory.times });
	state.source!.idb.reset();
	state.source!.memory.reset();
	return out;
}

/**
 * What the fetching side does per chunk, alone, over the source blob (`chunks` of them): SHA-256
 * verification, and IndexedDB writes one at a time (as the fetch awaits them) — ms in all.
 */
export async function microCosts(blobId: string, chunks: number): Promise<{ chunks: number; verifyMs: number; idbPutMs: number; idbReadMs: number }> {
	const source = state.source!.memory.inner;
	const manifest = (await source.manifest(blobId))!;
	const n = Math.min(chunks, manifest.hashes.length);
	const bytes: Uint8Array[] = [];
	for (let i = 0; i < n; i++) bytes.push((await source.chunk(blobId, i))!);
	let t0 = performance.now();
	for (let i = 0; i < n; i++) if (!(await verifyChunk(manifest, i, bytes[i]!))) throw new Error('verify failed');
	const verifyMs = performance.now() - t0;
	const target: BlobStore = new IdbBlobStore(state.db!, 'micro');
	await target.putManifest(manifest);
	t0 = performance.now();
	for (let i = 0; i < n; i++) await target.putChunk(blobId, i, bytes[i]!);
	const idbPutMs = performance.now() - t0;
	t0 = performance.now();
	for (let i = 0; i < n; i++) await target.chunk(blobId, i);
	const idbReadMs = performance.now() - t0;
	await dropRun('micro');
	return { chunks: n, verifyMs, idbPutMs, idbReadMs };
}

/** Errors the serving side reported. */
export function errors(): string[] {
	return state.errors.slice(-10);
}

/** Stops the node (the page leaves the mesh). */
export async function stop(): Promise<void> {
	await state.server?.stop().catch(() => undefined);
	await state.node?.stop();
}
