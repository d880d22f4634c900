/**
 * Typed accessors over a note document: a Markdown body in a Y.Text (edited together in
 * CodeMirror through y-codemirror.next), a title, tags, and named snapshots of the body.
 *
 * Snapshots are copies of the body's text, kept in the note document itself (a Y.Array of
 * immutable records), so they sync with the note and every member sees the same history.
 * Yjs snapshots (`Y.snapshot` + `Y.createDocFromSnapshot`) were the other candidate: they
 * are tiny, but they only work while every copy of the document keeps deleted content
 * (`gc: false`). Note documents are also opened by the mesh's sync, the relay's archive,
 * search and export with the default `gc: true`, and a copy that garbage-collected once
 * hands the collected content to everyone it syncs with, after which old snapshots cannot
 * be rebuilt anywhere. A text copy costs the size of the note per snapshot and cannot be
 * broken by any peer. Restoring writes the old text as a new, minimal change (common
 * prefix and suffix kept), so it syncs like any edit and can itself be undone.
 */
import * as Y from 'yjs';

/** Longest note title kept. */
export const MAX_NOTE_TITLE = 200;
/** Longest tag. */
export const MAX_TAG_LENGTH = 40;
/** Most tags on one note. */
export const MAX_TAGS = 30;
/** Longest snapshot name. */
export const MAX_SNAPSHOT_NAME = 80;

/** Thrown for an empty tag or snapshot name. */
export class EmptyNameError extends Error {
	override name = 'EmptyNameError';
}
/** Thrown for a tag or snapshot name over its length limit. */
export class NameTooLongError extends Error {
	override name = 'NameTooLongError';
}
/** Thrown when a tag is added twice. */
export class DuplicateTagError extends Error {
	override name = 'DuplicateTagError';
}
/** Thrown when a note already has {@link MAX_TAGS} tags. */
export class TooManyTagsError extends Error {
	override name = 'TooManyTagsError';
}
/** Thrown when a snapshot to restore does not exist. */
export class UnknownSnapshotError extends Error {
	override name = 'UnknownSnapshotError';
}

/** A named copy of the body at one moment. */
export interface NoteSnapshot {
	id: string;
	name: string;
	/** Wall-clock time it was taken, ms. */
	at: number;
	/** Peer id of the device that took it: a claim until {@link sig} backs it (snapshotSignature.ts). */
	by: string;
	text: string;
	/** `by`'s signature over the snapshot in its note (snapshotSignature.ts); absent in snapshots saved before signing. */
	sig?: string;
}

/** Fields of a new snapshot (the text is read from the body, the signature made over both). */
export type NewSnapshot = Omit<NoteSnapshot, 'text' | 'sig'>;

/** Each stored record read once, as one object (snapshotSignature.ts verifies each object once). */
const read = new WeakMap<object, NoteSnapshot | undefined>();

function readSnapshot(value: unknown): NoteSnapshot | undefined {
	if (typeof value !== 'object' || value === null) return undefined;
	if (read.has(value)) return read.get(value);
	const { id, name, at, by, text, sig } = value as Record<string, unknown>;
	const snapshot = typeof id !== 'string' || typeof name !== 'string' || typeof text !== 'string'
		? undefined
		: { id, name, at: typeof at === 'number' && Number.isFinite(at) ? at : 0, by: typeof by === 'string' ? by : '', text, ...(typeof sig === 'string' ? { sig } : {}) };
	read.set(value, snapshot);
	return snapshot;
}

