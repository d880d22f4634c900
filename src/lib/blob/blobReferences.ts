/**
 * Which blobs a document references: the `files` of its well-formed messages (channel
 * documents: channels, threads, direct conversations) and of its questions (AI chats). A replica asks it before it serves a
 * blob (the fetcher names the document it read the reference in, and must be allowed to read
 * that document) and to know what to pin. Read through {@link SyncDocs} so the browser and the
 * relay answer alike: a document is read once, then kept up to date from its updates. It also
 * keeps the messages that name each blob, and a channel's deletion and moderation marks, for
 * the rules that ask who posted a file and whether its message still shows (core/blobMesh.ts).
 */
import * as Y from 'yjs';
import { addDeletion, readDeletion, readModeration, type ReadDeletion } from '../doc/ChannelDoc.js';
import { compareHlc } from '../doc/hlc.js';
import { byNewest } from '../doc/newestFirst.js';
import type { AiRecord, AttachmentRef, MessageRecord, ModerationMark } from '../doc/schema.js';
import { isMessageRecord } from '../doc/validate.js';
import { isAiRecord } from '../doc/AiThreadDoc.js';
import { signedPost } from '../doc/channelRights.js';
import { EMPTY_STATE_VECTOR, type SyncDocs } from '../mesh/syncDocs.js';

/** Most post signatures {@link BlobReferences.sender} checks for one blob: forged posts cost a check each. */
const MAX_SENDER_CHECKS = 16;

/** A record that names files: a channel message, or an AI chat's question. */
type FileRecord = (MessageRecord | AiRecord) & { files: AttachmentRef[] };

/** What one document references: blob id → its first reference, the messages that name it, and the marks on messages. */
interface DocReferences {
	refs: Map<string, AttachmentRef>;
	posts: Map<string, MessageRecord[]>;
	/** Messages counted in `posts` (by id and signature), and moderation marks counted: one seen again (an update that came while the document was read) is not added twice. */
	seen: Set<string>;
	/** Deletion marks: message id → author → marks, newest first (ChannelDoc.ts `deletionIndex`). */
	deletions: Map<string, Map<string, ReadDeletion[]>>;
	/** Moderation marks by message id. */
	moderation: Map<string, ModerationMark[]>;
}

function emptyReferences(): DocReferences {
	return { refs: new Map(), posts: new Map(), seen: new Set(), deletions: new Map(), moderation: new Map() };
}

/** Adds a record's files to `into` (a message once, however often it is seen). */
function add(into: DocReferences, record: FileRecord): void {
	const message = isMessageRecord(record) && !into.seen.has(`${record.id}\n${record.sig}`);
	if (message) into.seen.add(`${record.id}\n${record.sig}`);
	for (const file of record.files) {
		if (!into.refs.has(file.blob)) into.refs.set(file.blob, file);
		if (!message) continue;
		let posts = into.posts.get(file.blob);
		if (posts === undefined) into.posts.set(file.blob, (posts = []));
		posts.push(record as MessageRecord);
	}
}

/** Adds a moderation mark to `into` (once). */
function addModeration(into: DocReferences, mark: ModerationMark | undefined): void {
	if (mark === undefined) return;
	const key = `mod\n${mark.msg}\n${mark.by}\n${mark.hlc}\n${mark.hidden}\n${mark.sig}`;
	if (into.seen.has(key)) return;
	into.seen.add(key);
	const list = into.moderation.get(mark.msg);
	if (list === undefined) into.moderation.set(mark.msg, [mark]);
	else list.push(mark);
}

/** Adds what an update of the document carries: records with files, deletion and moderation marks. Never throws. */
function addUpdate(into: DocReferences, update: Uint8Array): void {
	// Asked for every update of every document a replica follows: most carry none of these, and
	// a byte scan for their keys costs far less than decoding the update's structs.
	if (!containsKey(update, FILES_KEY) && !containsKey(update, DELETIONS_KEY) && !containsKey(update, MODERATION_KEY)) return;
	try {
		for (const struct of Y.decodeUpdate(update).structs) {
			if (!(struct instanceof Y.Item) || !(struct.content instanceof Y.ContentAny)) continue;
			const values = struct.content.getContent();
			// A decoded (not applied) item names its root type by name.
			const parent: unknown = struct.parent;
			if (parent === 'deletions' && struct.parentSub !== null) addDeletion(into.deletions, readDeletion(struct.parentSub, values[0]));
			else if (parent === 'moderation' && struct.parentSub !== null) addModeration(into, readModeration(struct.parentSub, values[0]));
			else for (const record of values) if (isFileRecord(record)) add(into, record);
		}
	} catch {
		// Not a v1 update this replica can read: it adds nothing.
	}
}

