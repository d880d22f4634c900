/**
 * Benchmark: a real editing trace replayed into a note, through the workspace core's
 * document path, against raw Yjs in the same run.
 *
 *   npm run bench:note-replay [-- rounds]
 *
 * The trace is B4 of dmonad/crdt-benchmarks (/work/shared/data/automerge-paper.json.gz, see
 * SOURCES.md there): 259,778 single-patch transactions `[pos, del, insert]` typing a 104,852
 * character LaTeX paper. Each patch is one transaction on the sender; every update it emits
 * is applied on a receiver at once, in the same process, with no wire in between (encoding,
 * encryption and transport are what bench:sync-latency measures).
 *
 * - **raw Yjs**: a Y.Text on doc A; A's `update` listener calls `Y.applyUpdate` on doc B.
 * - **Outpost**: the body of a {@link NoteDoc} listed in its workspace root, on both sides held
 *   by the in-memory SyncDocs of the mesh tests (MemoryDocs, which applies the write policy,
 *   writePolicy.ts) with every document kept by the core's persistence policy
 *   (core/persistence.ts over MemoryDocStorage). The sender's update listener feeds the
 *   receiver as a sync session's live path does (SyncSession `apply`): the receiver's
 *   clocks (a lookup), the dry run of updateCheck.ts (`applicablePart`), then `SyncDocs.apply`. Timed
 *   until both stores hold the last update. (A session awaits each step; here they run
 *   synchronously, so the figure is the work, not the microtask hops.)
 *
 * Both receivers must end with the trace's final text, and the warm-up's stores must reload
 * to it: otherwise the benchmark fails. One warm-up round, then the rounds (default 7, from
 * the argument or BENCH_ROUNDS), each running raw and Outpost next to each other, the first in
 * turn; the ratio is the median of the rounds' ratios (this machine's speed drifts between
 * rounds by more than the difference measured), the times are medians. Prints a table and
 * writes bench/results/note-replay.json. Figures only: a missed target does not fail it.
 *
 * Environment: BENCH_ROUNDS (default 7), BENCH_TRACE (another trace of the same shape).
 */
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import * as Y from 'yjs';
import { MemoryDocStorage } from '../src/lib/core/memoryStorage.ts';
import { persistDoc, type PersistedDoc } from '../src/lib/core/persistence.ts';
import { newId } from '../src/lib/doc/ids.ts';
import { NoteDoc } from '../src/lib/doc/NoteDoc.ts';
import { bindWriter } from '../src/lib/state/noteBinding.ts';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';

/** The writer's device key (its binding is signed with it). */
const writerKey = await generateKeyPair('Ed25519');
import { WorkspaceDoc } from '../src/lib/doc/WorkspaceDoc.ts';
import { EMPTY_STATE_VECTOR } from '../src/lib/mesh/syncDocs.ts';
import { applicablePart } from '../src/lib/mesh/updateCheck.ts';
import { MemoryDocs } from '../tests/unit/mesh/memoryDocs.ts';
import { benchEnvironment, positiveInt } from './env.ts';
import { spread, type Spread } from './report.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TRACE_FILE = process.env.BENCH_TRACE || '/work/shared/data/automerge-paper.json.gz';
const ROUNDS = process.argv[2] ? roundsArg(process.argv[2]) : positiveInt('BENCH_ROUNDS', 7);
/** Outpost / raw Yjs the note path is held to (informational). */
const TARGET_RATIO = 1.2;
/** The whole benchmark stops itself after this long. */
const WATCHDOG_MS = 10 * 60_000;

/** One patch of the trace: at `pos`, delete `del` characters, then insert `ins`. */
type Patch = [pos: number, del: number, ins: string];

/** A replay that ended with the wrong text (or a store that did not reload to it). */
class ReplayMismatchError extends Error {
	override name = 'ReplayMismatchError';
}

/** An update the receiving side refused, which an honest replay never sends. */
class ReplayRefusedError extends Error {
	override name = 'ReplayRefusedError';
}

function roundsArg(text: string): number {
	const n = Number(text);
	if (!Number.isInteger(n) || n < 1) throw new Error(`rounds must be a whole number ≥ 1, not "${text}"`);
	return n;
}

/** The trace's patches and final text; throws when the file is not the sequential-trace shape. */
function readTrace(file: string): { patches: Patch[]; endContent: string } {
	const trace = JSON.parse(gunzipSync(readFileSync(file)).toString('utf8')) as {
		startContent?: unknown;
		endContent?: unknown;
		txns?: { patches?: unknown }[];
	};
	if (trace.startContent !== '' || typeof trace.endContent !== 'string' || !Array.isArray(trace.txns)) {
		throw new Error(`${file} is not a sequential trace starting from an empty text`);
	}
	const patches: Patch[] = [];
	for (const txn of trace.txns) {
		if (!Array.isArray(txn.patches)) throw new Error(`${file}: a transaction without patches`);
		for (const p of txn.patches as unknown[]) {
			if (!Array.isArray(p) || typeof p[0] !== 'number' || typeof p[1] !== 'number' || typeof p[2] !== 'string') {
				throw new Error(`${file}: a patch that is not [pos, del, insert]: ${JSON.stringify(p)}`);
			}
			patches.push([p[0], p[1], p[2]]);
		}
	}
	return { patches, endContent: trace.endContent };
}

