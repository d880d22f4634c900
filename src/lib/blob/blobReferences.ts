/**
 * Which blobs a document references: the `files` of its well-formed messages (channel
 * documents: channels, threads, direct conversations) and of its questions (AI chats). A replica asks it before it serves a
 * blob (the fetcher names the document it read the reference in, and must be allowed to read
 * that document) and to know what to pin. Read through {@link SyncDocs} so the browser and the
 * relay answer alike: a document is read once, then kept up to date from its updates.
 */
import * as Y from 'yjs';
import type { AttachmentRef } from '../doc/schema.js';
import { isMessageRecord } from '../doc/validate.js';
import { isAiRecord } from '../doc/AiThreadDoc.js';
import { EMPTY_STATE_VECTOR, type SyncDocs } from '../mesh/syncDocs.js';

/** See the module comment. */
export class BlobReferences {
	/** Documents read: blob id → its first reference, kept up to date by the updates that follow. */
	private readonly known = new Map<string, Map<string, AttachmentRef>>();
	/** Documents being read, and the references of updates that came meanwhile. */
	private readonly reading = new Map<string, { done: Promise<Map<string, AttachmentRef> | undefined>; late: Map<string, AttachmentRef> }>();
	private readonly stop: () => void;

	constructor(private readonly docs: Pick<SyncDocs, 'diff' | 'onLocalUpdate'>) {
		// Messages are never removed (the write policy refuses it), so references only grow.
		this.stop = docs.onLocalUpdate((docId, update) => {
			const into = this.known.get(docId) ?? this.reading.get(docId)?.late;
			if (into !== undefined) for (const ref of referencesInUpdate(update)) if (!into.has(ref.blob)) into.set(ref.blob, ref);
		});
	}

	/** The blobs document `docId` references (blob id → its first reference); empty when this replica does not hold it. */
	async of(docId: string): Promise<ReadonlyMap<string, AttachmentRef>> {
		const known = this.known.get(docId);
		if (known !== undefined) return known;
		let reading = this.reading.get(docId);
		if (reading === undefined) {
			const late = new Map<string, AttachmentRef>();
			const done = this.read(docId).then((refs) => {
				if (refs !== undefined) {
					for (const [id, ref] of late) if (!refs.has(id)) refs.set(id, ref);
					this.known.set(docId, refs);
				}
				return refs;
			});
			reading = { done: done.finally(() => this.reading.delete(docId)), late };
			this.reading.set(docId, reading);
		}
		return (await reading.done) ?? new Map();
	}

	/** Whether document `docId` references blob `blobId`. */
	async has(docId: string, blobId: string): Promise<boolean> {
		return (await this.of(docId)).has(blobId);
	}

	/** Stops following updates. */
	destroy(): void {
		this.stop();
		this.known.clear();
	}

	private async read(docId: string): Promise<Map<string, AttachmentRef> | undefined> {
		const update = await this.docs.diff(docId, EMPTY_STATE_VECTOR);
		if (update === undefined) return undefined;
		const doc = new Y.Doc({ gc: false });
		try {
			Y.applyUpdate(doc, update);
			return referencesIn(doc);
		} catch {
			return new Map(); // not a channel document
		} finally {
			doc.destroy();
		}
	}
}

/** The blobs the well-formed messages of a channel document, or the questions of an AI chat, reference. */
export function referencesIn(doc: Y.Doc): Map<string, AttachmentRef> {
	const refs = new Map<string, AttachmentRef>();
	const add = (files: readonly AttachmentRef[] | undefined) => {
		for (const file of files ?? []) if (!refs.has(file.blob)) refs.set(file.blob, file);
	};
	for (const record of doc.getArray<unknown>('messages')) if (isMessageRecord(record)) add(record.files);
	for (const record of doc.getArray<unknown>('records')) if (isAiRecord(record)) add(record.files);
	return refs;
}

/**
 * The references of well-formed message records an update carries (any JSON record with
 * `files`: a record in another type of the document names nothing a member could not name in
 * a message). Never throws.
 */
export function referencesInUpdate(update: Uint8Array): AttachmentRef[] {
	const refs: AttachmentRef[] = [];
	// Asked for every update of every document a replica follows: most carry no `files` key, and
	// a byte scan for it costs far less than decoding the update's structs.
	if (!containsKey(update, FILES_KEY)) return refs;
	try {
		for (const struct of Y.decodeUpdate(update).structs) {
			if (!(struct instanceof Y.Item) || !(struct.content instanceof Y.ContentAny)) continue;
			for (const record of struct.content.getContent()) if ((isMessageRecord(record) || isAiRecord(record)) && record.files !== undefined) refs.push(...record.files);
		}
	} catch {
		// Not a v1 update this replica can read: it names nothing.
	}
	return refs;
}

/** The key `files` as a v1 update writes it in a record (lib0 varString: its length, then UTF-8). */
const FILES_KEY = new Uint8Array([5, ...new TextEncoder().encode('files')]);

/** Whether `bytes` holds `key` anywhere. */
function containsKey(bytes: Uint8Array, key: Uint8Array): boolean {
	const first = key[0]!;
	for (let i = bytes.indexOf(first); i !== -1 && i <= bytes.length - key.length; i = bytes.indexOf(first, i + 1)) {
		let j = 1;
		while (j < key.length && bytes[i + j] === key[j]) j++;
		if (j === key.length) return true;
	}
	return false;
}
