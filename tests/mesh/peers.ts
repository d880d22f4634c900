/**
 * Outpost peers for the in-process mesh tests: a real libp2p node on 127.0.0.1 (helpers.ts)
 * with a MeshService syncing MemoryDocs, a gater whose blocks can be lifted again (for
 * partitions), and document snapshots to compare peers by.
 */
import '../../src/lib/mesh/polyfills.node.js';
import type { PeerId, PrivateKey } from '@libp2p/interface';
import * as Y from 'yjs';
import { newId } from '../../src/lib/doc/ids.js';
import { createMeshGater, type MeshGater } from '../../src/lib/mesh/gater.js';
import { meshService, type MeshErrorEvent, type MeshService, type MeshServiceInit } from '../../src/lib/mesh/MeshService.js';
import type { NodeMeshNode, NodeMeshNodeInit } from '../../src/lib/mesh/node.node.js';
import { newSecret } from '../../src/lib/mesh/secret.js';
import { toHex } from '../../src/lib/mesh/workspaceKeys.js';
import { MemoryDocs } from '../unit/mesh/memoryDocs.js';
import { addressOf, startNode, stopAll } from './helpers.js';

/** A workspace id and secret. */
export interface TestWorkspace {
	id: string;
	secret: Uint8Array;
}

/** A gater whose peer blocks can be lifted (the mesh gater's deny list only grows). */
export interface BlockableGater extends MeshGater {
	readonly blocked: Set<string>;
}

/** One test peer. */
export interface Peer {
	node: NodeMeshNode;
	mesh: MeshService;
	docs: MemoryDocs;
	gater: BlockableGater;
	errors: MeshErrorEvent[];
	name: string;
}

const meshes: MeshService[] = [];

/** A new workspace. */
export function newWorkspace(): TestWorkspace {
	return { id: newId(), secret: newSecret() };
}

/** A mesh gater plus a set of peer ids refused in every direction while listed. */
export function blockableGater(): BlockableGater {
	const base = createMeshGater();
	const blocked = new Set<string>();
	const isBlocked = (peer: PeerId) => blocked.has(peer.toString());
	return {
		...base,
		blocked,
		denyDialPeer: (peer) => isBlocked(peer) || base.denyDialPeer!(peer),
		denyInboundEncryptedConnection: (peer, conn) => isBlocked(peer) || base.denyInboundEncryptedConnection!(peer, conn),
		denyOutboundEncryptedConnection: (peer, conn) => isBlocked(peer) || base.denyOutboundEncryptedConnection!(peer, conn)
	};
}

/** Starts a node and a mesh service syncing `workspace` (when given) over fresh MemoryDocs. */
export async function startPeer(
	workspace: TestWorkspace | undefined,
	options: { name?: string; mesh?: MeshServiceInit; docs?: MemoryDocs; privateKey?: PrivateKey; node?: Partial<NodeMeshNodeInit> } = {}
): Promise<Peer> {
	const gater = blockableGater();
	const node = await startNode({ ...options.node, gater, ...(options.privateKey ? { privateKey: options.privateKey } : {}) });
	const mesh = meshService({ antiEntropyIntervalMs: 0, ...options.mesh })({ node });
	meshes.push(mesh);
	const errors: MeshErrorEvent[] = [];
	mesh.on('error', (event) => errors.push(event));
	await mesh.start();
	const docs = options.docs ?? new MemoryDocs();
	if (workspace !== undefined) await mesh.addWorkspace({ ...workspace, docs });
	return { node, mesh, docs, gater, errors, name: options.name ?? node.peerId.toString().slice(-6) };
}

/** Stops every mesh service, then every node (one at a time). */
export async function stopPeers(): Promise<void> {
	for (const mesh of meshes.splice(0)) await mesh.stop();
	await stopAll();
}

/** `a` dials `b` (so `a` opens the sync sessions). */
export async function connect(a: Peer, b: Peer): Promise<void> {
	await a.node.dial(addressOf(b.node));
}

/** Cuts every connection between `a` and `b` and refuses new ones both ways. */
export async function partition(a: Peer, b: Peer): Promise<void> {
	a.gater.blocked.add(b.node.peerId.toString());
	b.gater.blocked.add(a.node.peerId.toString());
	await a.node.hangUp(b.node.peerId);
	await b.node.hangUp(a.node.peerId);
}

/** Lifts the blocks between `a` and `b` and connects them again. */
export async function heal(a: Peer, b: Peer): Promise<void> {
	a.gater.blocked.delete(b.node.peerId.toString());
	b.gater.blocked.delete(a.node.peerId.toString());
	await connect(a, b);
}

/** Whether `a` and `b` have an open connection. */
export function connected(a: Peer, b: Peer): boolean {
	return a.node.getConnections(b.node.peerId).some((c) => c.status === 'open');
}

/**
 * Every document of a peer as compared across peers: its id, state vector (hex) and the
 * JSON of the shared types the tests use (Y.Array `a`, Y.Map `m`, Y.Text `t`).
 */
export function fingerprint(docs: MemoryDocs): string {
	const out: Record<string, unknown> = {};
	for (const [id, doc] of [...docs.docs].sort(([x], [y]) => x.localeCompare(y))) {
		out[id] = {
			sv: toHex(Y.encodeStateVector(doc)),
			a: doc.getArray('a').toJSON(),
			// Y.Map's JSON lists keys in local insertion order, which differs between peers.
			m: Object.fromEntries(Object.entries(doc.getMap('m').toJSON()).sort(([x], [y]) => x.localeCompare(y))),
			t: doc.getText('t').toString()
		};
	}
	return JSON.stringify(out);
}

/** Whether every peer has the same documents in the same state. */
export function converged(peers: Peer[]): boolean {
	const first = fingerprint(peers[0]!.docs);
	return peers.every((p) => fingerprint(p.docs) === first);
}
