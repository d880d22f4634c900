/**
 * Drops a browser's fetched copy of a file once no post it holds shows the file any more.
 * Found in review: a device that had fetched a file (on its own, or because the user opened
 * it) kept its bytes after its message was deleted by its author or hidden by an admin, though
 * the view no longer shows it, no replica serves it under that message, and an export leaves
 * it out.
 *
 * The rule, per workspace (one blob store): a blob this device did not send is dropped once no
 * document of the workspace it holds names it in a message that shows (blob/shownPosts.ts: the
 * author's newest signed deletion mark, a current admin's newest signed hide). A file is kept
 * while any one such message shows, in any document: the same bytes posted twice are one blob,
 * so a member deleting her own copy of a reference drops nothing another post still shows, and
 * she cannot sign a deletion of another's post. Files the device sent stay (its user's own);
 * files saved to disk are outside the app.
 *
 * Off the hot path: an update that may carry deletion or moderation marks (a byte scan) is only
 * kept (at most {@link MAX_KEPT_BYTES}: past them the pass runs at once); a pass runs
 * {@link SWEEP_DELAY_MS} after the first such update since the last pass,
 * decodes them, and checks at most {@link SWEEP_BATCH} of the fetched blobs named by the
 * messages their marks name (the rest wait for the next pass). Found in review: a pass checked
 * every fetched blob of a marked document, and an update that merely held the word "deletions"
 * (a message's text) marked it, so a member deleting her own messages, or posting that word,
 * every 2 s kept every device rechecking every file of a busy channel, and reading its store's
 * whole ledger, without end. A pass with no such blob reads nothing. A blob whose fetch may
 * still be under way (not whole, admitted less than `STALE_MS` ago) is looked at again later,
 * as the budget leaves it (blobBudget.ts).
 *
 * Once, {@link SWEEP_START_MS} after it starts, a pass looks at every fetched blob the store
 * holds ({@link SWEEP_BATCH} a pass, as above): a file whose messages were deleted or hidden
 * while no sweep followed them (before this rule, a tab closed before its pass ran, a pass
 * left for later) is dropped then, not only once some later mark comes in its channel.
 *
 * A mark that shows a message again (its author's restoring mark, a moderator's unhide) names no
 * file, so nothing pinned its files again: a pass tells {@link BlobSweepInit.onShown} of each
 * file of such a message this device does not hold (dropped once the message was deleted, or
 * passed over as it came deleted), which the blob mesh pins as any other.
 */
import type { RoleOf } from '../doc/channelRights.js';
import type { AttachmentRef } from '../doc/schema.js';
import type { SyncDocs } from '../mesh/syncDocs.js';
import { STALE_MS, type BlobLedger, type LedgerEntry } from './blobBudget.js';
import { carriesMarks, markedMessages, type BlobReferences } from './blobReferences.js';
import { namedByShownPost } from './shownPosts.js';

/** Milliseconds after the first update with marks since the last pass before a pass runs. */
export const SWEEP_DELAY_MS = 2_000;
/** Blobs one pass checks at most. */
export const SWEEP_BATCH = 64;
/** Milliseconds after start before the one pass over every fetched blob held (off the start's hot path). */
export const SWEEP_START_MS = 30_000;
/**
 * Bytes of updates kept for the next pass at most: past them the pass runs at once (what members'
 * updates carrying marks, or the word "deletions", can make a device hold between two passes).
 */
export const MAX_KEPT_BYTES = 4 * 1024 * 1024;
/** Milliseconds before a blob whose fetch may be under way is looked at again. */
const LATER_MS = 60_000;

/** Options of {@link BlobSweep}. */
export interface BlobSweepInit {
	docs: Pick<SyncDocs, 'list' | 'onLocalUpdate'>;
	/** The workspace's references index (BlobMesh.referencesOf): who names what, and the marks. */
	references: BlobReferences;
	/** The workspace's blob store, with why each blob is held. */
	ledger: BlobLedger;
	/** The team's role of a device (whose hides count). */
	roleOf: RoleOf;
	/** Default {@link SWEEP_DELAY_MS} (tests shorten it). */
	delayMs?: number;
	/** Default {@link SWEEP_START_MS} (tests shorten it). */
	startMs?: number;
	/**
	 * Told of a file this device does not hold that a message shows again (its author's
	 * restoring mark, a moderator's unhide: marks that name no file), to pin it (BlobMesh.want).
	 */
	onShown?: (docId: string, ref: AttachmentRef) => void;
	/** Told about a pass that failed (a store error). */
	onError?: (error: Error) => void;
	now?(): number;
}