/** Applies one patch to `text` (call inside a transaction). */
function applyPatch(text: Y.Text, [pos, del, ins]: Patch): void {
	if (del > 0) text.delete(pos, del);
	if (ins !== '') text.insert(pos, ins);
}

function expectText(what: string, actual: string, expected: string): void {
	if (actual === expected) return;
	let at = 0;
	while (at < actual.length && actual[at] === expected[at]) at++;
	throw new ReplayMismatchError(`${what}: ${actual.length} characters instead of ${expected.length}, first difference at ${at}`);
}

/** Raw Yjs: doc A's updates applied to doc B as they happen. Milliseconds. */
function replayRaw(patches: Patch[], endContent: string): number {
	const a = new Y.Doc();
	const b = new Y.Doc();
	a.on('update', (update: Uint8Array) => Y.applyUpdate(b, update));
	const text = a.getText('body');
	const start = performance.now();
	for (const patch of patches) a.transact(() => applyPatch(text, patch));
	const ms = performance.now() - start;
	expectText('raw Yjs sender', text.toString(), endContent);
	expectText('raw Yjs receiver', b.getText('body').toString(), endContent);
	a.destroy();
	b.destroy();
	return ms;
}

/** The mesh tests' in-memory SyncDocs, each document kept by the core's persistence policy. */
class StoredMemoryDocs extends MemoryDocs {
	readonly storage = new MemoryDocStorage();
	readonly persisted = new Map<string, PersistedDoc>();

	constructor(workspaceId: string) {
		super(workspaceId);
	}

	override get(id: string): Y.Doc {
		const created = !this.docs.has(id);
		const doc = super.get(id);
		if (created) this.persisted.set(id, persistDoc(doc, () => this.storage.open(id)));
		return doc;
	}

	/** The document `id` once its stored state is loaded (and later edits are stored). */
	async open(id: string): Promise<Y.Doc> {
		const doc = this.get(id);
		await this.persisted.get(id)?.loaded;
		return doc;
	}

	/** Resolves once every document's newest update is stored. */
	async written(): Promise<void> {
		await Promise.all([...this.persisted.values()].map((p) => p.written()));
	}

	async stop(): Promise<void> {
		for (const p of this.persisted.values()) await p.stop();
		for (const doc of this.docs.values()) doc.destroy();
	}
}

/** The receiving side of a sync session's live path (SyncSession `apply`), without the awaits. */
function receive(docs: StoredMemoryDocs, docId: string, update: Uint8Array, origin: unknown): void {
	const part = applicablePart(update, docs.clocks(docId) ?? EMPTY_STATE_VECTOR);
	if (part === undefined) throw new ReplayRefusedError(`the update to ${docId} does not decode or does not apply cleanly`);
	docs.apply(docId, part, origin);
}

/** The text a fresh document loads from `docs`' stored log of `docId`. */
async function reloaded(docs: StoredMemoryDocs, docId: string): Promise<string> {
	const doc = new Y.Doc();
	const persisted = persistDoc(doc, () => docs.storage.open(docId));
	await persisted.loaded;
	const text = new NoteDoc(doc).body.toString();
	await persisted.stop();
	doc.destroy();
	return text;
}

/** Outpost: the note path described in the module comment. Milliseconds. */
async function replayOutpost(patches: Patch[], endContent: string, checkStores: boolean): Promise<number> {
	const workspaceId = newId();
	const noteId = newId();
	const sender = new StoredMemoryDocs(workspaceId);
	const receiver = new StoredMemoryDocs(workspaceId);
	const session = { name: 'bench session' }; // the origin of applied updates, as a SyncSession is
	try {
		await receiver.open(workspaceId);
		await receiver.open(noteId);
		sender.onLocalUpdate((docId, update) => receive(receiver, docId, update, session));
		// The note is listed in the root (which reaches the receiver by the same path), then edited.
		new WorkspaceDoc(await sender.open(workspaceId)).createNote({ id: noteId, title: 'B4', createdAt: 0, updatedAt: 0 });
		if (!new WorkspaceDoc(receiver.get(workspaceId)).notes.has(noteId)) throw new ReplayMismatchError('the receiver root does not list the note');
		const note = new NoteDoc(await sender.open(noteId));
		// The writer's client id is bound to its device (signed) in its first transaction, as the
		// app's note editor does, so the receiver checks every update against the binding.
		const unbind = bindWriter(note.doc, noteId, writerKey, peerIdFromPrivateKey(writerKey).toString());

		const start = performance.now();
		for (const patch of patches) note.doc.transact(() => applyPatch(note.body, patch));
		await Promise.all([sender.written(), receiver.written()]);
		const ms = performance.now() - start;
		unbind();
		if (receiver.get(noteId).getMap('bindings').size !== 1) throw new ReplayMismatchError('the receiver holds no binding of the writer');

		expectText('Outpost sender', note.body.toString(), endContent);
		expectText('Outpost receiver', new NoteDoc(receiver.get(noteId)).body.toString(), endContent);
		if (checkStores) {
			expectText('Outpost sender store reloaded', await reloaded(sender, noteId), endContent);
			expectText('Outpost receiver store reloaded', await reloaded(receiver, noteId), endContent);
		}
		return ms;
	} finally {
		await sender.stop();
		await receiver.stop();
	}
}

