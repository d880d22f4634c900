/**
 * Benchmark: export and import of a large workspace, in Node over fake-indexeddb.
 *
 *   npm run bench:exchange
 *
 * Builds a workspace of BENCH_MESSAGES signed messages (default 20,000) over BENCH_DOCS
 * channels (default 4), stored through the DocStore as a device would hold them, then times:
 * "Export workspace" (every document encoded, transcribed and zipped), checking the file
 * (`readExport`: unzip, checksums, every state decoded into a scratch document), applying it
 * to a fresh device, and importing the same file again (a no-op merge). Also the file's size.
 * Medians over BENCH_ROUNDS (default 3). Prints figures only; never asserts.
 */
import 'fake-indexeddb/auto';
import * as Y from 'yjs';
import { newId } from '../src/lib/doc/ids.ts';
import { RosterDoc } from '../src/lib/doc/RosterDoc.ts';
import { Role } from '../src/lib/doc/schema.ts';
import { WorkspaceDoc } from '../src/lib/doc/WorkspaceDoc.ts';
import { OutpostDb } from '../src/lib/store/db.ts';
import { DocStore } from '../src/lib/store/DocStore.ts';
import { applyExport, exportWorkspace, readExport } from '../src/lib/store/exchange/index.ts';
import { benchEnvironment, positiveInt } from './env.ts';
import { buildChannel, makeDevices, seededRandom } from './fixtures.ts';

const ROUNDS = positiveInt('BENCH_ROUNDS', 3);
const MESSAGES = positiveInt('BENCH_MESSAGES', 20_000);
const DOCS = positiveInt('BENCH_DOCS', 4);

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

async function device(): Promise<{ db: OutpostDb; docs: DocStore }> {
	const tag = newId();
	const db = new OutpostDb(`bench-${tag}`);
	await db.open();
	return { db, docs: new DocStore(`bench-doc-${tag}:`) };
}

async function store(docs: DocStore, id: string, update: Uint8Array): Promise<void> {
	const h = docs.open(id);
	await h.ready;
	Y.applyUpdate(h.doc, update, 'bench');
	await new Promise((r) => setTimeout(r, 20));
	docs.release(h);
}

async function main(): Promise<void> {
	const random = seededRandom(7);
	const devices = await makeDevices(5, random);
	const source = await device();
	const workspaceId = newId();
	const rosterId = newId();
	const rootDoc = new Y.Doc();
	const root = new WorkspaceDoc(rootDoc);
	root.init({ name: 'Bench', color: '#1f6f5c', createdBy: devices[0]!.peerId, createdAt: 1, rosterId });
	const rosterDoc = new Y.Doc();
	const roster = new RosterDoc(rosterDoc);
	devices.forEach((d, i) => roster.upsert({ peerId: d.peerId, name: `Member ${i + 1}`, role: Role.member, joinedAt: i }));
	for (let c = 0; c < DOCS; c++) {
		const id = newId();
		root.createChannel({ id, name: `channel ${c + 1}`, topic: '', private: false, readOnly: false, archived: false, createdAt: c, createdBy: devices[0]!.peerId });
		const built = await buildChannel(Math.ceil(MESSAGES / DOCS), devices, Date.UTC(2026, 0, 1), random);
		await store(source.docs, id, built.update);
	}
	await store(source.docs, workspaceId, Y.encodeStateAsUpdate(rootDoc));
	await store(source.docs, rosterId, Y.encodeStateAsUpdate(rosterDoc));
	await source.db.workspaces.put({ id: workspaceId, name: 'Bench', color: '#1f6f5c', rosterId, createdAt: 1, lastOpenedAt: 1 });

	const times = { exportMs: [] as number[], checkMs: [] as number[], applyMs: [] as number[], reimportMs: [] as number[] };
	let fileBytes = 0;
	for (let round = 0; round < ROUNDS; round++) {
		let t = performance.now();
		const { bytes } = await exportWorkspace({ db: source.db, docs: source.docs, workspaceId, appVersion: 'bench' });
		times.exportMs.push(performance.now() - t);
		fileBytes = bytes.length;
		t = performance.now();
		const checked = await readExport(bytes);
		times.checkMs.push(performance.now() - t);
		const target = await device();
		t = performance.now();
		await applyExport(target, checked);
		times.applyMs.push(performance.now() - t);
		t = performance.now();
		await applyExport(target, await readExport(bytes));
		times.reimportMs.push(performance.now() - t);
		target.docs.closeAll();
		target.db.close();
	}
	const result = {
		messages: MESSAGES,
		channels: DOCS,
		rounds: ROUNDS,
		fileMB: +(fileBytes / 1024 / 1024).toFixed(2),
		exportMs: Math.round(median(times.exportMs)),
		checkMs: Math.round(median(times.checkMs)),
		applyMs: Math.round(median(times.applyMs)),
		reimportMs: Math.round(median(times.reimportMs)),
		environment: benchEnvironment()
	};
	console.log(`export workspace: ${result.messages} messages in ${result.channels} channels, file ${result.fileMB} MB`);
	console.log(`  export ${result.exportMs} ms · check ${result.checkMs} ms · apply to a fresh device ${result.applyMs} ms · import again (no change) ${result.reimportMs} ms`);
	console.log(JSON.stringify(result));
	source.docs.closeAll();
	source.db.close();
}

await main();
