/**
 * The full-text index of one workspace: MiniSearch (BM25 ranking, prefix search) over the
 * terms of tokenizer.ts, kept in Dexie so it survives reloads and works offline.
 *
 * Storage design. Dexie holds two things:
 * - `searchEntries`, one row per searchable item (message, reply, AI-chat message, note) with
 *   its latest text: the source of truth. Every change is a small write of the rows it
 *   touches, plus one increment of the workspace's change counter (`searchState.stamp`), in
 *   one transaction.
 * - `searchSnapshots`, the MiniSearch index serialised as JSON, saved a few seconds after the
 *   last change (and on close) together with the counter it reflects.
 *
 * Opening loads the snapshot when its counter equals the stored one, which is much cheaper
 * than tokenizing every entry again; a snapshot that is missing, stale (the tab closed before
 * it was saved), from another format, or unreadable is thrown away and the index is rebuilt
 * from the entries, with progress. Entries also supply the texts of the results shown, so the
 * snapshot stores no text and stays small. When another tab writes the same workspace's
 * entries, this tab's snapshot would not include them, so it stops saving snapshots; the next
 * open rebuilds.
 *
 * Works in Node over fake-indexeddb (tests, bench/search.ts).
 */
import MiniSearch, { type Options, type SearchResult } from 'minisearch';
import type { OutpostDb } from '../db.js';
import { excerpt, matchRanges, type Range } from './highlight.js';
import {
	SEARCH_FORMAT,
	docRowId,
	entryRowId,
	isEntryRow,
	type SearchDocRow,
	type SearchEntry,
	type SearchEntryRow
} from './rows.js';
import { cjkPhrases, isCjkTerm, tokenize, tokenizeQuery } from './tokenizer.js';

export { excerpt };

/** How long after the last change the snapshot is saved. */
export const SNAPSHOT_DELAY_MS = 3000;
/** Most results returned by a search. */
export const DEFAULT_LIMIT = 50;
/** Most ranked results a search with a `keep` filter reads back (see {@link SearchIndex.search}). */
export const MAX_SCANNED = 2000;
/** Entries indexed per step while rebuilding (between steps the page stays responsive). */
const REBUILD_CHUNK = 2000;
/** Characters of text indexed per step while rebuilding, at most (past one entry). */
const REBUILD_CHUNK_CHARS = 500_000;

/** A search result: the entry, its score and where it matched. */
export interface SearchHit extends SearchEntry {
	score: number;
	/** Matched ranges of {@link SearchEntry.text}. */
	ranges: Range[];
	/** Matched ranges of {@link SearchEntry.title}. */
	titleRanges: Range[];
	/** Offset in the text of the first match (0 when only the title matched). */
	offset: number;
}

/** A batch of changes to the index, written in one transaction. */
export interface IndexChange {
	put?: SearchEntry[];
	remove?: { docId: string; itemId: string }[];
	/** The indexer's progress for one document, stored with the change. */
	doc?: Omit<SearchDocRow, 'id' | 'workspaceId' | 'format'>;
}

/** Options of {@link SearchIndex.open}. */
export interface SearchIndexInit {
	db: OutpostDb;
	workspaceId: string;
	snapshotDelayMs?: number;
	/** Called while the index is rebuilt from stored entries. */
	onProgress?: (done: number, total: number) => void;
}

/**
 * The document MiniSearch indexes: one field (a note's title and body together), since every
 * field costs a lookup per query term and messages, nearly all entries, have no title.
 */
export interface Indexed {
	key: string;
	text: string;
}

/** MiniSearch's options: the tokenizer, every term must match, prefix for the last one (see {@link SearchIndex.search}). */
export const SEARCH_OPTIONS: Options<Indexed> = {
	idField: 'key',
	fields: ['text'],
	storeFields: [],
	tokenize,
	processTerm: (term) => term,
	searchOptions: {
		tokenize: tokenizeQuery,
		processTerm: (term) => term,
		combineWith: 'AND',
		// The word being typed matches as a prefix; a single CJK character too (every character
		// starts an indexed term, see tokenizer.ts).
		prefix: (term, i, terms) => i === terms.length - 1 && (isCjkTerm(term) ? term.length === 1 : term.length >= 2)
	}
};

/** What MiniSearch indexes for an entry. */
function indexed(docId: string, itemId: string, text: string, title: string | undefined): Indexed {
	return { key: keyOf(docId, itemId), text: title ? `${title}\n${text}` : text };
}

/** The MiniSearch id of an entry (unique within a workspace). */
function keyOf(docId: string, itemId: string): string {
	return `${docId}|${itemId}`;
}

/** The full-text index of a workspace; see the module comment. */
export class SearchIndex {
	private stamp: number;
	/** Another tab changed the entries: snapshots of this index would miss its changes. */
	private foreign = false;
	private queue: Promise<void> = Promise.resolve();
	private snapshotTimer: ReturnType<typeof setTimeout> | undefined;
	private closed = false;

	private constructor(
		private readonly init: SearchIndexInit,
		private index: MiniSearch<Indexed>,
		stamp: number,
		/** Whether the index was rebuilt from entries on open (not loaded from a snapshot). */
		readonly rebuilt: boolean
	) {
		this.stamp = stamp;
	}

