/**
 * Keeps a workspace's {@link SearchIndex} in step with its documents:
 *
 * - every change to an open document of the workspace (this device's edits and updates
 *   synced from peers alike, through {@link DocStore.onUpdate}) schedules that document for
 *   indexing, debounced;
 * - a background pass visits every channel, note and AI thread the root lists, one at a time:
 *   a document whose newest stored update is the one recorded at its last indexing is skipped
 *   without loading it; others are loaded, indexed from where the last pass stopped, and
 *   released. So a first run indexes everything once and later runs only what is new.
 *
 * A document whose content arrived before the root listed it (sync order is not guaranteed)
 * is indexed when the root starts listing it.
 *
 * A channel's edits count as its posting rules say (editRules.ts). When the rules change (the
 * root changed, or `watchRules` reports a change of the team), each channel whose rules now
 * say something else about its edited messages is indexed again; so is one the background
 * pass finds so, though nothing new was stored in it.
 *
 * Indexing one document never overlaps another pass over the same document.
 */
import type * as Y from 'yjs';
import type { PostingRules } from '../../doc/channelRights.js';
import type { WorkspaceDoc } from '../../doc/WorkspaceDoc.js';
import type { DocStore } from '../DocStore.js';
import { editRulesKey } from './editRules.js';
import { aiThreadChanges, channelChanges, noteChanges } from './extract.js';
import type { IndexChange, SearchIndex } from './SearchIndex.js';
import type { SearchEntry } from './rows.js';

/** How long after a document's last change it is indexed. */
export const INDEX_DELAY_MS = 300;
/**
 * Entries written and indexed per step: a long channel indexed for the first time goes in
 * steps with the page responsive between them. Its progress row is written with the last
 * step, so an interrupted first pass starts over (writing an entry twice changes nothing).
 */
export const APPLY_CHUNK = 2000;
/**
 * Characters of text written and indexed per step at most: 2,000 messages of 40,000
 * characters (a member's modified client can post them) would otherwise be tokenized at once.
 */
export const APPLY_CHUNK_CHARS = 500_000;

/** Progress of the background pass. */
export interface IndexProgress {
	done: number;
	total: number;
}

/** Options of {@link SearchIndexer}. */
export interface SearchIndexerInit {
	docs: DocStore;
	root: WorkspaceDoc;
	index: SearchIndex;
	delayMs?: number;
	/** Called as the background pass goes (and once more when it ends). */
	onProgress?: (progress: IndexProgress) => void;
	/** Called with failures to index a document (the pass goes on). */
	onError?: (error: Error) => void;
	/** Called after changed documents were indexed (to refresh results on screen). */
	onIndexed?: () => void;
	/** The private channels and direct conversations this member is in (indexed as channels). */
	spaces?: () => ReadonlySet<string>;
	/** Channel `docId`'s posting rules (which edits count); without, an author's newest signed edit counts. */
	rules?: (docId: string) => PostingRules | undefined;
	/** Calls `changed` when the rules may have changed other than by the root (the team); returns a stop function. */
	watchRules?: (changed: () => void) => () => void;
}

/** What a channel's progress row says of its edits (see editRules.ts). */
interface EditRules {
	editors: readonly string[];
	rulesKey: string;
}

type Kind = 'channel' | 'note' | 'ai';

/** See the module comment. */
export class SearchIndexer {
	private readonly pending = new Set<string>();
	/** Documents the root listed when last looked at. */
	private readonly listed = new Set<string>();
	private readonly running = new Map<string, Promise<void>>();
	private timer: ReturnType<typeof setTimeout> | undefined;
	private stopWatching: (() => void) | undefined;
	private stopWatchingRules: (() => void) | undefined;
	/** Each channel indexed: what its rules said of its edits then. */
	private readonly editRules = new Map<string, EditRules>();
	/** The rules may have changed since channels were last compared with them. */
	private rulesChanged = false;
	private stopped = false;

	constructor(private readonly init: SearchIndexerInit) {}

	/** Starts following document changes; returns the background pass (resolves when it ends). */
	start(): Promise<void> {
		for (const id of this.listedIds()) this.listed.add(id);
		this.stopWatching = this.init.docs.onUpdate((id) => {
			if (this.stopped) return;
			if (id === this.init.root.doc.guid) {
				for (const listed of this.listedIds()) {
					if (this.listed.has(listed)) continue;
					this.listed.add(listed);
					this.schedule(listed);
				}
				this.rulesMayHaveChanged();
			} else if (this.kindOf(id)) this.schedule(id);
		});
		this.stopWatchingRules = this.init.watchRules?.(() => {
			if (!this.stopped) this.rulesMayHaveChanged();
		});
		return this.catchUp();
	}

	private schedule(id: string): void {
		this.pending.add(id);
		this.startTimer();
	}

	private startTimer(): void {
		this.timer ??= setTimeout(() => void this.flush(), this.init.delayMs ?? INDEX_DELAY_MS);
	}

	/** Compares the channels with their rules at the next flush (a settings mark or a role change can arrive often: once per delay). */
	private rulesMayHaveChanged(): void {
		if (this.init.rules === undefined) return;
		this.rulesChanged = true;
		this.startTimer();
	}

	/** Whether channel `id`'s rules say now what they said of its edits when it was indexed. */
	private rulesHold(id: string, was: EditRules): boolean {
		return editRulesKey(this.init.rules?.(id), was.editors) === was.rulesKey;
	}