/** See the module comment. */
export class BlobSweep {
	/** Updates that may carry marks since the last pass, by document (decoded by the pass, off the hot path). */
	private readonly dirty = new Map<string, Uint8Array[]>();
	/** Bytes in {@link dirty}. */
	private keptBytes = 0;
	/** Blobs still to check (past a pass's batch, or fetches that may be under way). */
	private readonly pending = new Set<string>();
	private timer: ReturnType<typeof setTimeout> | undefined;
	private due = Infinity;
	/** Passes one at a time. */
	private queue: Promise<void> = Promise.resolve();
	private stopped = false;
	/** Set once {@link SWEEP_START_MS} has passed: the next pass looks at every fetched blob held. */
	private everything = false;
	private readonly startTimer: ReturnType<typeof setTimeout>;
	private readonly unsubscribe: () => void;
	private looked = 0;
	/** Blobs that updates named while a pass ran ({@link named}): that pass keeps them. */
	private readonly renamed = new Set<string>();
	private running = false;

	constructor(private readonly init: BlobSweepInit) {
		this.unsubscribe = init.docs.onLocalUpdate((docId, update) => {
			if (!carriesMarks(update)) return;
			const updates = this.dirty.get(docId);
			if (updates === undefined) this.dirty.set(docId, [update]);
			else updates.push(update);
			this.keptBytes += update.byteLength;
			this.schedule(this.keptBytes > MAX_KEPT_BYTES ? 0 : (init.delayMs ?? SWEEP_DELAY_MS));
		});
		this.startTimer = setTimeout(() => {
			this.everything = true;
			this.schedule(0);
		}, init.startMs ?? SWEEP_START_MS);
	}

	/**
	 * Blob `blobId` was just named by an update (a message's `files`): a pass under way keeps it,
	 * and it is looked at again. Found in review: a message naming a file could arrive while a
	 * pass was finding that no message showed it (a first pass reads every document), and the
	 * pass then dropped the file its new message shows; the pin of that message had found the
	 * file held and fetched nothing.
	 */
	named(blobId: string): void {
		if (this.running) this.renamed.add(blobId);
	}

	/**
	 * Blob `blobId`, just fetched by a pin, shows in no message any more: the next pass looks at
	 * it. Found in review: a pin checked that its message showed, then fetched; a deletion that
	 * came meanwhile had its pass find the file not held yet (the pin's first answer was slow),
	 * and the fetch then stored it for good (until the next start's pass).
	 */
	recheck(blobId: string): void {
		if (this.stopped) return;
		this.pending.add(blobId);
		this.schedule(this.init.delayMs ?? SWEEP_DELAY_MS);
	}

	/** Bytes of updates kept for the next pass (at most about {@link MAX_KEPT_BYTES}). */
	get kept(): number {
		return this.keptBytes;
	}

	/** Blobs looked at so far (whether a message shows them). */
	get checked(): number {
		return this.looked;
	}

	/** Stops following updates; a pass under way finishes. */
	destroy(): void {
		this.stopped = true;
		this.unsubscribe();
		this.dirty.clear();
		this.keptBytes = 0;
		clearTimeout(this.timer);
		clearTimeout(this.startTimer);
	}

	/** Runs a pass when `ms` have passed (or sooner, if one is due sooner already). */
	private schedule(ms: number): void {
		if (this.stopped) return;
		const due = this.now() + ms;
		if (this.timer !== undefined && this.due <= due) return;
		clearTimeout(this.timer);
		this.due = due;
		this.timer = setTimeout(() => {
			this.timer = undefined;
			this.due = Infinity;
			void this.pass();
		}, ms);
	}

	/** One pass, after any under way (a store error is told, not thrown). */
	private pass(): Promise<void> {
		const report = (error: unknown) => this.init.onError?.(error instanceof Error ? error : new Error(String(error)));
		const run = async () => {
			this.running = true;
			try {
				await this.sweep();
			} finally {
				this.running = false;
				this.renamed.clear();
			}
		};
		this.queue = this.queue.then(run).catch(report);
		return this.queue;
	}