	/** Opens a workspace's index: from its snapshot when current, else rebuilt from its entries. */
	static async open(init: SearchIndexInit): Promise<SearchIndex> {
		const { db, workspaceId } = init;
		const [state, snapshot] = await Promise.all([db.searchState.get(workspaceId), db.searchSnapshots.get(workspaceId)]);
		if (!state || state.format !== SEARCH_FORMAT) {
			// Nothing (or an old format) stored: start empty; the indexer visits every document.
			await db.transaction('rw', [db.searchEntries, db.searchDocs, db.searchState, db.searchSnapshots], async () => {
				await db.searchEntries.where('workspaceId').equals(workspaceId).delete();
				await db.searchDocs.where('workspaceId').equals(workspaceId).delete();
				await db.searchSnapshots.delete(workspaceId);
				await db.searchState.put({ workspaceId, stamp: 0, format: SEARCH_FORMAT });
			});
			return new SearchIndex(init, new MiniSearch(SEARCH_OPTIONS), 0, true);
		}
		if (snapshot && snapshot.stamp === state.stamp && snapshot.format === SEARCH_FORMAT && typeof snapshot.json === 'string') {
			try {
				const index = await MiniSearch.loadJSONAsync<Indexed>(snapshot.json, SEARCH_OPTIONS);
				return new SearchIndex(init, index, state.stamp, false);
			} catch {
				// Unreadable snapshot: rebuilt below.
			}
		}
		const index = await rebuild(init);
		const opened = new SearchIndex(init, index, state.stamp, true);
		await opened.saveSnapshot();
		return opened;
	}

	/** Number of items indexed. */
	get size(): number {
		return this.index.documentCount;
	}

	/** Applies a batch of changes: stored first, then indexed (batches run one at a time). */
	apply(change: IndexChange): Promise<void> {
		return this.enqueue(async () => {
			const { db, workspaceId } = this.init;
			const rows: SearchEntryRow[] = (change.put ?? []).map((e) => ({ ...e, id: entryRowId(workspaceId, e.docId, e.itemId), workspaceId }));
			const removed = (change.remove ?? []).map((r) => entryRowId(workspaceId, r.docId, r.itemId));
			let before = 0;
			let after = 0;
			await db.transaction('rw', [db.searchEntries, db.searchDocs, db.searchState], async () => {
				const state = await db.searchState.get(workspaceId);
				before = state?.stamp ?? 0;
				after = before + 1;
				if (removed.length > 0) await db.searchEntries.bulkDelete(removed);
				if (rows.length > 0) await db.searchEntries.bulkPut(rows);
				if (change.doc) {
					await db.searchDocs.put({ ...change.doc, id: docRowId(workspaceId, change.doc.docId), workspaceId, format: SEARCH_FORMAT });
				}
				await db.searchState.put({ workspaceId, stamp: after, format: SEARCH_FORMAT });
			});
			if (before !== this.stamp) this.foreign = true;
			this.stamp = after;
			for (const r of change.remove ?? []) {
				const key = keyOf(r.docId, r.itemId);
				if (this.index.has(key)) this.index.discard(key);
			}
			for (const e of change.put ?? []) {
				const doc = indexed(e.docId, e.itemId, e.text, e.title);
				if (this.index.has(doc.key)) this.index.replace(doc);
				else this.index.add(doc);
			}
			this.scheduleSnapshot();
		});
	}

	/** The indexer's progress row of a document, if it is current. */
	async docState(docId: string): Promise<SearchDocRow | undefined> {
		const row = await this.init.db.searchDocs.get(docRowId(this.init.workspaceId, docId));
		return row && row.format === SEARCH_FORMAT && row.sv instanceof Uint8Array ? row : undefined;
	}

	/** Stored entries by item id (undefined where there is none). */
	async entries(docId: string, itemIds: string[]): Promise<(SearchEntryRow | undefined)[]> {
		const rows = await this.init.db.searchEntries.bulkGet(itemIds.map((id) => entryRowId(this.init.workspaceId, docId, id)));
		return rows.map((r) => (isEntryRow(r) ? r : undefined));
	}

	/** Ids of every stored item of a document. */
	async itemIds(docId: string): Promise<string[]> {
		const rows = await this.init.db.searchEntries.where('[workspaceId+docId]').equals([this.init.workspaceId, docId]).toArray();
		return rows.filter(isEntryRow).map((r) => r.itemId);
	}