const f0 = (x: number) => Math.round(x).toLocaleString('en-US');
const f2 = (x: number) => x.toFixed(2);

function table(header: string[], rows: string[][]): string {
	const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
	const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ');
	return [line(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.map(line)].join('\n');
}

function formatReport(raw: Spread, outpost: Spread, ratios: Spread, patches: number, chars: number): string {
	const ratio = ratios.median;
	const row = (name: string, s: Spread) => [name, `${f0(s.median)} [${f0(s.min)}–${f0(s.max)}]`, f2((s.median * 1000) / patches)];
	return [
		`Replaying the B4 editing trace (${patches.toLocaleString('en-US')} patches, ${chars.toLocaleString('en-US')} characters): median [min–max] of ${ROUNDS} rounds after 1 warm-up`,
		table(['path', 'total ms', 'µs / patch'], [row('raw Yjs', raw), row('Outpost note', outpost)]),
		'',
		`Outpost / raw Yjs, median of the rounds' ratios: ${f2(ratio)}× [${f2(ratios.min)}–${f2(ratios.max)}] (of the medians: ${f2(outpost.median / raw.median)}×) — target ≤ ${TARGET_RATIO}×: ${ratio <= TARGET_RATIO ? 'met' : 'not met'}`
	].join('\n');
}

async function main(): Promise<void> {
	const watchdog = setTimeout(() => {
		console.error(`note-replay benchmark: still running after ${WATCHDOG_MS / 60_000} minutes; stopping`);
		process.exit(1);
	}, WATCHDOG_MS);
	watchdog.unref();

	const { patches, endContent } = readTrace(TRACE_FILE);
	console.log(`Read ${patches.length.toLocaleString('en-US')} patches; warm-up round (also reloads both stores)…`);
	replayRaw(patches, endContent);
	await replayOutpost(patches, endContent, true);

	const raw: number[] = [];
	const outpost: number[] = [];
	const ratios: number[] = [];
	for (let round = 1; round <= ROUNDS; round++) {
		// Each round runs both, next to each other, the first in turn (ABBA): this machine's speed
		// drifts by more than the difference measured, so each round gives its own ratio.
		if (round % 2 === 1) raw.push(replayRaw(patches, endContent));
		outpost.push(await replayOutpost(patches, endContent, false));
		if (round % 2 === 0) raw.push(replayRaw(patches, endContent));
		ratios.push(outpost.at(-1)! / raw.at(-1)!);
		console.log(`  round ${round}: raw Yjs ${f0(raw.at(-1)!)} ms, Outpost ${f0(outpost.at(-1)!)} ms (${f2(ratios.at(-1)!)}×)`);
	}
	const results = { rawMs: spread(raw), outpostMs: spread(outpost), ratio: spread(ratios) };
	const ratio = results.ratio.median;
	console.log('');
	console.log(formatReport(results.rawMs, results.outpostMs, results.ratio, patches.length, endContent.length));

	const file = join(root, 'bench', 'results', 'note-replay.json');
	await mkdir(dirname(file), { recursive: true });
	const json = {
		benchmark: 'note-replay',
		date: new Date().toISOString(),
		environment: benchEnvironment(),
		parameters: { trace: 'automerge-paper (B4)', patches: patches.length, finalLength: endContent.length, rounds: ROUNDS },
		results: {
			...results,
			rawUsPerPatch: (results.rawMs.median * 1000) / patches.length,
			outpostUsPerPatch: (results.outpostMs.median * 1000) / patches.length,
			ratio,
			target: TARGET_RATIO,
			met: ratio <= TARGET_RATIO
		},
		rounds: { raw, outpost, ratios }
	};
	await writeFile(file, JSON.stringify(json, null, '\t') + '\n');
	console.log(`\nWrote ${file}`);
}

main().then(
	() => process.exit(0),
	(error: unknown) => {
		console.error('note-replay benchmark failed:', error);
		process.exit(1);
	}
);
