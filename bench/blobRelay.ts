/**
 * The relay of the blob-transfer bench's transfer runs (bench/blob-transfer.ts): a Node mesh
 * node made as relay/run.ts makes the relay's (node.node.ts, the same circuit relay server
 * settings, WebSockets for browsers), the app's {@link BlobService} over the relay's own blob
 * store (SqliteBlobStore in a relay database opened as the relay opens it), and the raw
 * baseline. It pins a blob from a page (fetches it into its database, as the archive does for
 * an archived workspace) and serves it to a page afterwards; the team's read check is not part
 * of it (`mayRead` allows). The circuit relay server keeps libp2p's default limits, as the
 * relay does: a relayed connection carries 128 KiB each way.
 */
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { Connection } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { BlobService } from '../src/lib/blob/blobService.ts';
import { createMeshNode, type NodeMeshNode } from '../src/lib/mesh/node.node.ts';
import { linkKind } from '../src/lib/mesh/node.ts';
import { openRelayDb, type RelayDb } from '../relay/archive/relayDb.ts';
import { SqliteBlobStore } from '../relay/archive/SqliteBlobStore.ts';
import { handleRaw, onConnection, readRaw, TimedStore } from './blobRaw.ts';
import type { Transfer } from './blobBrowser.ts';

/** The bench's relay; see the module comment. */
export interface BenchRelay {
	node: NodeMeshNode;
	/** Its WebSocket address for the pages. */
	address: string;
	/** Pins blob `blobId` from page `peerId` into a fresh store named `run` (kept: the relay serves it later). */
	pin(peerId: string, blobId: string, run: string, timeoutMs: number): Promise<Transfer>;
	/** Reads `bytes` raw bytes from page `peerId` over the same connection. */
	raw(peerId: string, bytes: number, timeoutMs: number): Promise<Transfer>;
	/** Serves GETs from now on out of store `run` (what {@link pin} fetched). */
	serveFrom(run: string): void;
	/** Time in the serving store's calls since the last call. */
	takeServeTimes(): TimedStore['times'];
	/** Connections that closed (peer id's end, address), oldest first. */
	drops: string[];
	/** Empties a run's store. */
	drop(run: string): void;
	close(): Promise<void>;
}

/** Same settings as relay/run.ts's RELAY_SERVER. */
const RELAY_SERVER = { reservations: { maxReservations: 256 } };

export async function startBenchRelay(host: string, dataDir: string): Promise<BenchRelay> {
	const node = await createMeshNode({ privateKey: await generateKeyPair('Ed25519'), listen: [`/ip4/${host}/tcp/0/ws`], relayServer: RELAY_SERVER, mdns: false });
	const relayDb: RelayDb = openRelayDb(dataDir);
	const stores = new Map<string, TimedStore>();
	const drops: string[] = [];
	let serving: TimedStore | undefined;
	const server = new BlobService({ node, storeFor: (id) => stores.get(id) ?? serving, mayRead: () => true });
	await server.start();
	await handleRaw(node);
	node.addEventListener('connection:close', (event) => drops.push(`${event.detail.remotePeer.toString().slice(-8)} ${event.detail.remoteAddr.toString().split('/p2p/')[0]}`));
	const address = node.getMultiaddrs().map(String).find((a) => a.includes('/ws/'));
	if (address === undefined) throw new Error('the bench relay has no WebSocket address');
	const connectionTo = (peerId: string): Connection => {
		const found = node.getConnections(peerIdFromString(peerId)).find((c) => linkKind(c.remoteAddr) === 'direct' && c.status === 'open');
		if (found === undefined) throw new Error(`the relay has no connection to ${peerId}`);
		return found;
	};
	return {
		node,
		address,
		drops,
		async pin(peerId, blobId, run, timeoutMs) {
			const store = new TimedStore(new SqliteBlobStore(relayDb, run));
			stores.set(run, store);
			const service = new BlobService({ node: onConnection(node, connectionTo(peerId)), storeFor: (id) => stores.get(id), mayRead: () => false });
			const t0 = performance.now();
			try {
				const manifest = await service.fetch(run, blobId, [peerId], { docId: 'bench', signal: AbortSignal.timeout(timeoutMs) });
				return { ms: performance.now() - t0, bytes: manifest.size, store: structuredClone(store.times) };
			} catch (error) {
				return { ms: performance.now() - t0, bytes: 0, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
			}
		},
		async raw(peerId, bytes, timeoutMs) {
			try {
				return { ms: await readRaw(connectionTo(peerId), bytes, timeoutMs), bytes };
			} catch (error) {
				return { ms: NaN, bytes: 0, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
			}
		},
		serveFrom(run) {
			serving = stores.get(run);
			serving?.reset();
		},
		takeServeTimes() {
			const times = structuredClone(serving?.times ?? new TimedStore(new SqliteBlobStore(relayDb, 'none')).times);
			serving?.reset();
			return times;
		},
		drop(run) {
			stores.delete(run);
			relayDb.db.prepare('DELETE FROM blob_chunks WHERE workspace = ?').run(run);
			relayDb.db.prepare('DELETE FROM blob_manifests WHERE workspace = ?').run(run);
		},
		async close() {
			await server.stop().catch(() => undefined);
			await node.stop();
			relayDb.db.close();
		}
	};
}