	/**
	 * Ranked results for `query`, best first, ties newest first, with the ranges that matched.
	 * Every term must match. The last one also matches as a prefix ("harb" finds "harbour")
	 * unless the whole words alone already give `limit` results: expanding a prefix common in
	 * a large index costs far more than the exact search. A CJK phrase must occur as a whole
	 * (its bigrams could each occur apart).
	 *
	 * `keep` (given a page of results, best first) leaves out those the searcher is not shown;
	 * further pages are read until `limit` are kept, up to {@link MAX_SCANNED} results in all
	 * (found in review: a guest's many withheld posts, which the index keeps, filled the first
	 * page of results and left none to show).
	 */
	async search(query: string, limit = DEFAULT_LIMIT, keep?: (page: SearchHit[]) => Promise<SearchHit[]>): Promise<SearchHit[]> {
		const found = this.rank(query, limit);
		const phrases = cjkPhrases(query);
		const { db, workspaceId } = this.init;
		const hits: SearchHit[] = [];
		const scan = Math.min(found.length, Math.max(limit, MAX_SCANNED));
		// Read back in pages until `limit` results pass the checks (one page without phrases or `keep`).
		for (let from = 0; from < scan && hits.length < limit; from += limit) {
			const page = found.slice(from, Math.min(scan, from + limit));
			const rows = await db.searchEntries.bulkGet(page.map((r) => `${workspaceId}|${String(r.id)}`));
			const passed: SearchHit[] = [];
			page.forEach((result, i) => {
				const row = rows[i];
				if (isEntryRow(row) && hasPhrases(row, phrases)) passed.push(toHit(row, result));
			});
			for (const hit of keep ? await keep(passed) : passed) if (hits.length < limit) hits.push(hit);
			if (phrases.length === 0 && keep === undefined) break;
		}
		return hits.sort((a, b) => b.score - a.score || b.time - a.time);
	}

	/**
	 * The in-memory part of {@link search}: every entry matching `query`, best first, before
	 * texts are read back and CJK phrases checked.
	 */
	rank(query: string, limit = DEFAULT_LIMIT): SearchResult[] {
		if (tokenizeQuery(query).length === 0) return [];
		const exact = this.index.search(query, { prefix: false });
		return exact.length < limit ? this.index.search(query) : exact;
	}

	/** Saves the snapshot now (skipped when another tab's changes are not in this index). */
	saveSnapshot(): Promise<void> {
		clearTimeout(this.snapshotTimer);
		this.snapshotTimer = undefined;
		return this.enqueue(async () => {
			if (this.foreign) return;
			const { db, workspaceId } = this.init;
			const json = JSON.stringify(this.index);
			const stamp = this.stamp;
			await db.transaction('rw', [db.searchState, db.searchSnapshots], async () => {
				const state = await db.searchState.get(workspaceId);
				if (state?.stamp !== stamp) {
					this.foreign = true;
					return;
				}
				await db.searchSnapshots.put({ workspaceId, stamp, format: SEARCH_FORMAT, json });
			});
		});
	}

	/** Saves a pending snapshot and stops. */
	async close(): Promise<void> {
		if (this.closed) return;
		const pending = this.snapshotTimer !== undefined;
		this.closed = true;
		if (pending) await this.saveSnapshot().catch(() => undefined);
		await this.queue;
	}

	private scheduleSnapshot(): void {
		if (this.closed || this.snapshotTimer !== undefined) return;
		this.snapshotTimer = setTimeout(() => {
			this.snapshotTimer = undefined;
			void this.saveSnapshot().catch(() => undefined);
		}, this.init.snapshotDelayMs ?? SNAPSHOT_DELAY_MS);
	}

	private enqueue(run: () => Promise<void>): Promise<void> {
		const next = this.queue.then(run);
		this.queue = next.catch(() => undefined);
		return next;
	}
}

/** Indexes every stored entry of a workspace again. */
async function rebuild(init: SearchIndexInit): Promise<MiniSearch<Indexed>> {
	const rows = (await init.db.searchEntries.where('workspaceId').equals(init.workspaceId).toArray()).filter(isEntryRow);
	const index = new MiniSearch(SEARCH_OPTIONS);
	let i = 0;
	while (i < rows.length) {
		// A step ends after REBUILD_CHUNK rows or REBUILD_CHUNK_CHARS characters (a row at least).
		for (let n = 0, chars = 0; i < rows.length && n < REBUILD_CHUNK && (n === 0 || chars < REBUILD_CHUNK_CHARS); n++, i++) {
			const r = rows[i]!;
			const doc = indexed(r.docId, r.itemId, r.text, r.title);
			chars += doc.text.length;
			if (!index.has(doc.key)) index.add(doc);
		}
		init.onProgress?.(i, rows.length);
		await new Promise((resolve) => setTimeout(resolve, 0));
	}
	return index;
}

/** Whether an entry contains every phrase (in its title or text). */
function hasPhrases(row: SearchEntryRow, phrases: string[]): boolean {
	if (phrases.length === 0) return true;
	const text = `${row.title ?? ''}\n${row.text}`.normalize('NFKC');
	return phrases.every((p) => text.includes(p));
}

/** A result with its highlight ranges (MiniSearch's `terms` are the indexed terms that matched). */
function toHit(row: SearchEntryRow, result: SearchResult): SearchHit {
	const terms = new Set(result.terms);
	const ranges = matchRanges(row.text, terms);
	const titleRanges = row.title ? matchRanges(row.title, terms) : [];
	const { id: _id, workspaceId: _ws, ...entry } = row;
	return { ...entry, score: result.score, ranges, titleRanges, offset: ranges[0]?.[0] ?? 0 };
}
