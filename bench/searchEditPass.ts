/**
 * Part of bench/search.ts: the time of an indexing pass that carries one edit of an indexed
 * message of a long channel (BENCH_CHANNEL_MESSAGES signed messages, default 10,000, two
 * authors). A pass is what SearchIndexer does for a channel: read its progress row, extract the
 * changes (store/search/extract.ts `channelChanges`, real signatures) and write them. Measured:
 *
 * - the first pass over the channel (every message indexed, every signature checked);
 * - a pass with one edit, the document staying loaded (as while a member keeps editing), p50/p95
 *   over BENCH_ROUNDS edits;
 * - the same pass over a copy of the document loaded just before (what it keeps of a loaded
 *   channel, ChannelRecords.ts, is built again: a whole read of the channel), for comparison in
 *   the same run.
 *
 * Runs over fake-indexeddb (pessimistic for the Dexie writes). Figures only: never asserts.
 */
import * as Y from 'yjs';
import { ChannelDoc } from '../src/lib/doc/ChannelDoc.ts';
import type { PostingRules } from '../src/lib/doc/channelRights.ts';
import { generateDeviceKey, peerIdOfKey } from '../src/lib/doc/deviceKey.ts';
import { formatHlc } from '../src/lib/doc/hlc.ts';
import { signEdit, signMessage } from '../src/lib/doc/signature.ts';
import { OutpostDb } from '../src/lib/store/db.ts';
import { channelChanges } from '../src/lib/store/search/extract.ts';
import { SearchIndex } from '../src/lib/store/search/SearchIndex.ts';
import { applySteps } from '../src/lib/store/search/SearchIndexer.ts';
import { percentile } from './corpus.ts';

/** What the edit-pass bench measured (milliseconds). */
export interface EditPassFigures {
	messages: number;
	firstPassMs: number;
	editPass: { p50: number; p95: number };
	editPassFreshlyLoaded: { p50: number; p95: number };
}

/** Runs the bench; see the module comment. */
export async function editPassBench(messages: number, rounds: number, texts: readonly string[]): Promise<EditPassFigures> {
	const docId = 'c'.repeat(26);
	const authors = [generateDeviceKey(), generateDeviceKey()].map((key) => ({ key, id: peerIdOfKey(key) }));
	const start = Date.UTC(2026, 0, 1);
	const hlc = (i: number, node: string) => formatHlc({ wall: start + i * 1000, counter: 0, node });
	const doc = new Y.Doc({ guid: docId });
	const channel = new ChannelDoc(doc);
	const records = [];
	for (let i = 0; i < messages; i++) {
		const who = authors[i % 2]!;
		records.push(await signMessage(who.key, { id: `m${i}`, author: who.id, hlc: hlc(i, who.id), text: texts[i % texts.length]! }, docId));
	}
	channel.postMany(records);
	const rules: PostingRules = { roleOf: () => 'member', readOnly: [] };
	const name = `bench-search-edit-${Date.now()}`;
	const db = new OutpostDb(name);
	const workspaceId = 'w'.repeat(26);
	const index = await SearchIndex.open({ db, workspaceId, snapshotDelayMs: 3_600_000 });
	/** One pass over `over`, as SearchIndexer.indexNow makes it. */
	const pass = async (over: Y.Doc) => {
		const change = await channelChanges(docId, over, await index.docState(docId), index, rules);
		const steps = applySteps(change.put ?? []);
		for (const step of steps.slice(0, -1)) await index.apply({ put: step });
		await index.apply({ ...change, put: steps.at(-1) ?? [] });
	};
	let t = performance.now();
	await pass(doc);
	const firstPassMs = performance.now() - t;

	let edits = 0;
	const editOne = async () => {
		const who = authors[edits % 2]!;
		const i = (edits * 7919) % messages;
		const msgId = `m${i - (i % 2) + (edits % 2)}`;
		channel.edit(await signEdit(who.key, { msg: msgId, author: who.id, hlc: hlc(messages + edits, who.id), text: `edited ${edits}` }));
		edits++;
	};
	const warm: number[] = [];
	const cold: number[] = [];
	for (let r = 0; r < rounds; r++) {
		await editOne();
		t = performance.now();
		await pass(doc);
		warm.push(performance.now() - t);
		await editOne();
		const copy = new Y.Doc({ guid: docId });
		Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc));
		t = performance.now();
		await pass(copy);
		cold.push(performance.now() - t);
		copy.destroy();
	}
	await index.close();
	db.close();
	await OutpostDb.delete(name);
	const summary = (times: number[]) => {
		const sorted = [...times].sort((a, b) => a - b);
		return { p50: percentile(sorted, 0.5), p95: percentile(sorted, 0.95) };
	};
	return { messages, firstPassMs, editPass: summary(warm), editPassFreshlyLoaded: summary(cold) };
}
