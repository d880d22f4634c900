/**
 * Random partition and heal, in the style of Yjs's `applyRandomTests`: five peers on real
 * libp2p nodes, for each seed a run of random steps (concurrent writes to Y.Array, Y.Map
 * and Y.Text on random peers, links cut with hangUp plus a gater block, links restored),
 * then every link restored: all peers must end with identical documents (same state
 * vectors, same JSON), across many seeds.
 */
import '../../src/lib/mesh/polyfills.node.js'; // before anything that loads libp2p
import { afterEach, describe, expect, it } from 'vitest';
import { newId } from '../../src/lib/doc/ids.js';
import { mulberry32 } from '../fixtures/random.js';
import { waitFor } from './helpers.js';
import { connect, connected, converged, fingerprint, heal, newWorkspace, partition, startPeer, stopPeers, type Peer } from './peers.js';

const PEERS = 5;
/** Seeds per run; MESH_SEEDS=100 for a longer search. */
const SEEDS = Number(process.env.MESH_SEEDS ?? 12);
const STEPS = 40;

afterEach(stopPeers, 15_000);

/** One random write on one peer. */
function write(peer: Peer, docId: string, random: () => number, step: number): void {
	const doc = peer.docs.get(docId);
	const choice = random();
	if (choice < 0.3) {
		const array = doc.getArray<string>('a');
		array.insert(Math.floor(random() * (array.length + 1)), [`${peer.name}:${step}`]);
	} else if (choice < 0.45) {
		const array = doc.getArray<string>('a');
		if (array.length > 0) array.delete(Math.floor(random() * array.length), 1);
	} else if (choice < 0.7) {
		doc.getMap('m').set(`k${Math.floor(random() * 4)}`, `${peer.name}:${step}`);
	} else {
		const text = doc.getText('t');
		if (random() < 0.2 && text.length > 2) text.delete(Math.floor(random() * (text.length - 1)), 1);
		else text.insert(Math.floor(random() * (text.length + 1)), `${step}${peer.name} `);
	}
}

const pick = <T>(items: T[], random: () => number): T => items[Math.floor(random() * items.length)]!;

async function runSeed(seed: number): Promise<{ steps: string[]; healMs: number; divergedAtHeal: boolean }> {
	const random = mulberry32(seed);
	const ws = newWorkspace();
	const peers: Peer[] = [];
	for (let i = 0; i < PEERS; i++) {
		peers.push(await startPeer(ws, { name: `p${i}`, mesh: { antiEntropyIntervalMs: 2000 } }));
	}
	const docIds = [newId(), newId(), newId()];
	const pairs: Array<[Peer, Peer]> = [];
	for (let i = 0; i < PEERS; i++) for (let j = i + 1; j < PEERS; j++) pairs.push([peers[i]!, peers[j]!]);
	// Start as a random connected graph: a chain in random order plus a few extra links.
	const order = [...peers].sort(() => random() - 0.5);
	for (let i = 1; i < order.length; i++) await connect(order[i]!, order[i - 1]!);
	for (let i = 0; i < 2; i++) {
		const [x, y] = pick(pairs, random);
		if (!connected(x, y)) await connect(x, y);
	}
	const log: string[] = [];
	for (let step = 0; step < STEPS; step++) {
		const r = random();
		if (r < 0.6) {
			// A burst of concurrent writes on random peers, without waiting in between.
			const count = 1 + Math.floor(random() * 3);
			for (let k = 0; k < count; k++) write(pick(peers, random), pick(docIds, random), random, step);
			log.push(`write×${count}`);
		} else if (r < 0.8) {
			const [x, y] = pick(pairs, random);
			if (connected(x, y)) {
				await partition(x, y);
				log.push(`cut ${x.name}-${y.name}`);
			}
		} else {
			const [x, y] = pick(pairs, random);
			if (!connected(x, y)) {
				await heal(random() < 0.5 ? x : y, random() < 0.5 ? y : x).catch(() => {});
				log.push(`link ${x.name}-${y.name}`);
			}
		}
		// Sometimes let messages flow, sometimes act again at once.
		if (random() < 0.5) await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 15)));
	}
	// Heal: lift every block and connect every peer to the next one (and the first to the last).
	const divergedAtHeal = !converged(peers);
	const start = performance.now();
	for (const p of peers) p.gater.blocked.clear();
	for (let i = 0; i < PEERS; i++) {
		const [x, y] = [peers[i]!, peers[(i + 1) % PEERS]!];
		if (!connected(x, y)) await connect(x, y);
	}
	await waitFor(() => converged(peers), `seed ${seed} to converge after ${log.join(', ')}`, 15_000).catch((error: unknown) => {
		for (const p of peers) {
			const links = peers.filter((q) => q !== p && connected(p, q)).map((q) => q.name);
			console.error(p.name, 'links', links, 'status', p.mesh.status(ws.id), 'errors', p.errors.map((e) => e.error.name + ' ' + e.error.message));
			console.error(p.name, fingerprint(p.docs));
		}
		throw error;
	});
	const healMs = performance.now() - start;
	const errors = peers.flatMap((p) => p.errors).filter((e) => !isExpectedOnHangUp(e.error));
	expect(errors.map((e) => `${e.error.name}: ${e.error.message}`)).toEqual([]);
	expect(fingerprint(peers[0]!.docs)).not.toBe('{}');
	return { steps: log, healMs, divergedAtHeal };
}

/** Streams cut by a hang-up end with a reset or a failed open; anything else is a bug. */
function isExpectedOnHangUp(error: Error): boolean {
	return /StreamReset|StreamClosed|ConnectionClosed|StreamStateError|Abort|MuxerClosed|StreamCloseTimeout/.test(
		`${error.name} ${error.message}`
	);
}

describe('random partitions and heals, five peers', () => {
	it(`converge to identical documents for ${SEEDS} seeds`, async () => {
		const times: number[] = [];
		let diverged = 0;
		for (let seed = 1; seed <= SEEDS; seed++) {
			const result = await runSeed(seed);
			times.push(result.healMs);
			if (result.divergedAtHeal) diverged++;
			await stopPeers();
		}
		// The runs must exercise repair: most end their random steps with peers apart.
		expect(diverged).toBeGreaterThan(SEEDS / 2);
		console.info(`partition/heal: ${SEEDS} seeds × ${STEPS} steps, ${diverged} apart at the heal, converged ${times.map((t) => t.toFixed(0)).join(', ')} ms after healing`);
	}, Math.max(80_000, SEEDS * 6000));
});
