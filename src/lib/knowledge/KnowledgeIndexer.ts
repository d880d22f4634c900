/**
 * Keeps a {@link KnowledgeIndex} in step with a workspace's notes and channels. The caller
 * (the workspace core) says which document changed and hands over the loaded Y.Doc; the
 * indexer reads it after a debounce, so a note being typed is chunked once per pause:
 *
 * - a note is chunked whole (chunker.ts) and replaces the note's chunks; unchanged sections
 *   keep their hashes and are not embedded again;
 * - a channel is read incrementally with the search index's extraction
 *   (store/search/extract.ts `channelChanges`: new messages, the author's newest edit, deletions
 *   and their undoing), from the state vector of its last pass this session. The first pass
 *   of a session reads every message and drops the chunks of messages no longer there.
 *
 * A channel's edits count as its posting rules say (store/search/editRules.ts), as in the view,
 * search and the model's tools: knowledge once quoted to the model a member's edit dated after
 * the channel went read-only or was archived (found in review). The rules change after a
 * channel was read (a settings mark arrives on the root, a role changes): {@link
 * KnowledgeIndexer.offRules} names the channels whose rules now say something else of their
 * edited messages, and reading such a channel again weighs every edit anew. A new session
 * reads every channel whole, under the rules as they are then.
 *
 * AI chats are not knowledge: they are one member's conversations with a model, and answers
 * grounded in earlier answers would cite the model to itself.
 *
 * Chunks are stored and searchable by full text as soon as a document is read; embedding runs
 * after, in the index's background pass (its progress is the index's `onProgress`).
 */
import type * as Y from 'yjs';
import type { PostingRules } from '../doc/channelRights.js';
import { NoteDoc } from '../doc/NoteDoc.js';
import { editRulesKey } from '../store/search/editRules.js';
import { channelChanges, type EntryLookup } from '../store/search/extract.js';
import type { SearchDocRow, SearchEntryRow } from '../store/search/rows.js';
import { chunkMessage, chunkNote } from './chunker.js';
import type { KnowledgeChange, KnowledgeIndex } from './KnowledgeIndex.js';

/** How long after a document's last change it is read. */
export const KNOWLEDGE_DELAY_MS = 1500;

/** Which kind of document changed. */
export const KnowledgeDocKind = { note: 'note', channel: 'channel' } as const;
export type KnowledgeDocKind = (typeof KnowledgeDocKind)[keyof typeof KnowledgeDocKind];

/** Options of {@link KnowledgeIndexer}. */
export interface KnowledgeIndexerInit {
	index: KnowledgeIndex;
	/** Debounce (default {@link KNOWLEDGE_DELAY_MS}). */
	delayMs?: number;
	/** Failures to read or store a document, and of the embedding pass (indexing goes on). */
	onError?: (error: Error) => void;
	/** Called with the documents whose chunks were updated (before their embedding). */
	onIndexed?: (docIds: string[]) => void;
	/** Channel `docId`'s posting rules (which edits count); without, an author's newest signed edit counts. */
	rules?: (docId: string) => PostingRules | undefined;
	/**
	 * Calls `changed` when the rules may have changed (the team, the root's settings marks);
	 * returns a stop function. Without it, {@link KnowledgeIndexer.offRules} compares every
	 * channel each time.
	 */
	watchRules?: (changed: () => void) => () => void;
}

/** What the last pass over a channel saw, and what its rules said of its edited messages then (editRules.ts). */
type ChannelState = Pick<SearchDocRow, 'sv' | 'deleted' | 'editors' | 'rulesKey' | 'removed'>;

/** See the module comment. */
export class KnowledgeIndexer {
	private readonly pending = new Map<string, { kind: KnowledgeDocKind; doc: Y.Doc } | 'removed'>();
	private readonly channels = new Map<string, ChannelState>();
	private timer: ReturnType<typeof setTimeout> | undefined;
	private running: Promise<void> = Promise.resolve();
	private stopped = false;
	/** The rules may have changed since the channels were last compared with them. */
	private rulesChanged = true;
	private readonly stopWatchingRules: (() => void) | undefined;

	constructor(private readonly init: KnowledgeIndexerInit) {
		this.stopWatchingRules = init.watchRules?.(() => (this.rulesChanged = true));
	}

	/**
	 * The channels read this session whose rules now say something else of their edited
	 * messages than when they were read: read them again ({@link docChanged}).
	 */
	offRules(): string[] {
		const { rules, watchRules } = this.init;
		if (rules === undefined || (watchRules !== undefined && !this.rulesChanged)) return [];
		this.rulesChanged = false;
		const off: string[] = [];
		for (const [docId, state] of this.channels) {
			if (editRulesKey(rules(docId), state.editors ?? []) !== (state.rulesKey ?? '')) off.push(docId);
		}
		return off;
	}

	/**
	 * A note or channel changed (or was opened for the first time this session): it is read
	 * after the debounce. Keep the document loaded until then; a destroyed one is skipped.
	 */
	docChanged(docId: string, kind: KnowledgeDocKind, doc: Y.Doc): void {
		if (this.stopped) return;
		this.pending.set(docId, { kind, doc });
		this.schedule();
	}

