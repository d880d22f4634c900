/**
 * Runes state of one open note: its document (a {@link NoteDoc}, synced like every other
 * document), the user's actions on it (title, tags, snapshots) and where the editor should
 * put the cursor when it opens (a search hit, a link). While open, the note's entry in the
 * workspace index follows its edits (noteIndex.ts).
 */
import { bindWriter } from './noteBinding.js';
import * as Y from 'yjs';
import { NoteDoc, type NoteSnapshot } from '../doc/NoteDoc.js';
import { newId } from '../doc/ids.js';
import { noteToMarkdown } from '../doc/noteMarkdown.js';
import type { WorkspaceDoc } from '../doc/WorkspaceDoc.js';
import type { Services } from '../app.js';
import type { DocHandle } from '../store/DocStore.js';
import { LOCAL_ORIGIN } from './ChannelState.svelte.js';
import { NoteIndexer } from './noteIndex.js';
import { signSnapshotNow, snapshotSavers } from '../doc/snapshotSignature.js';

/**
 * A snapshot as the history shows it: `savedBy` is the device that saved it when its signature
 * and the team say so (snapshotSignature.ts), undefined when nobody can tell (saved before
 * snapshots were signed, the claim does not check out, or older than the newest
 * `MAX_CONFIRMED_SNAPSHOTS`, which alone are checked); `by` is only what the record says.
 */
export interface ShownSnapshot extends NoteSnapshot {
	savedBy: string | undefined;
}

/** State of one open note. */
export class NoteState {
	/** Bumps on every document change. */
	version = $state(0);
	/** A body offset the editor should select and scroll to once, then clear. */
	focusOffset = $state<number | undefined>();

	readonly note: NoteDoc;
	/**
	 * Undo and redo of this device's changes to the body: the editor's typing (y-codemirror
	 * adds its origin) and restored snapshots, each its own step.
	 */
	readonly undoManager: Y.UndoManager;
	private readonly indexer: NoteIndexer;
	private readonly onChange = () => this.version++;
	/** Stops binding this device's edits (noteBinding.ts). */
	private readonly unbind: () => void;

	private constructor(
		private readonly services: Services,
		readonly id: string,
		private readonly handle: DocHandle,
		root: WorkspaceDoc,
		private readonly noteWriters: () => ReadonlySet<string>
	) {
		this.note = new NoteDoc(handle.doc);
		this.unbind = bindWriter(handle.doc, id, services.identity.privateKey, services.identity.peerId);
		this.undoManager = new Y.UndoManager(this.note.body, { trackedOrigins: new Set([LOCAL_ORIGIN]) });
		this.indexer = new NoteIndexer({ noteId: id, note: this.note, root, origin: LOCAL_ORIGIN });
	}

	/**
	 * Opens (and loads) a note document; `root` is the workspace whose index lists it, and
	 * `noteWriters` the team's devices that write notes (`Team.noteWriters`: who may have saved a snapshot).
	 */
	static async open(services: Services, root: WorkspaceDoc, id: string, noteWriters: () => ReadonlySet<string>, offset?: number): Promise<NoteState> {
		const handle = services.docs.open(id);
		await handle.ready;
		const state = new NoteState(services, id, handle, root, noteWriters);
		handle.doc.on('update', state.onChange);
		state.focusOffset = offset;
		return state;
	}

	get title(): string {
		void this.version;
		return this.note.title;
	}

	get tags(): string[] {
		void this.version;
		return this.note.tagList();
	}

	/** Snapshots, oldest first, each with who saved it as far as that can be checked. */
	get snapshots(): ShownSnapshot[] {
		void this.version;
		const listed = this.note.listSnapshots();
		// Only the newest are checked (each check costs a millisecond: snapshotSignature.ts).
		const savers = snapshotSavers(this.id, listed, this.noteWriters());
		return listed.map((s, i) => ({ ...s, savedBy: savers[i] }));
	}

	/** The Markdown body now (for the preview). */
	get body(): string {
		void this.version;
		return this.note.body.toString();
	}

	setTitle(title: string): void {
		this.handle.doc.transact(() => (this.note.title = title), LOCAL_ORIGIN);
	}

	/** Adds a tag; throws the NoteDoc errors for bad input (nothing changes then). */
	addTag(tag: string): void {
		this.handle.doc.transact(() => this.note.addTag(tag), LOCAL_ORIGIN);
	}

	removeTag(tag: string): void {
		this.handle.doc.transact(() => this.note.removeTag(tag), LOCAL_ORIGIN);
	}

	/** Saves a named snapshot of the body, signed by this device; throws the NoteDoc errors for a bad name. */
	saveSnapshot(name: string): NoteSnapshot {
		let saved: NoteSnapshot | undefined;
		const { privateKey, peerId } = this.services.identity;
		this.handle.doc.transact(() => {
			saved = this.note.saveSnapshot({ id: newId(), name, at: Date.now(), by: peerId }, (s) => signSnapshotNow(privateKey, this.id, s));
		}, LOCAL_ORIGIN);
		return saved!;
	}

	/** Sets the body to a snapshot's text, as a new change. */
	restoreSnapshot(id: string): void {
		this.undoManager.stopCapturing();
		this.handle.doc.transact(() => this.note.restoreSnapshot(id), LOCAL_ORIGIN);
		this.undoManager.stopCapturing();
	}

	/** The note as a Markdown file's text. */
	toMarkdown(): string {
		return noteToMarkdown(this.note.title, this.note.body.toString(), this.note.tagList());
	}

	async close(): Promise<void> {
		this.indexer.dispose();
		this.undoManager.destroy();
		this.handle.doc.off('update', this.onChange);
		this.unbind();
		this.services.docs.release(this.handle);
	}
}
