/**
 * Benchmark: the update check on a live update into a channel written in many sessions.
 *
 *   npm run bench:update-check
 *
 * Every replica checks each remote update before it touches a document (updateCheck.ts
 * `applicablePart`: a dry run on a scratch document). A channel gains a Yjs client for every
 * session that ever wrote to it (each app start draws a new client id), so after months it
 * holds hundreds or thousands. Per live update (one message appended by one client), in one
 * run, on documents of BENCH_CLIENTS clients (default 1,10,100,1000):
 *
 * - **raw Yjs**: `Y.applyUpdate` alone (what y-webrtc does);
 * - **check as it was**: the target's state vector encoded, decoded and every client seeded
 *   on the scratch document (tests/fixtures/updateCheckReference.ts, reusing one scratch
 *   document as the check did), then applied;
 * - **check from the state vector**: `applicablePart` with the encoded state vector (a
 *   SyncDocs without `clocks`), which now seeds only the clients the update names, then applied;
 * - **check from the clock lookup**: `applicablePart` reading `Y.getState` per named client, as
 *   SyncSession and gossip do now (`targetClocks`), then applied.
 *
 * BENCH_UPDATES live updates per path (default 2,000) after 200 warm-up; the paths alternate
 * over BENCH_ROUNDS rounds (default 5); medians in µs per update. Prints a table and writes
 * bench/results/update-check.json. Figures only.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as Y from 'yjs';
import { applicablePart, clocksOfDoc } from '../src/lib/mesh/updateCheck.ts';
import { referencePart } from '../tests/fixtures/updateCheckReference.ts';
import { benchEnvironment, positiveInt } from './env.ts';

const here = dirname(fileURLToPath(import.meta.url));
const CLIENTS = (process.env.BENCH_CLIENTS ?? '1,10,100,1000').split(',').map(Number);
const UPDATES = positiveInt('BENCH_UPDATES', 2000);
const ROUNDS = positiveInt('BENCH_ROUNDS', 5);
const WARMUP = 200;

/** The scratch document the reference check reuses, as updateCheck.ts did. */
const spare = new Y.Doc({ guid: 'bench' });

/** A channel-like document written in `clients` sessions, and `count` live appends by one more. */
function fixture(clients: number, count: number): { history: Uint8Array; live: Uint8Array[] } {
	const doc = new Y.Doc();
	for (let c = 0; c < clients; c++) {
		const session = new Y.Doc();
		Y.applyUpdate(session, Y.encodeStateAsUpdate(doc));
		session.getArray('messages').push([{ id: `h${c}`, author: `peer${c % 8}`, text: `message from session ${c}` }]);
		Y.applyUpdate(doc, Y.encodeStateAsUpdate(session, Y.encodeStateVector(doc)));
	}
	const writer = new Y.Doc();
	Y.applyUpdate(writer, Y.encodeStateAsUpdate(doc));
	const live: Uint8Array[] = [];
	writer.on('update', (update: Uint8Array) => live.push(update));
	for (let i = 0; i < count; i++) writer.getArray('messages').push([{ id: `m${i}`, author: 'peer0', text: `live message ${i}` }]);
	return { history: Y.encodeStateAsUpdate(doc), live };
}

type Path = 'raw' | 'asItWas' | 'stateVector' | 'lookup';
const PATHS: Path[] = ['raw', 'asItWas', 'stateVector', 'lookup'];
const LABELS: Record<Path, string> = {
	raw: 'raw Yjs apply',
	asItWas: 'check as it was + apply',
	stateVector: 'check from state vector + apply',
	lookup: 'check from clock lookup + apply'
};

/** µs per update of `path` over `live`, on a fresh copy of `history`. */
function run(path: Path, history: Uint8Array, live: Uint8Array[]): number {
	const target = new Y.Doc();
	Y.applyUpdate(target, history);
	const step = (update: Uint8Array): void => {
		let part: Uint8Array | undefined = update;
		if (path === 'asItWas') part = referencePart(update, Y.encodeStateVector(target), spare);
		else if (path === 'stateVector') part = applicablePart(update, Y.encodeStateVector(target));
		else if (path === 'lookup') part = applicablePart(update, clocksOfDoc(target));
		if (part === undefined) throw new Error(`${path}: an honest update was refused`);
		Y.applyUpdate(target, part);
	};
	for (const update of live.slice(0, WARMUP)) step(update);
	const t0 = performance.now();
	for (const update of live.slice(WARMUP)) step(update);
	return ((performance.now() - t0) * 1000) / (live.length - WARMUP);
}

function median(xs: number[]): number {
	const sorted = [...xs].sort((a, b) => a - b);
	return sorted[sorted.length >> 1] ?? Number.NaN;
}

const results: Array<{ clients: number } & Record<Path, number>> = [];
console.log(`Update check per live update (µs, median of ${ROUNDS} rounds of ${UPDATES} updates), Node ${process.version}`);
for (const clients of CLIENTS) {
	const { history, live } = fixture(clients, WARMUP + UPDATES);
	const times: Record<Path, number[]> = { raw: [], asItWas: [], stateVector: [], lookup: [] };
	for (let round = 0; round < ROUNDS; round++) {
		for (let i = 0; i < PATHS.length; i++) {
			const path = PATHS[(i + round) % PATHS.length]!;
			times[path].push(run(path, history, live));
		}
	}
	const row = { clients, raw: median(times.raw), asItWas: median(times.asItWas), stateVector: median(times.stateVector), lookup: median(times.lookup) };
	results.push(row);
	console.log(
		`  ${String(clients).padStart(5)} clients: ` +
			PATHS.map((p) => `${LABELS[p]} ${row[p].toFixed(1)}`).join(', ') +
			` (lookup ÷ raw ${(row.lookup / row.raw).toFixed(2)}×, as it was ÷ raw ${(row.asItWas / row.raw).toFixed(2)}×)`
	);
}
const out = join(resolve(here, 'results'), 'update-check.json');
await mkdir(dirname(out), { recursive: true });
await writeFile(out, JSON.stringify({ date: new Date().toISOString(), updates: UPDATES, rounds: ROUNDS, environment: benchEnvironment(), results }, null, '\t'));
console.log(`Wrote ${out}`);
