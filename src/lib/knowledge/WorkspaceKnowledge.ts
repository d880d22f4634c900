/**
 * A workspace's knowledge for the app's AI chats: its {@link KnowledgeIndex} and one
 * {@link KnowledgeIndexer} for the session. Before a question is answered, the documents the
 * member may read are brought up to date, reading only those not read yet this session and
 * those changed since (the document store reports every change to a document, local or
 * synced), so a question costs a pass over what changed, not over the whole workspace. A
 * channel whose posting rules changed since it was read (a settings mark, a role: which edits
 * count, KnowledgeIndexer.ts) is read again too.
 */
import type { DocStore } from '../store/DocStore.js';
import type { KnowledgeIndex } from './KnowledgeIndex.js';
import { KnowledgeIndexer, type KnowledgeDocKind, type KnowledgeIndexerInit } from './KnowledgeIndexer.js';

/** Documents loaded at once while the knowledge is brought up to date. */
export const REFRESH_BATCH = 16;

/** A document the member may read, by kind. */
export interface ReadableDoc {
	id: string;
	kind: KnowledgeDocKind;
}

/** See the module comment. */
export class WorkspaceKnowledge {
	private readonly indexer: KnowledgeIndexer;
	/** Documents read this session and unchanged since. */
	private readonly current = new Set<string>();
	/** Documents changed during the pass running now (they stay stale). */
	private readonly touched = new Set<string>();
	/** Whether the pass running now failed somewhere (then nothing counts as read). */
	private failed = false;
	private readonly offUpdates: () => void;

	constructor(
		readonly index: KnowledgeIndex,
		private readonly docs: Pick<DocStore, 'open' | 'release' | 'onUpdate'>,
		/** The channels' posting rules, and changes to them (see KnowledgeIndexerInit). */
		rules: Pick<KnowledgeIndexerInit, 'rules' | 'watchRules'> = {}
	) {
		this.indexer = new KnowledgeIndexer({ ...rules, index, delayMs: 0, onError: () => (this.failed = true) });
		this.offUpdates = docs.onUpdate((id) => {
			this.current.delete(id);
			this.touched.add(id);
		});
	}

	/** Reads the documents of `readable` that are new this session or changed since they were read. */
	async refresh(readable: readonly ReadableDoc[]): Promise<void> {
		for (const id of this.indexer.offRules()) this.current.delete(id);
		const stale = readable.filter((d) => !this.current.has(d.id));
		this.touched.clear();
		this.failed = false;
		// A few documents loaded at a time: any member may list thousands of notes (found in review:
		// every stale document was loaded at once).
		for (let at = 0; at < stale.length; at += REFRESH_BATCH) {
			const held = stale.slice(at, at + REFRESH_BATCH).map((d) => ({ ...d, handle: this.docs.open(d.id) }));
			try {
				for (const d of held) {
					await d.handle.ready;
					this.indexer.docChanged(d.id, d.kind, d.handle.doc);
				}
				await this.indexer.flush();
			} finally {
				for (const d of held) this.docs.release(d.handle);
			}
		}
		if (!this.failed) for (const d of stale) if (!this.touched.has(d.id)) this.current.add(d.id);
	}

	async close(): Promise<void> {
		this.offUpdates();
		await this.indexer.stop();
		await this.index.close();
	}
}