	private async sweep(): Promise<void> {
		const { ledger, references } = this.init;
		const marked = [...this.dirty];
		this.dirty.clear();
		this.keptBytes = 0;
		const docs = marked.map(([docId]) => docId);
		// The blobs the marked messages name (from the references index, in memory), and of those
		// the ones a message shown again names, with its document.
		const named = new Set<string>();
		const again = new Map<string, string>();
		for (const [docId, updates] of marked) {
			const messages = new Set<string>();
			const shownAgain = new Set<string>();
			for (const update of updates) {
				for (const [msg, shows] of markedMessages(update)) {
					messages.add(msg);
					if (shows) shownAgain.add(msg);
				}
			}
			if (messages.size === 0) continue;
			for (const blobId of (await references.of(docId)).keys()) {
				const posts = await references.posts(docId, blobId);
				if (posts.some((post) => messages.has(post.id))) named.add(blobId);
				if (!again.has(blobId) && posts.some((post) => shownAgain.has(post.id))) again.set(blobId, docId);
			}
		}
		if (named.size === 0 && this.pending.size === 0 && !this.everything) return;
		const held = new Map<string, LedgerEntry>((await ledger.entries()).map((entry) => [entry.id, entry]));
		// Only what this device holds and did not send: its own files stay.
		const fetched = (blobId: string) => {
			const origin = held.get(blobId)?.origin;
			return origin !== undefined && origin !== 'sent';
		};
		for (const blobId of named) if (fetched(blobId)) this.pending.add(blobId);
		await this.showAgain(again, held);
		if (this.everything) {
			this.everything = false;
			for (const blobId of held.keys()) if (fetched(blobId)) this.pending.add(blobId);
		}
		const batch = [...this.pending].slice(0, SWEEP_BATCH);
		const later = new Set<string>();
		for (const blobId of batch) {
			if (this.stopped) return;
			this.pending.delete(blobId);
			this.looked++;
			const entry = held.get(blobId);
			if (entry === undefined || !fetched(blobId) || (await this.shows(blobId, docs))) continue;
			const whole = (await ledger.missing(blobId))?.length === 0;
			if (!whole && this.now() - entry.at < STALE_MS) {
				this.pending.add(blobId);
				later.add(blobId);
				continue;
			}
			// A message naming it came since it was looked at: the next pass looks again.
			if (this.renamed.has(blobId)) {
				this.pending.add(blobId);
				continue;
			}
			await ledger.drop(blobId);
		}
		// Blobs past this batch soon; fetches that may be under way later.
		if (this.pending.size > later.size) this.schedule(this.init.delayMs ?? SWEEP_DELAY_MS);
		else if (later.size > 0) this.schedule(LATER_MS);
	}

	/**
	 * Tells {@link BlobSweepInit.onShown} of the blobs of `named` (blob id → the document where a
	 * mark showed again a message naming it) not held here whose message there shows now. Found
	 * in review: a pin was queued only by an update naming a file, so the file of a message that
	 * came deleted (its pin passed over) or was swept once deleted never came back when its
	 * author restored it, or a moderator showed it again: those marks name no file.
	 */
	private async showAgain(named: ReadonlyMap<string, string>, held: ReadonlyMap<string, LedgerEntry>): Promise<void> {
		const { onShown, references, roleOf } = this.init;
		if (onShown === undefined) return;
		for (const [blobId, docId] of named) {
			if (this.stopped) return;
			if (held.has(blobId) || !(await namedByShownPost(references, docId, blobId, roleOf))) continue;
			const ref = (await references.of(docId)).get(blobId);
			if (ref !== undefined) onShown(docId, ref);
		}
	}

	/**
	 * Whether a document of the workspace held here names blob `blobId` in a message that shows;
	 * `first` (the documents whose marks changed, or the one a pin read the reference in) is
	 * asked first: most blobs still show there, and the other documents are then not read.
	 */
	async shows(blobId: string, first: readonly string[] = []): Promise<boolean> {
		const { docs, references, roleOf } = this.init;
		const rest = (await docs.list()).filter((docId) => !first.includes(docId));
		for (const docId of [...first, ...rest]) {
			if ((await references.has(docId, blobId)) && (await namedByShownPost(references, docId, blobId, roleOf))) return true;
		}
		return false;
	}

	private now(): number {
		return this.init.now?.() ?? Date.now();
	}
}
