/**
 * Typed accessors over a channel document. Layout:
 *
 * - `messages`: Y.Array of immutable {@link MessageRecord}s (top-level messages and thread
 *   replies alike, in arrival order; views sort them by their clock);
 * - `edits`: Y.Array of signed {@link EditRecord}s, appended, never rewritten, so the whole
 *   history of a message is kept;
 * - `deletions`: Y.Map of signed {@link DeletionMark}s, one key per mark (message, author,
 *   clock): the author's newest mark says whether the message is hidden (soft delete) or shown
 *   again; entries made before marks (a {@link DeletionRecord} under the message id) count as
 *   a mark that hides;
 * - `reactions`: Y.Map of signed {@link ReactionMark}s, one key per mark (message, emoji, peer,
 *   clock): each peer's newest mark per emoji says whether it reacted (unsigned entries from
 *   before marks are ignored);
 * - `moderation`: Y.Map of signed {@link ModerationMark}s, one key per mark (message, admin,
 *   clock): the newest mark by a current admin or owner hides the message or shows it again;
 * - `answers`: Y.Map message id → Y.Map, the live part of a model's answer (a message with
 *   `model` set): its `text` (Y.Text, written as the model streams), `status`,
 *   `stats`, `error`, `queuePosition` (answerFields.ts), and `steps`, the tool calls the
 *   model made (aiSteps.ts; written by the asker's device, which runs the tool loop). The finished text is also recorded
 *   as the answering peer's signed edit, which is what views trust once it exists.
 *
 * Nothing in `messages`, `edits`, `deletions`, `reactions` or `moderation` is ever removed or overwritten:
 * every replica refuses updates that would (channelPolicy.ts).
 */
import * as Y from 'yjs';
import { readPosition, readStats, readStatus, readText } from './answerFields.js';
import { readSteps } from './aiSteps.js';
import { fitsKey, keyNames, markKey } from './markKey.js';
import { addNewestFirst } from './newestFirst.js';
import { AiStatus, type DeletionMark, type EditRecord, type GenerationStats, type MessageRecord, type ModerationMark, type ReactionMark, type ToolStep } from './schema.js';
import { isDeletionMark, isDeletionRecord, isModerationMark, isReactionMark } from './validate.js';

/** The live part of a model's answer in a channel (see the module comment). */
export interface LiveAnswer {
	text: string;
	status: AiStatus;
	error?: string;
	stats?: GenerationStats;
	queuePosition?: number;
	/** The tools the model used, as the asker's device wrote them (aiSteps.ts). */
	steps?: ToolStep[];
	/** Its host signed more than one ending of it: the earliest shows (answerEnds.ts). */
	equivocated?: true;
}

/** Separates the parts of a mark's key (markKey.ts); a deletion entry from before marks has none. */
const SEP = '\n';

/** The map key of a deletion mark. */
export function deletionKey(mark: Pick<DeletionMark, 'msg' | 'by' | 'hlc' | 'deleted' | 'sig'>): string {
	return markKey([mark.msg, mark.by, mark.hlc], [String(mark.deleted)], mark.sig);
}

/** The map key of a reaction mark. */
export function reactionKey(mark: Pick<ReactionMark, 'msg' | 'emoji' | 'by' | 'hlc' | 'on' | 'sig'>): string {
	return markKey([mark.msg, mark.emoji, mark.by, mark.hlc], [String(mark.on)], mark.sig);
}

/** The map key of a moderation mark. */
export function moderationKey(mark: Pick<ModerationMark, 'msg' | 'by' | 'hlc' | 'hidden' | 'sig'>): string {
	return markKey([mark.msg, mark.by, mark.hlc], [String(mark.hidden)], mark.sig);
}

/** The moderation mark stored under `key`, or undefined when malformed or under another key. */
export function readModeration(key: string, value: unknown): ModerationMark | undefined {
	return isModerationMark(value) && keyNames(key, [value.msg, value.by, value.hlc], [String(value.hidden)], value.sig) ? value : undefined;
}

/** A deletion mark as read from the map; `legacy` when it was stored before marks (signed over the message id). */
export interface ReadDeletion {
	mark: DeletionMark;
	legacy: boolean;
}

