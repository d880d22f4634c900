/**
 * Benchmark: one large update reaching the relay, and how long everything else on the relay
 * waits meanwhile (issue 12: large updates never stall the relay).
 *
 *   npm run bench:large-update
 *
 * In one process, as on the relay: the relay's archive (ArchiveDocs on SQLite: the update
 * check, the write policy, persistence) answers a member device's sync session (SyncSession
 * over in-memory documents, the two wired back to back), and the member sends one live update
 * of BENCH_ENTRIES map entries (default 100,000: ~15 MB) in one transaction. A probe timer due
 * every 5 ms records how late it fires: what every other session, document and workspace of
 * the relay would wait. Each round runs both ways on fresh archives, alternating: whole (the
 * piece size above the update, as before) and in pieces (the default, PIECE_BYTES). Prints
 * per way the median time from the member's transaction until the update is stored, the longest wait of the probe, and the
 * 99th percentile of its waits. Then, after the pieces' rounds, the archive is reopened (a
 * restart) and the document loaded as a session would ask for it, probed the same way, beside
 * the time its stored records take applied in one transaction (how every load went before).
 * Figures only.
 */
import '../src/lib/mesh/polyfills.node.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as Y from 'yjs';
import { ArchiveDocs } from '../relay/archive/ArchiveDocs.ts';
import { useRelayDb } from '../relay/archive/relayDb.ts';
import { SqliteDocStorage } from '../relay/archive/SqliteDocStorage.ts';
import { newId } from '../src/lib/doc/ids.ts';
import { WorkspaceDoc } from '../src/lib/doc/WorkspaceDoc.ts';
import { DEFAULT_LIMITS } from '../src/lib/mesh/constants.ts';
import { newSecret } from '../src/lib/mesh/secret.ts';
import type { SyncDocs } from '../src/lib/mesh/syncDocs.ts';
import { SyncSession } from '../src/lib/mesh/SyncSession.ts';
import { deriveWorkspaceKeys, type WorkspaceKeys } from '../src/lib/mesh/workspaceKeys.ts';
import { MemoryDocs } from '../tests/unit/mesh/memoryDocs.ts';
import { positiveInt } from './env.ts';

const ENTRIES = positiveInt('BENCH_ENTRIES', 100_000);
const ROUNDS = positiveInt('BENCH_ROUNDS', 3);
const PROBE_MS = 5;
/** The map the member writes: a note's `meta`, which the note policy lets change (a note takes no other name). */
const MAP = 'meta';

/** Two sessions back to back; resolves once both are live. */
async function connect(keys: WorkspaceKeys, member: SyncDocs, relay: SyncDocs, pieceBytes: number): Promise<{ close: () => void; errors: Error[] }> {
	const errors: Error[] = [];
	const sessions: SyncSession[] = [];
	const make = (role: 'opener' | 'responder', docs: SyncDocs, index: 0 | 1) => {
		const session = new SyncSession({
			role,
			workspace: { id: keys.workspaceId, keys },
			localPeerId: role,
			remotePeerId: role === 'opener' ? 'responder' : 'opener',
			docs,
			limits: { ...DEFAULT_LIMITS, pieceBytes },
			send: (bytes) => void sessions[1 - index]!.receive(bytes.slice())
		});
		session.on('error', (error) => errors.push(error));
		return session;
	};
	sessions.push(make('opener', member, 0), make('responder', relay, 1));
	const live = sessions.map((s) => new Promise<void>((resolve) => s.on('synced', resolve)));
	sessions[1]!.start();
	sessions[0]!.start();
	await Promise.all(live);
	return { close: () => sessions.forEach((s) => s.close()), errors };
}

/** Waits of a timer due every {@link PROBE_MS} while `run` runs. */
async function probed<T>(run: () => Promise<T>): Promise<{ result: T; waits: number[] }> {
	const waits: number[] = [];
	let due = performance.now() + PROBE_MS;
	let timer: ReturnType<typeof setTimeout>;
	const tick = () => {
		const now = performance.now();
		waits.push(now - due);
		due = now + PROBE_MS;
		timer = setTimeout(tick, PROBE_MS);
	};
	timer = setTimeout(tick, PROBE_MS);
	try {
		return { result: await run(), waits };
	} finally {
		clearTimeout(timer!);
		// A timer still due: it has waited this long (the run may have ended before it could fire).
		waits.push(Math.max(0, performance.now() - due));
	}
}

/** Loading the stored document after a restart: the probe's longest wait while the archive loads it, and the old way (its records applied in one transaction). */
interface LoadFigures {
	loadMs: number;
	loadLongest: number;
	oneTransactionMs: number;
}

