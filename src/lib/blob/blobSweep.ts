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
 * Off the hot path: an update that carries deletion or moderation marks only notes its
 * document; a pass runs {@link SWEEP_DELAY_MS} after the last such update, and checks at most
 * {@link SWEEP_BATCH} of the blobs those documents name (the rest wait for the next pass). A
 * blob whose fetch may still be under way (not whole, admitted less than `STALE_MS` ago) is
 * looked at again later, as the budget leaves it (blobBudget.ts).
 */
import type { RoleOf } from '../doc/channelRights.js';
import type { SyncDocs } from '../mesh/syncDocs.js';
import { STALE_MS, type BlobLedger, type LedgerEntry } from './blobBudget.js';
import { carriesMarks, type BlobReferences } from './blobReferences.js';
import { namedByShownPost } from './shownPosts.js';

/** Milliseconds after the last update with marks before a pass runs. */
export const SWEEP_DELAY_MS = 2_000;
/** Blobs one pass checks at most. */
export const SWEEP_BATCH = 64;
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
	/** Told about a pass that failed (a store error). */
	onError?: (error: Error) => void;
	now?(): number;
}

/** See the module comment. */
export class BlobSweep {
	/** Documents whose marks changed since the last pass. */
	private readonly dirty = new Set<string>();
	/** Blobs still to check (past a pass's batch, or fetches that may be under way). */
	private readonly pending = new Set<string>();
	private timer: ReturnType<typeof setTimeout> | undefined;
	private due = Infinity;
	/** Passes one at a time. */
	private queue: Promise<void> = Promise.resolve();
	private stopped = false;
	private readonly unsubscribe: () => void;

	constructor(private readonly init: BlobSweepInit) {
		this.unsubscribe = init.docs.onLocalUpdate((docId, update) => {
			if (!carriesMarks(update)) return;
			this.dirty.add(docId);
			this.schedule(init.delayMs ?? SWEEP_DELAY_MS);
		});
	}

	/** Stops following updates; a pass under way finishes. */
	destroy(): void {
		this.stopped = true;
		this.unsubscribe();
		clearTimeout(this.timer);
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
		this.queue = this.queue.then(() => this.sweep()).catch(report);
		return this.queue;
	}

	private async sweep(): Promise<void> {
		const { ledger, references } = this.init;
		const docs = [...this.dirty];
		this.dirty.clear();
		const held = new Map<string, LedgerEntry>((await ledger.entries()).map((entry) => [entry.id, entry]));
		// Only what this device holds and did not send: its own files stay.
		const fetched = (blobId: string) => {
			const origin = held.get(blobId)?.origin;
			return origin !== undefined && origin !== 'sent';
		};
		for (const docId of docs) for (const blobId of (await references.of(docId)).keys()) if (fetched(blobId)) this.pending.add(blobId);
		const batch = [...this.pending].slice(0, SWEEP_BATCH);
		const later = new Set<string>();
		for (const blobId of batch) {
			if (this.stopped) return;
			this.pending.delete(blobId);
			const entry = held.get(blobId);
			if (entry === undefined || !fetched(blobId) || (await this.shown(blobId, docs))) continue;
			const whole = (await ledger.missing(blobId))?.length === 0;
			if (!whole && this.now() - entry.at < STALE_MS) {
				this.pending.add(blobId);
				later.add(blobId);
				continue;
			}
			await ledger.drop(blobId);
		}
		// Blobs past this batch soon; fetches that may be under way later.
		if (this.pending.size > later.size) this.schedule(this.init.delayMs ?? SWEEP_DELAY_MS);
		else if (later.size > 0) this.schedule(LATER_MS);
	}

	/**
	 * Whether a document of the workspace held here names blob `blobId` in a message that shows;
	 * `first` (the documents whose marks changed) is asked first: most of the blobs they name
	 * still show there, and the other documents are then not read.
	 */
	private async shown(blobId: string, first: readonly string[]): Promise<boolean> {
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