/** The deletion mark stored under `key`, or undefined when the entry is malformed or its key does not name it. */
export function readDeletion(key: string, value: unknown): ReadDeletion | undefined {
	if (!key.includes(SEP)) {
		if (!isDeletionRecord(value)) return undefined;
		return { mark: { msg: key, by: value.by, hlc: value.hlc, deleted: true, sig: value.sig }, legacy: true };
	}
	return isDeletionMark(value) && keyNames(key, [value.msg, value.by, value.hlc], [String(value.deleted)], value.sig) ? { mark: value, legacy: false } : undefined;
}

/** The reaction mark stored under `key`, or undefined when malformed (or an unsigned entry from before marks). */
export function readReaction(key: string, value: unknown): ReactionMark | undefined {
	return isReactionMark(value) && keyNames(key, [value.msg, value.emoji, value.by, value.hlc], [String(value.on)], value.sig) ? value : undefined;
}

/** The write policy's check of each new entry of a channel's maps of marks (markKey.ts `fitsKey`). */
export const CHANNEL_MARK_ENTRIES: Record<string, (key: string, value: unknown) => boolean> = {
	deletions: (key, value) => fitsKey(key, 5, value, (v) => (isDeletionMark(v) ? deletionKey(v) : undefined)),
	reactions: (key, value) => fitsKey(key, 6, value, (v) => (isReactionMark(v) ? reactionKey(v) : undefined)),
	moderation: (key, value) => fitsKey(key, 5, value, (v) => (isModerationMark(v) ? moderationKey(v) : undefined))
};

/**
 * Every message's deletion marks by author, newest first, in one pass over the (sparse) map:
 * message id → author → marks.
 */
export function deletionIndex(channel: ChannelDoc): Map<string, Map<string, ReadDeletion[]>> {
	const index = new Map<string, Map<string, ReadDeletion[]>>();
	channel.deletions.forEach((value, key) => addDeletion(index, readDeletion(key, value)));
	return index;
}

/** Adds a mark to a {@link deletionIndex}, keeping each list newest first. */
export function addDeletion(index: Map<string, Map<string, ReadDeletion[]>>, read: ReadDeletion | undefined): void {
	if (read === undefined) return;
	let byAuthor = index.get(read.mark.msg);
	if (!byAuthor) index.set(read.mark.msg, (byAuthor = new Map()));
	const list = byAuthor.get(read.mark.by) ?? [];
	// Only the very same mark is a duplicate: two with one clock both stay, and the signature
	// check picks (found in review: deduplicated by clock alone, a forged legacy entry with the
	// clock of its author's genuine restore shadowed it and hid the message again).
	addNewestFirst(list, read, (r) => r.mark.hlc, (r) => `${r.mark.sig}\n${r.legacy}`, `${read.legacy}\n${read.mark.hlc}\n${read.mark.deleted}\n${read.mark.sig}`);
	byAuthor.set(read.mark.by, list);
}

/** Whether the newest mark of `author` in a {@link deletionIndex} hides message `msgId` (signatures not checked). */
export function isDeletedIn(index: Map<string, Map<string, ReadDeletion[]>>, msgId: string, author: string): boolean {
	return index.get(msgId)?.get(author)?.[0]?.mark.deleted === true;
}

/** What a private space's document says of itself (the team says who is in it). */
export interface SpaceInfo {
	name: string;
	topic: string;
}

/** Accessors over a channel document. */
export class ChannelDoc {
	readonly messages: Y.Array<MessageRecord>;
	readonly edits: Y.Array<EditRecord>;
	/** Deletion marks (and entries from before marks); read with {@link readDeletion}. */
	readonly deletions: Y.Map<unknown>;
	/** Reaction marks; read with {@link readReaction}. */
	readonly reactions: Y.Map<unknown>;
	/** Moderation marks; read with {@link readModeration}. */
	readonly moderation: Y.Map<unknown>;
	readonly answers: Y.Map<Y.Map<unknown>>;
	/** A private space's name and topic (its members alone hold the document). */
	readonly space: Y.Map<unknown>;

