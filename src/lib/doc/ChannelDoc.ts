/**
 * Typed accessors over a channel document. Layout:
 *
 * - `messages`: Y.Array of immutable {@link MessageRecord}s (top-level messages and thread
 *   replies alike, in arrival order; views sort them by their clock);
 * - `edits`: Y.Array of signed {@link EditRecord}s, appended, never rewritten, so the whole
 *   history of a message is kept;
 * - `deletions`: Y.Map message id → {@link DeletionRecord} (soft delete);
 * - `reactions`: Y.Map with one key per (message, emoji, peer); present means "reacted".
 */
import * as Y from 'yjs';
import type { DeletionRecord, EditRecord, MessageRecord } from './schema.js';

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
	return { msgId: parts[0], emoji: parts[1], peerId: parts[2] };
}

/** Accessors over a channel document. */
export class ChannelDoc {
	readonly messages: Y.Array<MessageRecord>;
	readonly edits: Y.Array<EditRecord>;
	readonly deletions: Y.Map<DeletionRecord>;
	readonly reactions: Y.Map<true>;

	constructor(readonly doc: Y.Doc) {
		this.messages = doc.getArray('messages');
		this.edits = doc.getArray('edits');
		this.deletions = doc.getMap('deletions');
		this.reactions = doc.getMap('reactions');
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
		for (let i = Math.max(0, known - item.id.clock); i < content.length; i++) out.push(content[i]);
	}
	return out;
}