async function round(pieceBytes: number): Promise<{ ms: number; longest: number; p99: number; load?: LoadFigures }> {
	const dir = await mkdtemp(join(tmpdir(), 'outpost-large-update-'));
	const workspaceId = newId();
	const archive = await ArchiveDocs.open(dir, workspaceId);
	try {
		const keys = await deriveWorkspaceKeys(workspaceId, newSecret());
		const member = new MemoryDocs();
		const docId = newId();
		// A note the root lists, as the app's documents are.
		new WorkspaceDoc(member.get(workspaceId)).createNote({ id: docId, title: 'large', createdAt: 0, updatedAt: 0 });
		const link = await connect(keys, member, archive, pieceBytes);
		// The last entry (in the last piece); its size (O(entries) in Yjs) is checked once at the end.
		const stored = async () => (await archive.hold(docId).catch(() => undefined))?.getMap(MAP).has(`key-${ENTRIES - 1}`) === true;
		// The member's transaction first: the relay's work starts in the microtasks after it,
		// before the probe's first timer can fire, so the probe's first wait is the relay's.
		const doc = member.get(docId);
		doc.transact(() => {
			for (let i = 0; i < ENTRIES; i++) doc.getMap(MAP).set(`key-${i}`, { text: 'x'.repeat(120), n: i });
		});
		const { result: ms, waits } = await probed(async () => {
			const t0 = performance.now();
			while (!(await stored())) await new Promise((resolve) => setTimeout(resolve, 10));
			return performance.now() - t0;
		});
		link.close();
		const size = (await archive.hold(docId)).getMap(MAP).size;
		if (size !== ENTRIES) throw new Error(`the relay holds ${size} entries, not ${ENTRIES}`);
		const sorted = [...waits].sort((a, b) => a - b);
		const figures = { ms, longest: sorted.at(-1) ?? 0, p99: sorted[Math.floor(sorted.length * 0.99)] ?? 0 };
		if (pieceBytes !== DEFAULT_LIMITS.pieceBytes) return figures;
		// After a restart: the document loads when first asked for.
		await archive.close();
		const reopened = await ArchiveDocs.open(dir, workspaceId);
		try {
			const load = await probed(async () => {
				const t0 = performance.now();
				const doc = await reopened.hold(docId);
				if (!doc.getMap(MAP).has(`key-${ENTRIES - 1}`)) throw new Error('the document did not load');
				return performance.now() - t0;
			});
			const db = useRelayDb(dir);
			let records: readonly Uint8Array[];
			try {
				const storage = await new SqliteDocStorage(db.relayDb, workspaceId).open(docId);
				records = storage.records;
				await storage.close();
			} finally {
				db.release();
			}
			const t0 = performance.now();
			const plain = new Y.Doc();
			plain.transact(() => records.forEach((record) => Y.applyUpdate(plain, record)));
			const oneTransactionMs = performance.now() - t0;
			return { ...figures, load: { loadMs: load.result, loadLongest: Math.max(...load.waits), oneTransactionMs } };
		} finally {
			await reopened.close();
		}
		if (link.errors.length > 0) throw new Error(`the session failed: ${link.errors[0]!.message}`);
	} finally {
		await archive.close().catch(() => undefined);
		await rm(dir, { recursive: true, force: true });
	}
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ways = [
	{ label: 'whole (before)', pieceBytes: 1024 * 1024 * 1024 },
	{ label: `in pieces of ${DEFAULT_LIMITS.pieceBytes / 1024} KiB`, pieceBytes: DEFAULT_LIMITS.pieceBytes }
];
const figures = new Map<string, Array<{ ms: number; longest: number; p99: number; load?: LoadFigures }>>();
const size = (() => {
	const doc = new Y.Doc();
	doc.transact(() => {
		for (let i = 0; i < ENTRIES; i++) doc.getMap(MAP).set(`key-${i}`, { text: 'x'.repeat(120), n: i });
	});
	return Y.encodeStateAsUpdate(doc).byteLength;
})();
console.log(`large update: ${ENTRIES.toLocaleString('en')} map entries in one transaction (${(size / 1e6).toFixed(1)} MB) sent live to the relay's archive; ${ROUNDS} rounds`);
for (let r = 0; r < ROUNDS; r++) {
	for (const way of r % 2 === 0 ? ways : [...ways].reverse()) {
		const f = await round(way.pieceBytes);
		figures.set(way.label, [...(figures.get(way.label) ?? []), f]);
		console.log(`  round ${r + 1}, ${way.label}: stored in ${f.ms.toFixed(0)} ms; the probe waited at most ${f.longest.toFixed(0)} ms (p99 ${f.p99.toFixed(0)} ms)`);
		if (f.load) console.log(`  round ${r + 1}, loading it after a restart: ${f.load.loadMs.toFixed(0)} ms, the probe waited at most ${f.load.loadLongest.toFixed(0)} ms; its records in one transaction (the load before): ${f.load.oneTransactionMs.toFixed(0)} ms`);
	}
}
console.log('| way | stored in (median) | longest wait of other work (median) | p99 wait (median) |\n| --- | --- | --- | --- |');
for (const way of ways) {
	const fs = figures.get(way.label)!;
	console.log(`| ${way.label} | ${median(fs.map((f) => f.ms)).toFixed(0)} ms | ${median(fs.map((f) => f.longest)).toFixed(0)} ms | ${median(fs.map((f) => f.p99)).toFixed(0)} ms |`);
}
const loads = [...figures.values()].flat().flatMap((f) => (f.load ? [f.load] : []));
console.log(
	`Loading it after a restart (median): ${median(loads.map((l) => l.loadMs)).toFixed(0)} ms in pieces, the probe waited at most ${median(loads.map((l) => l.loadLongest)).toFixed(0)} ms; ` +
		`the same records in one transaction, as loads were before: ${median(loads.map((l) => l.oneTransactionMs)).toFixed(0)} ms at once`
);
process.exit(0);
