/**
 * Runes state of the open workspace's search box: the query, its results, and the index
 * behind them. Opening a workspace opens its index (from the stored snapshot, or rebuilt with
 * progress) and starts the {@link SearchIndexer}, which follows every document change and
 * indexes documents not opened yet in the background (with progress). The index's code
 * (MiniSearch and the indexer) is fetched then, beside the first paint rather than in the first load.
 */
import type { Services } from '../app.js';
import type { PostingRules } from '../doc/channelRights.js';
import type { WorkspaceDoc } from '../doc/WorkspaceDoc.js';
import type { SearchIndex, SearchHit } from '../store/search/SearchIndex.js';
import type { SearchIndexer, IndexProgress } from '../store/search/SearchIndexer.js';
import { SearchKind } from '../store/search/rows.js';
import type * as Y from 'yjs';

/** What a workspace adds to its search: its private spaces, which messages nobody is shown, and which edits count. */
export interface SearchScope {
	/** The private channels and direct conversations the member is in. */
	spaces?: () => ReadonlySet<string>;
	/** Ids of channel `docId`'s messages nobody is shown. */
	unseen?: (docId: string, doc: Y.Doc) => Promise<Set<string>>;
	/** Whether the member is shown channel `docId` (a channel a guest listed in the root is shown to nobody). */
	listed?: (docId: string) => boolean;
	/** Channel `docId`'s posting rules: which edits of its messages count (channelRights.ts `shownText`). */
	rules?: (docId: string) => PostingRules;
	/** Calls `changed` when the team changes (the rules may say otherwise); returns a stop function. */
	watchRules?: (changed: () => void) => () => void;
}

/** State of a workspace's search. */
export class SearchState {
	query = $state('');
	/** Results of {@link searched}, best first. */
	results = $state.raw<SearchHit[]>([]);
	/** The query the results are for ('' before any search). */
	searched = $state('');
	searching = $state(false);
	/** While the index is being built or caught up: how far it is. */
	progress = $state.raw<IndexProgress | undefined>();
	/** Why search is unavailable, if it is. */
	error = $state('');

	private index: SearchIndex | undefined;
	private indexer: SearchIndexer | undefined;
	private ticket = 0;
	private closed = false;
	/** Resolves once the index is open (undefined if it could not be). */
	private readonly opened: Promise<SearchIndex | undefined>;

	constructor(
		private readonly services: Services,
		private readonly workspaceId: string,
		private readonly root: WorkspaceDoc,
		private readonly scope: SearchScope = {}
	) {
		this.opened = import('../store/search/SearchIndex.js')
			.then(({ SearchIndex }) =>
				SearchIndex.open({
					db: services.db,
					workspaceId,
					onProgress: (done, total) => (this.progress = { done, total })
				})
			)
			.catch((error: unknown) => {
				this.progress = undefined;
				this.error = error instanceof Error ? error.message : String(error);
				return undefined;
			});
		void this.start();
	}

	private async start(): Promise<void> {
		try {
			const [index, { SearchIndexer }] = await Promise.all([this.opened, import('../store/search/SearchIndexer.js')]);
			if (!index || this.closed) return;
			this.index = index;
			this.progress = undefined;
			if (this.searched) void this.run(this.searched);
			const indexer = new SearchIndexer({
				docs: this.services.docs,
				root: this.root,
				index,
				onProgress: (p) => (this.progress = p.done < p.total ? p : undefined),
				onError: (error) => console.warn('search indexing:', error.message),
				...(this.scope.spaces !== undefined ? { spaces: this.scope.spaces } : {}),
				...(this.scope.rules !== undefined ? { rules: this.scope.rules } : {}),
				...(this.scope.watchRules !== undefined ? { watchRules: this.scope.watchRules } : {}),
				// New and changed messages show up in the results on screen.
				onIndexed: () => {
					if (this.searched && !this.searching) void this.run(this.searched);
				}
			});
			this.indexer = indexer;
			await indexer.start();
			// What the background pass found shows in the current results.
			if (this.searched && !this.closed) void this.run(this.searched);
		} catch (error) {
			this.progress = undefined;
			this.error = error instanceof Error ? error.message : String(error);
		}
	}

	/** Searches for `query` (the box's text by default); an empty query clears the results. */
	async run(query: string = this.query): Promise<void> {
		const ticket = ++this.ticket;
		const clean = query.trim();
		if (!clean) {
			this.results = [];
			this.searched = '';
			this.searching = false;
			return;
		}
		this.searching = true;
		if (!this.index) {
			// Runs again once the index is open.
			this.searched = clean;
			return;
		}
		try {
			const hits = await this.index.search(clean, undefined, this.keeper());
			if (ticket !== this.ticket) return;
			this.results = hits;
			this.searched = clean;
		} catch (error) {
			if (ticket === this.ticket) this.error = error instanceof Error ? error.message : String(error);
		} finally {
			if (ticket === this.ticket) this.searching = false;
		}
	}

	/**
	 * A filter of results, page by page (SearchIndex.search's `keep`): it leaves out messages
	 * nobody is shown (in a channel the member is not shown, hidden by a moderator, withheld by
	 * the channel's posting rules), deciding by the team as it is now: the index keeps what
	 * was written. Each channel among the results is read once.
	 */
	private keeper(): (page: SearchHit[]) => Promise<SearchHit[]> {
		const { unseen, listed } = this.scope;
		const hidden = new Map<string, Set<string>>();
		return async (found) => {
			const hits = listed === undefined ? found : found.filter((h) => h.kind !== SearchKind.message || listed(h.docId));
			if (unseen === undefined) return hits;
			for (const docId of new Set(hits.filter((h) => h.kind === SearchKind.message).map((h) => h.docId))) {
				if (hidden.has(docId)) continue;
				const handle = this.services.docs.open(docId);
				try {
					await handle.ready;
					hidden.set(docId, await unseen(docId, handle.doc));
				} finally {
					this.services.docs.release(handle);
				}
			}
			return hits.filter((h) => h.kind !== SearchKind.message || !hidden.get(h.docId)?.has(h.itemId));
		};
	}

	/** Empties the box and the results. */
	clear(): void {
		this.ticket++;
		this.query = '';
		this.results = [];
		this.searched = '';
		this.searching = false;
	}

	/**
	 * Hits of the live index, best first, without messages nobody is shown (as {@link run}
	 * finds them); the AI chat's workspace tools check each against the member's rights again.
	 */
	async hits(query: string, limit: number): Promise<SearchHit[]> {
		const index = await this.opened;
		return index ? index.search(query, limit, this.keeper()) : [];
	}

	/** Stops the background pass, indexes pending changes, saves the index and stops following documents. */
	async close(): Promise<void> {
		this.closed = true;
		const index = await this.opened;
		await this.indexer?.stop().catch(() => undefined);
		await index?.close().catch(() => undefined);
	}
}