function isFileRecord(record: unknown): record is FileRecord {
	return (isMessageRecord(record) || isAiRecord(record)) && record.files !== undefined;
}

/** See the module comment. */
export class BlobReferences {
	/** Documents read: what they reference, kept up to date by the updates that follow. */
	private readonly known = new Map<string, DocReferences>();
	/** Documents being read, and the updates that came meanwhile. */
	private readonly reading = new Map<string, { done: Promise<DocReferences | undefined>; late: Uint8Array[] }>();
	private readonly stop: () => void;

	constructor(private readonly docs: Pick<SyncDocs, 'diff' | 'onLocalUpdate'>) {
		// Messages and marks are never removed (the write policy refuses it), so what is kept only grows.
		this.stop = docs.onLocalUpdate((docId, update) => {
			const known = this.known.get(docId);
			if (known !== undefined) addUpdate(known, update);
			else this.reading.get(docId)?.late.push(update);
		});
	}

	/** The blobs document `docId` references (blob id → its first reference); empty when this replica does not hold it. */
	async of(docId: string): Promise<ReadonlyMap<string, AttachmentRef>> {
		return (await this.read(docId))?.refs ?? new Map();
	}

	/** Whether document `docId` references blob `blobId`. */
	async has(docId: string, blobId: string): Promise<boolean> {
		return (await this.of(docId)).has(blobId);
	}

	/** The well-formed messages of document `docId` that name blob `blobId` (their signatures unchecked). */
	async posts(docId: string, blobId: string): Promise<readonly MessageRecord[]> {
		return (await this.read(docId))?.posts.get(blobId) ?? [];
	}

	/**
	 * Who posted blob `blobId` in document `docId`: the author of the first message naming it
	 * whose signature checks out (of the first {@link MAX_SENDER_CHECKS}), else undefined. A
	 * device's blob budget charges an automatic fetch to this member's share (blobBudget.ts).
	 * Found in review: the first post's claimed author was taken unchecked, so a member put
	 * unsigned posts naming her files under other members' names before her own signed ones,
	 * took every member's share of each device's budget and dropped their files to make room.
	 * `personOf` names the member a device is (the team's); the share is the member's, not each
	 * of its devices' (a member adds devices of her own at will, 32 of them: 32 shares).
	 */
	async sender(docId: string, blobId: string, personOf?: (device: string) => string | undefined): Promise<string | undefined> {
		for (const post of (await this.posts(docId, blobId)).slice(0, MAX_SENDER_CHECKS)) {
			if (signedPost(post, docId)) return personOf?.(post.author) ?? post.author;
		}
		return undefined;
	}

	/**
	 * The marks on message `msgId` of channel document `docId`: its `author`'s deletion marks and
	 * everyone's moderation marks, each newest first (signatures unchecked: channelRights.ts checks).
	 */
	async marks(docId: string, msgId: string, author: string): Promise<{ deletions: readonly ReadDeletion[]; moderation: readonly ModerationMark[] }> {
		const refs = await this.read(docId);
		const moderation = [...(refs?.moderation.get(msgId) ?? [])].sort((a, b) => byNewest(a.hlc, a.sig, b.hlc, b.sig));
		return { deletions: refs?.deletions.get(msgId)?.get(author) ?? [], moderation };
	}

	/** Stops following updates. */
	destroy(): void {
		this.stop();
		this.known.clear();
	}

	/** What document `docId` references, read once; undefined when this replica does not hold it. */
	private async read(docId: string): Promise<DocReferences | undefined> {
		const known = this.known.get(docId);
		if (known !== undefined) return known;
		let reading = this.reading.get(docId);
		if (reading === undefined) {
			const late: Uint8Array[] = [];
			const done = this.readNow(docId).then((refs) => {
				if (refs !== undefined) {
					for (const update of late) addUpdate(refs, update);
					this.known.set(docId, refs);
				}
				return refs;
			});
			reading = { done: done.finally(() => this.reading.delete(docId)), late };
			this.reading.set(docId, reading);
		}
		return reading.done;
	}