	/** Every channel, note and AI thread the root lists. */
	private listedIds(): string[] {
		const { root } = this.init;
		return [...root.channels.keys(), ...(this.init.spaces?.() ?? []), ...root.notes.keys(), ...root.aiThreads.keys()];
	}

	/** Indexes every listed document that changed since it was last indexed. */
	async catchUp(): Promise<void> {
		const ids = this.listedIds();
		const progress = { done: 0, total: ids.length };
		this.init.onProgress?.({ ...progress });
		for (const id of ids) {
			if (this.stopped) return;
			await this.indexDoc(id, true);
			progress.done++;
			this.init.onProgress?.({ ...progress });
		}
	}

	/** Indexes the documents whose changes are pending now. */
	async flush(): Promise<void> {
		clearTimeout(this.timer);
		this.timer = undefined;
		if (this.rulesChanged) {
			this.rulesChanged = false;
			for (const [id, was] of this.editRules) if (this.kindOf(id) === 'channel' && !this.rulesHold(id, was)) this.pending.add(id);
		}
		const ids = [...this.pending];
		this.pending.clear();
		for (const id of ids) await this.indexDoc(id, false);
		if (ids.length > 0) this.init.onIndexed?.();
	}

	/** Stops following changes; pending ones are indexed first. */
	async stop(): Promise<void> {
		this.stopWatching?.();
		this.stopWatchingRules?.();
		await this.flush();
		this.stopped = true;
		await Promise.all(this.running.values());
	}

	/** Which index of the root lists a document, if any. */
	private kindOf(id: string): Kind | undefined {
		const { root } = this.init;
		if (root.channels.has(id) || this.init.spaces?.().has(id) === true) return 'channel';
		if (root.notes.has(id)) return 'note';
		if (root.aiThreads.has(id)) return 'ai';
		return undefined;
	}

	/** Indexes one document, after any pass over it still running. */
	private indexDoc(id: string, skipUnchangedStore: boolean): Promise<void> {
		const before = this.running.get(id) ?? Promise.resolve();
		const run = before.then(() => this.indexNow(id, skipUnchangedStore)).catch((error: unknown) => {
			this.init.onError?.(error instanceof Error ? error : new Error(String(error)));
		});
		this.running.set(id, run);
		void run.then(() => {
			if (this.running.get(id) === run) this.running.delete(id);
		});
		return run;
	}

	private async indexNow(id: string, skipUnchangedStore: boolean): Promise<void> {
		const kind = this.kindOf(id);
		if (!kind || this.stopped) return;
		const { docs, index } = this.init;
		const [prev, storedKey] = await Promise.all([index.docState(id), docs.lastStoredKey(id)]);
		const was = kind === 'channel' && prev ? { editors: prev.editors ?? [], rulesKey: prev.rulesKey ?? '' } : undefined;
		if (was) this.editRules.set(id, was);
		// Nothing new stored, and the rules say of its edits what they said: nothing to do.
		if (skipUnchangedStore && prev && storedKey !== undefined && prev.storedKey === storedKey && (was === undefined || this.rulesHold(id, was))) return;
		if (storedKey === undefined && !docs.isOpen(id)) return; // nothing stored here yet
		const handle = docs.open(id);
		try {
			await handle.ready;
			if (handle.doc.isDestroyed) return;
			// The key is read after loading: every update stored under it is in the document.
			// (The state vector alone cannot say "unchanged": a deletion leaves it as it was.)
			const key = await docs.lastStoredKey(id);
			const change = await this.changesOf(kind, id, handle.doc, prev);
			if (change.doc) change.doc.storedKey = key;
			const steps = applySteps(change.put ?? []);
			for (const step of steps.slice(0, -1)) {
				if (this.stopped) return;
				await index.apply({ put: step });
				await new Promise((resolve) => setTimeout(resolve, 0));
			}
			await index.apply({ ...change, put: steps.at(-1) ?? [] });
			if (kind === 'channel' && change.doc) this.editRules.set(id, { editors: change.doc.editors ?? [], rulesKey: change.doc.rulesKey ?? '' });
		} finally {
			docs.release(handle);
		}
	}

	private changesOf(kind: Kind, id: string, doc: Y.Doc, prev: Awaited<ReturnType<SearchIndex['docState']>>): Promise<IndexChange> | IndexChange {
		if (kind === 'channel') return channelChanges(id, doc, prev, this.init.index, this.init.rules?.(id));
		if (kind === 'ai') return aiThreadChanges(id, doc, prev);
		const info = this.init.root.listNotes().find((n) => n.id === id);
		return noteChanges(id, doc, info?.updatedAt ?? 0);
	}
}

/** `put` in steps of at most {@link APPLY_CHUNK} entries and {@link APPLY_CHUNK_CHARS} characters (one entry at least each). */
export function applySteps(put: readonly SearchEntry[]): SearchEntry[][] {
	const steps: SearchEntry[][] = [];
	let step: SearchEntry[] = [];
	let chars = 0;
	for (const e of put) {
		const size = e.text.length + (e.title?.length ?? 0);
		if (step.length > 0 && (step.length >= APPLY_CHUNK || chars + size > APPLY_CHUNK_CHARS)) {
			steps.push(step);
			step = [];
			chars = 0;
		}
		step.push(e);
		chars += size;
	}
	if (step.length > 0) steps.push(step);
	return steps;
}
