/**
 * Typed accessors over a channel document. Layout:
 *
 * - `messages`: Y.Array of immutable {@link MessageRecord}s (top-level messages and thread
 *   replies alike, in arrival order; views sort them by their clock);
 * - `edits`: Y.Array of signed {@link EditRecord}s, appended, never rewritten, so the whole
 *   history of a message is kept;
 * - `deletions`: Y.Map message id → {@link DeletionRecord} (soft delete);
 * - `reactions`: Y.Map with one key per (message, emoji, peer); present means "reacted";
 * - `answers`: Y.Map message id → Y.Map, the live part of a model's answer (a message with
 *   `model` set): its `text` (Y.Text, written as the model streams), `status`, `askedBy`,
 *   `stats`, `error`, `queuePosition` (answerFields.ts). The finished text is also recorded
 *   as the answering peer's signed edit, which is what views trust once it exists.
 */
import * as Y from 'yjs';
import { readPosition, readStats, readStatus, readText } from './answerFields.js';
import { AiStatus, type DeletionRecord, type EditRecord, type GenerationStats, type MessageRecord } from './schema.js';

/** The live part of a model's answer in a channel (see the module comment). */
export interface LiveAnswer {
	text: string;
	status: AiStatus;
	askedBy?: string;
	error?: string;
	stats?: GenerationStats;
	queuePosition?: number;
}

/** Separates the parts of a reaction key; never appears in ids or emoji. */
const SEP = '\n';

/** The map key of one peer's reaction to a message. */
export function reactionKey(msgId: string, emoji: string, peerId: string): string {
	return msgId + SEP + emoji + SEP + peerId;
}

/** Splits a reaction key, or undefined if it is malformed. */
export function parseReactionKey(key: string): { msgId: string; emoji: string; peerId: string } | undefined {
	const parts = key.split(SEP);
	if (parts.length !== 3 || parts.some((p) => p.length === 0 || p.length > 200)) return undefined;
	const [msgId, emoji, peerId] = parts as [string, string, string];
	return { msgId, emoji, peerId };
}

/** Accessors over a channel document. */
export class ChannelDoc {
	readonly messages: Y.Array<MessageRecord>;
	readonly edits: Y.Array<EditRecord>;
	readonly deletions: Y.Map<DeletionRecord>;
	readonly reactions: Y.Map<true>;
	readonly answers: Y.Map<Y.Map<unknown>>;

	constructor(readonly doc: Y.Doc) {
		this.messages = doc.getArray('messages');
		this.edits = doc.getArray('edits');
		this.deletions = doc.getMap('deletions');
		this.reactions = doc.getMap('reactions');
		this.answers = doc.getMap('answers');
	}

	/** Creates the live part of a model's answer (status `queued`, no text yet); returns it. */
	startAnswer(msgId: string, askedBy: string): Y.Map<unknown> {
		const entry = new Y.Map<unknown>();
		this.doc.transact(() => {
			this.answers.set(msgId, entry);
			entry.set('status', AiStatus.queued);
			entry.set('askedBy', askedBy);
			entry.set('text', new Y.Text());
		});
		return entry;
	}

	/** The live part of a model's answer, read defensively, or undefined. */
	answer(msgId: string): LiveAnswer | undefined {
		const entry = this.answers.get(msgId);
		if (!(entry instanceof Y.Map)) return undefined;
		const askedBy = entry.get('askedBy');
		const error = entry.get('error');
		const stats = readStats(entry.get('stats'));
		const queuePosition = readPosition(entry.get('queuePosition'));
		return {
			text: readText(entry),
			status: readStatus(entry.get('status'), AiStatus.streaming),
			...(typeof askedBy === 'string' ? { askedBy } : {}),
			...(typeof error === 'string' ? { error: error.slice(0, 500) } : {}),
			...(stats ? { stats } : {}),
			...(queuePosition !== undefined ? { queuePosition } : {})
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

	/** Soft-deletes a message. */
	softDelete(msgId: string, deletion: DeletionRecord): void {
		this.deletions.set(msgId, deletion);
	}

	/** Turns a peer's reaction on or off; returns true when it is now on. */
	toggleReaction(msgId: string, emoji: string, peerId: string): boolean {
		const key = reactionKey(msgId, emoji, peerId);
		if (this.reactions.has(key)) {
			this.reactions.delete(key);
			return false;
		}
		this.reactions.set(key, true);
		return true;
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