	private async readNow(docId: string): Promise<DocReferences | undefined> {
		const update = await this.docs.diff(docId, EMPTY_STATE_VECTOR);
		if (update === undefined) return undefined;
		const doc = new Y.Doc({ gc: false });
		const out = emptyReferences();
		try {
			Y.applyUpdate(doc, update);
			for (const record of fileRecords(doc)) add(out, record);
			doc.getMap<unknown>('deletions').forEach((value, key) => addDeletion(out.deletions, readDeletion(key, value)));
			doc.getMap<unknown>('moderation').forEach((value, key) => addModeration(out, readModeration(key, value)));
		} catch {
			// Not a channel document (or not one of its parts): what was read so far.
		} finally {
			doc.destroy();
		}
		return out;
	}
}

/** The well-formed records of a channel document or an AI chat that name files. */
function fileRecords(doc: Y.Doc): FileRecord[] {
	const out: FileRecord[] = [];
	for (const record of doc.getArray<unknown>('messages')) if (isMessageRecord(record) && record.files !== undefined) out.push(record as FileRecord);
	for (const record of doc.getArray<unknown>('records')) if (isAiRecord(record) && record.files !== undefined) out.push(record as FileRecord);
	return out;
}

/** The blobs the well-formed messages of a channel document, or the questions of an AI chat, reference. */
export function referencesIn(doc: Y.Doc): Map<string, AttachmentRef> {
	const out = emptyReferences();
	for (const record of fileRecords(doc)) add(out, record);
	return out.refs;
}

/**
 * The references of well-formed message records an update carries (any JSON record with
 * `files`: a record in another type of the document names nothing a member could not name in
 * a message). Never throws.
 */
export function referencesInUpdate(update: Uint8Array): AttachmentRef[] {
	const refs: AttachmentRef[] = [];
	if (!containsKey(update, FILES_KEY)) return refs;
	try {
		for (const struct of Y.decodeUpdate(update).structs) {
			if (!(struct instanceof Y.Item) || !(struct.content instanceof Y.ContentAny)) continue;
			for (const record of struct.content.getContent()) if (isFileRecord(record)) refs.push(...record.files);
		}
	} catch {
		// Not a v1 update this replica can read: it names nothing.
	}
	return refs;
}

/** A key as a v1 update writes it (lib0 varString: its length, then UTF-8): a record's `files`, a root map's name. */
function keyBytes(key: string): Uint8Array {
	const utf8 = new TextEncoder().encode(key);
	return new Uint8Array([utf8.length, ...utf8]);
}

const FILES_KEY = keyBytes('files');
const DELETIONS_KEY = keyBytes('deletions');
const MODERATION_KEY = keyBytes('moderation');

/** Whether an update may carry deletion or moderation marks (a byte scan for their maps' names; it decodes nothing). */
export function carriesMarks(update: Uint8Array): boolean {
	return containsKey(update, DELETIONS_KEY) || containsKey(update, MODERATION_KEY);
}

/**
 * The messages that the well-formed deletion and moderation marks of an update name, each with
 * whether one of those marks shows it again (an author's restoring mark, a moderator's unhide,
 * whoever signed it: the sweep asks whether the message shows). Empty for an update with none:
 * it is decoded only when {@link carriesMarks} finds their maps' names, which a message's text
 * can hold too. Never throws.
 */
export function markedMessages(update: Uint8Array): Map<string, boolean> {
	const out = new Map<string, boolean>();
	if (!carriesMarks(update)) return out;
	const add = (msg: string, hides: boolean) => out.set(msg, (out.get(msg) ?? false) || !hides);
	try {
		for (const struct of Y.decodeUpdate(update).structs) {
			if (!(struct instanceof Y.Item) || !(struct.content instanceof Y.ContentAny) || struct.parentSub === null) continue;
			// A decoded (not applied) item names its root type by name.
			const parent: unknown = struct.parent;
			const value: unknown = struct.content.getContent()[0];
			if (parent === 'deletions') {
				const mark = readDeletion(struct.parentSub, value)?.mark;
				if (mark !== undefined) add(mark.msg, mark.deleted);
			} else if (parent === 'moderation') {
				const mark = readModeration(struct.parentSub, value);
				if (mark !== undefined) add(mark.msg, mark.hidden);
			}
		}
	} catch {
		// Not a v1 update this replica can read: it marks nothing.
	}
	return out;
}

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