/** Trims a tag and checks it; throws {@link EmptyNameError} or {@link NameTooLongError}. */
export function cleanTag(tag: string): string {
	const clean = tag.trim().replace(/^#/, '').trim();
	if (!clean) throw new EmptyNameError('tag is empty');
	if (clean.length > MAX_TAG_LENGTH) throw new NameTooLongError(`tag is longer than ${MAX_TAG_LENGTH}`);
	return clean;
}

/**
 * Replaces the content of `text` with `next` as one minimal change: the common prefix and
 * suffix stay (so remote cursors and concurrent edits elsewhere survive). Call inside a
 * transaction when it should carry an origin.
 */
export function replaceText(text: Y.Text, next: string): void {
	const current = text.toString();
	if (current === next) return;
	let start = 0;
	const max = Math.min(current.length, next.length);
	while (start < max && current[start] === next[start]) start++;
	let end = 0;
	while (end < max - start && current[current.length - 1 - end] === next[next.length - 1 - end]) end++;
	const removed = current.length - start - end;
	if (removed > 0) text.delete(start, removed);
	const inserted = next.slice(start, next.length - end);
	if (inserted) text.insert(start, inserted);
}

/** Accessors over a note document. */
export class NoteDoc {
	readonly body: Y.Text;
	readonly meta: Y.Map<unknown>;
	readonly tags: Y.Array<string>;
	readonly snapshots: Y.Array<NoteSnapshot>;

	constructor(readonly doc: Y.Doc) {
		this.body = doc.getText('body');
		this.meta = doc.getMap('meta');
		this.tags = doc.getArray('tags');
		this.snapshots = doc.getArray('snapshots');
	}

	get title(): string {
		const v = this.meta.get('title');
		return typeof v === 'string' ? v : '';
	}
	/** Sets the title (trimmed of line breaks, cut to {@link MAX_NOTE_TITLE}). */
	set title(value: string) {
		const clean = value.replace(/[\r\n]+/g, ' ').slice(0, MAX_NOTE_TITLE);
		if (clean !== this.title) this.meta.set('title', clean);
	}

	/** Tags without duplicates, in first-added order. */
	tagList(): string[] {
		return [...new Set(this.tags.toArray().filter((t) => typeof t === 'string'))];
	}

	/** Adds a tag (a leading `#` is dropped); throws for an empty, too long, duplicate or extra tag. */
	addTag(tag: string): string {
		const clean = cleanTag(tag);
		const list = this.tagList();
		if (list.some((t) => t.toLowerCase() === clean.toLowerCase())) throw new DuplicateTagError(`tag "${clean}" is already there`);
		if (list.length >= MAX_TAGS) throw new TooManyTagsError(`a note has at most ${MAX_TAGS} tags`);
		this.tags.push([clean]);
		return clean;
	}

	/** Removes every copy of a tag (two peers may have added it at once). */
	removeTag(tag: string): void {
		this.doc.transact(() => {
			const all = this.tags.toArray();
			for (let i = all.length - 1; i >= 0; i--) if (all[i] === tag) this.tags.delete(i, 1);
		});
	}

	/** Named snapshots, oldest first. */
	listSnapshots(): NoteSnapshot[] {
		const out: NoteSnapshot[] = [];
		for (const value of this.snapshots.toArray()) {
			const s = readSnapshot(value);
			if (s) out.push(s);
		}
		return out.sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : 1));
	}

	/** One snapshot by id. */
	snapshot(id: string): NoteSnapshot | undefined {
		return this.listSnapshots().find((s) => s.id === id);
	}

	/**
	 * Saves the body's current text under a name, signed by `sign` when given (NoteState signs
	 * with this device's key: snapshotSignature.ts); throws for an empty or too long name.
	 */
	saveSnapshot(init: NewSnapshot, sign?: (snapshot: Omit<NoteSnapshot, 'sig'>) => string): NoteSnapshot {
		const name = init.name.trim();
		if (!name) throw new EmptyNameError('snapshot name is empty');
		if (name.length > MAX_SNAPSHOT_NAME) throw new NameTooLongError(`snapshot name is longer than ${MAX_SNAPSHOT_NAME}`);
		const unsigned: Omit<NoteSnapshot, 'sig'> = { id: init.id, name, at: init.at, by: init.by, text: this.body.toString() };
		const snapshot: NoteSnapshot = sign === undefined ? unsigned : { ...unsigned, sig: sign(unsigned) };
		this.snapshots.push([snapshot]);
		return snapshot;
	}

	/** Sets the body to a snapshot's text (a new change); throws {@link UnknownSnapshotError}. */
	restoreSnapshot(id: string): void {
		const snapshot = this.snapshot(id);
		if (!snapshot) throw new UnknownSnapshotError(`no snapshot ${id}`);
		replaceText(this.body, snapshot.text);
	}
}