	/** A document was deleted, or the member lost it: its chunks go. */
	docRemoved(docId: string): void {
		if (this.stopped) return;
		this.pending.set(docId, 'removed');
		this.schedule();
	}

	/** Reads the pending documents now; resolves when their chunks are stored (not embedded). */
	flush(): Promise<void> {
		clearTimeout(this.timer);
		this.timer = undefined;
		const docs = [...this.pending];
		this.pending.clear();
		const run = this.running.then(() => this.indexNow(docs));
		this.running = run.catch(() => undefined);
		return run;
	}

	/** Stops following changes; pending ones are read first. */
	async stop(): Promise<void> {
		this.stopWatchingRules?.();
		await this.flush();
		this.stopped = true;
	}

	private schedule(): void {
		this.timer ??= setTimeout(() => void this.flush(), this.init.delayMs ?? KNOWLEDGE_DELAY_MS);
	}

	private async indexNow(docs: [string, { kind: KnowledgeDocKind; doc: Y.Doc } | 'removed'][]): Promise<void> {
		const { index } = this.init;
		const change: Required<Pick<KnowledgeChange, 'replace' | 'removeDocs'>> = { replace: [], removeDocs: [] };
		const channelStates = new Map<string, ChannelState>();
		for (const [docId, what] of docs) {
			try {
				if (what === 'removed') {
					change.removeDocs.push(docId);
					this.channels.delete(docId);
				} else if (!what.doc.isDestroyed) {
					if (what.kind === KnowledgeDocKind.note) change.replace.push(noteChange(docId, what.doc));
					else {
						const { replace, state } = await this.channelChange(docId, what.doc);
						change.replace.push(...replace);
						channelStates.set(docId, state);
					}
				}
			} catch (error) {
				this.init.onError?.(asError(error));
			}
		}
		if (change.replace.length > 0 || change.removeDocs.length > 0) {
			try {
				await index.apply(change);
			} catch (error) {
				this.init.onError?.(asError(error));
				return; // channels are read again from their previous state next time
			}
		}
		for (const [docId, state] of channelStates) this.channels.set(docId, state);
		if (change.replace.length === 0 && change.removeDocs.length === 0) return;
		this.init.onIndexed?.([...new Set([...change.replace.map((r) => r.docId), ...change.removeDocs])]);
		void index.embedPending().catch((error: unknown) => {
			if (!(error instanceof DOMException && error.name === 'AbortError')) this.init.onError?.(asError(error));
		});
	}

	/** The messages of a channel that changed since its last pass (every one on the first). */
	private async channelChange(docId: string, doc: Y.Doc): Promise<{ replace: NonNullable<KnowledgeChange['replace']>; state: ChannelState }> {
		const prev = this.channels.get(docId);
		const change = await channelChanges(docId, doc, prev, this.lookup(), this.init.rules?.(docId));
		const replace: NonNullable<KnowledgeChange['replace']> = [];
		const kept = new Set<string>();
		for (const entry of change.put ?? []) {
			kept.add(entry.itemId);
			replace.push({ docId, itemId: entry.itemId, chunks: chunkMessage(docId, entry) });
		}
		for (const { itemId } of change.remove ?? []) if (!kept.has(itemId)) replace.push({ docId, itemId, chunks: [] });
		if (!prev) {
			// First pass this session: chunks of messages gone meanwhile (deleted while this
			// device was away) go too.
			const removed = new Set(replace.map((r) => r.itemId));
			for (const itemId of this.init.index.messageIds(docId)) if (!kept.has(itemId) && !removed.has(itemId)) replace.push({ docId, itemId, chunks: [] });
		}
		const sv = change.doc?.sv;
		if (!sv) throw new Error(`No state vector for channel ${docId}.`);
		return { replace, state: { sv, deleted: change.doc?.deleted ?? [], editors: change.doc?.editors ?? [], rulesKey: change.doc?.rulesKey ?? '', removed: change.doc?.removed ?? 0 } };
	}

	/** The stored messages as extraction reads them (author and clock of the text indexed). */
	private lookup(): EntryLookup {
		const { index } = this.init;
		return {
			entries: async (docId, itemIds) =>
				itemIds.map((itemId): SearchEntryRow | undefined => {
					const parts = index.messageChunks(docId, itemId);
					const first = parts[0];
					if (!first) return undefined;
					return {
						id: '',
						workspaceId: '',
						docId,
						itemId,
						kind: 'message',
						...(first.author !== undefined ? { author: first.author } : {}),
						...(first.parent !== undefined ? { parent: first.parent } : {}),
						text: parts.map((p) => p.text).join('\n'),
						time: first.time ?? 0,
						...(first.textHlc !== undefined ? { textHlc: first.textHlc } : {})
					};
				}),
			itemIds: async (docId) => index.messageIds(docId)
		};
	}
}

/** A note's chunks now. */
function noteChange(docId: string, doc: Y.Doc): { docId: string; chunks: ReturnType<typeof chunkNote> } {
	const note = new NoteDoc(doc);
	return { docId, chunks: chunkNote(docId, note.title, note.body.toString()) };
}

function asError(error: unknown): Error {
	return error instanceof Error ? error : new Error(String(error));
}
