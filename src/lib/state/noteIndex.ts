/**
 * Keeps a note's entry in the workspace index (title and `updatedAt`) current while the
 * note is open: every local change of the note document (typing, title, tags, snapshots)
 * schedules a touch, written at once for the first change and then at most once per
 * `intervalMs`, so typing does not write the root document on every keystroke. Changes
 * that arrive from peers are not touched here: their author's device already did.
 */
import type * as Y from 'yjs';
import type { NoteDoc } from '../doc/NoteDoc.js';
import type { WorkspaceDoc } from '../doc/WorkspaceDoc.js';

/** Options of a {@link NoteIndexer}. */
export interface NoteIndexerInit {
	noteId: string;
	note: NoteDoc;
	root: WorkspaceDoc;
	/** Origin of the root transaction (so the app treats it as a local change). */
	origin: unknown;
	/** Shortest time between two index writes, ms; default 2,000. */
	intervalMs?: number;
	now?: () => number;
}

/** See the module comment. */
export class NoteIndexer {
	private readonly intervalMs: number;
	private readonly now: () => number;
	private lastWrite = Number.NEGATIVE_INFINITY;
	private timer: ReturnType<typeof setTimeout> | undefined;
	private pending = false;

	constructor(private readonly init: NoteIndexerInit) {
		this.intervalMs = init.intervalMs ?? 2000;
		this.now = init.now ?? Date.now;
		init.note.doc.on('afterTransaction', this.onTransaction);
	}

	private readonly onTransaction = (tr: Y.Transaction): void => {
		if (!tr.local || tr.changed.size === 0) return;
		this.pending = true;
		const wait = this.lastWrite + this.intervalMs - this.now();
		if (wait <= 0) this.flush();
		else this.timer ??= setTimeout(() => this.flush(), wait);
	};

	/** Writes a pending touch now. */
	flush(): void {
		clearTimeout(this.timer);
		this.timer = undefined;
		if (!this.pending) return;
		this.pending = false;
		this.lastWrite = this.now();
		const { root, noteId, note, origin } = this.init;
		root.doc.transact(() => root.touchNote(noteId, { title: note.title, updatedAt: this.lastWrite }), origin);
	}

	/** Writes what is pending and stops watching. */
	dispose(): void {
		this.init.note.doc.off('afterTransaction', this.onTransaction);
		this.flush();
	}
}