	/**
	 * The document's id, which records signed in it name (signature.ts `boundTo`): its Yjs guid,
	 * which every store and working copy sets to the id (DocStore, ArchiveDocs, targetDoc.ts).
	 */
	get id(): string {
		return this.doc.guid;
	}

	constructor(readonly doc: Y.Doc) {
		this.space = doc.getMap('space');
		this.messages = doc.getArray('messages');
		this.edits = doc.getArray('edits');
		this.deletions = doc.getMap('deletions');
		this.reactions = doc.getMap('reactions');
		this.answers = doc.getMap('answers');
		this.moderation = doc.getMap('moderation');
	}

	/** Sets a new private space's name and topic (once: the write policy keeps the first). */
	setSpaceInfo(info: SpaceInfo): void {
		this.doc.transact(() => {
			for (const [key, value] of Object.entries(info)) if (!this.space.has(key)) this.space.set(key, value);
		});
	}

	/** A private space's name and topic, once its document has arrived. */
	spaceInfo(): SpaceInfo | undefined {
		const name = this.space.get('name');
		if (typeof name !== 'string') return undefined;
		const topic = this.space.get('topic');
		return { name: name.slice(0, 80), topic: typeof topic === 'string' ? topic.slice(0, 250) : '' };
	}

	/** Creates the live part of a model's answer (status `queued`, no text yet); returns it. */
	startAnswer(msgId: string): Y.Map<unknown> {
		const entry = new Y.Map<unknown>();
		this.doc.transact(() => {
			this.answers.set(msgId, entry);
			entry.set('status', AiStatus.queued);
			entry.set('text', new Y.Text());
		});
		return entry;
	}

	/** The live part of a model's answer, read defensively, or undefined. */
	answer(msgId: string): LiveAnswer | undefined {
		const entry = this.answers.get(msgId);
		if (!(entry instanceof Y.Map)) return undefined;
		const error = entry.get('error');
		const stats = readStats(entry.get('stats'));
		const queuePosition = readPosition(entry.get('queuePosition'));
		const steps = readSteps(entry.get('steps'));
		return {
			text: readText(entry),
			status: readStatus(entry.get('status'), AiStatus.streaming),
			...(typeof error === 'string' ? { error: error.slice(0, 500) } : {}),
			...(stats ? { stats } : {}),
			...(queuePosition !== undefined ? { queuePosition } : {}),
			...(steps !== undefined ? { steps } : {})
		};
	}

	/** Appends a signed message or reply. */
	post(record: MessageRecord): void {
		// insert at the end, not push: Yjs 13.6's push walks the whole list first.
		this.messages.insert(this.messages.length, [record]);
	}

	/** Appends many records in one transaction (imports, benchmarks). */
	postMany(records: MessageRecord[]): void {
		this.messages.insert(this.messages.length, records);
	}

	/** Records a signed edit. */
	edit(record: EditRecord): void {
		this.edits.insert(this.edits.length, [record]);
	}

	/** Records a signed deletion mark (hiding or showing a message again). */
	markDeletion(mark: DeletionMark): void {
		this.deletions.set(deletionKey(mark), mark);
	}

	/** Records a signed moderation mark. */
	markModeration(mark: ModerationMark): void {
		this.moderation.set(moderationKey(mark), mark);
	}

	/** Records a signed reaction mark. */
	markReaction(mark: ReactionMark): void {
		this.reactions.set(reactionKey(mark), mark);
	}
}

/**
 * The records of a Y.Array that are not covered by a state vector, i.e. that arrived after
 * the vector was taken. Walks the array's items (Yjs internals, stable across Yjs 13), which
 * costs far less than encoding and decoding the difference as an update.
 */
export function recordsSince<T>(array: Y.Array<T>, sv: Map<number, number>): T[] {
	const out: T[] = [];
	for (let item = array._start; item !== null; item = item.right) {
		if (item.deleted || !item.countable) continue;
		const known = sv.get(item.id.client) ?? 0;
		const end = item.id.clock + item.length;
		if (end <= known) continue;
		const content = item.content.getContent() as T[];
		for (let i = Math.max(0, known - item.id.clock); i < content.length; i++) out.push(content[i]!);
	}
	return out;
}
