/**
 * A channel's records as search and workspace knowledge read them, kept in step with one
 * loaded Y.Doc: the record a view shows for each id (channelRights.ts `recordsById`), every
 * edit by message, every deletion mark by message and author (ChannelDoc.ts `deletionIndex`),
 * every moderation mark by message (as ChannelView keeps them: whether a question was taken
 * back, channelRights.ts `withdrawnBy`) and the records naming each question. Found in review: a pass carrying an edit of an indexed
 * message read the channel's records whole, once per indexing delay while a member kept
 * editing; now a pass reads what the store holds past the state vectors it knows.
 *
 * What is new is read off the document's struct store (structs past a state vector, client by
 * client) instead of walking the arrays, so the cost is that of the new structs. The arrays and
 * the marks only grow (channelPolicy.ts); should an item of them be deleted all the same (a
 * local write), the whole document is read again at the next use, and
 * {@link ChannelRecords.removed} tells a pass that read the channel before (in this session or
 * an earlier one) to read it whole too. Two records of one id are chosen between in array order
 * (recordChoice.ts), which the struct store does not give: an id met again is chosen among all
 * its records, reading the array (a member's copy of another's id; rare, and what a pass cost
 * before for every edit).
 */
import * as Y from 'yjs';
import { addDeletion, ChannelDoc, deletionIndex, readDeletion, readModeration, type ReadDeletion } from '../../doc/ChannelDoc.js';
import { recordsById, type MessageMarks } from '../../doc/channelRights.js';
import { addNewestFirst } from '../../doc/newestFirst.js';
import type { EditRecord, MessageRecord, ModerationMark } from '../../doc/schema.js';
import { isEditRecord, isMessageRecord } from '../../doc/validate.js';

/** What arrived in a channel past a state vector. */
export interface ChannelDelta {
	/** Ids of the well-formed message records that arrived. */
	messageIds: Set<string>;
	/** Well-formed edits that arrived. */
	edits: EditRecord[];
	/** Ids of the messages that got deletion marks. */
	markIds: Set<string>;
	/** Ids of the messages that got moderation marks. */
	moderationIds: Set<string>;
}

/** See the module comment. */
export class ChannelRecords implements MessageMarks {
	private readonly channel: ChannelDoc;
	/** The store's state vector this copy reflects. */
	private known = new Map<number, number>();
	/** An item of the messages, edits or deletion marks was deleted: read everything again. */
	private stale = false;
	/** The messages and edits arrays and the deletion and moderation maps. */
	private readonly watched: Set<unknown>;
	private removedCount = 0;
	private byIdMap = new Map<string, MessageRecord>();
	private editsByMsg = new Map<string, EditRecord[]>();
	private marks = new Map<string, Map<string, ReadDeletion[]>>();
	private moderation = new Map<string, ModerationMark[]>();
	/** Ids of records (as chosen) naming each question. */
	private naming = new Map<string, Set<string>>();

	constructor(
		private readonly doc: Y.Doc,
		readonly docId: string
	) {
		this.channel = new ChannelDoc(doc);
		const watched = (this.watched = new Set<unknown>([this.channel.messages, this.channel.edits, this.channel.deletions, this.channel.moderation]));
		doc.on('afterTransaction', (tr: Y.Transaction) => {
			if (this.stale || tr.deleteSet.clients.size === 0) return;
			Y.iterateDeletedStructs(tr, tr.deleteSet, (s) => {
				if (s instanceof Y.Item && watched.has(s.parent)) this.stale = true;
			});
		});
		this.readWhole();
	}

	/**
	 * How many values of the arrays and maps kept were removed from the document (a deletion
	 * leaves the state vector as it was, so a pass reading past the one it stored would miss it).
	 * Removals are never undone, so an equal count means none since. Found in review: a mark this
	 * device's own write took out (the write policy refuses it of peers) left the message out of
	 * search and knowledge, though a view or an index built afresh showed it.
	 */
	get removed(): number {
		return this.removedCount;
	}

	/** The record of each id a view of the channel shows (`recordsById` over the whole array). */
	get byId(): ReadonlyMap<string, MessageRecord> {
		return this.byIdMap;
	}

	/** Every deletion mark: message id → author → marks, newest first. */
	get deletions(): ReadonlyMap<string, ReadonlyMap<string, readonly ReadDeletion[]>> {
		return this.marks;
	}

	/** The deletion marks of `m`'s author on it, newest first (signatures not checked). */
	deletionMarks(m: MessageRecord): readonly ReadDeletion[] {
		return this.marks.get(m.id)?.get(m.author) ?? [];
	}

	/** The moderation marks on message `msgId`, by anyone, newest first (signatures not checked). */
	moderationMarks(msgId: string): readonly ModerationMark[] {
		return this.moderation.get(msgId) ?? [];
	}

	/** The well-formed edits of a message. */
	editsOf(msgId: string): readonly EditRecord[] {
		return this.editsByMsg.get(msgId) ?? [];
	}

	/** Every well-formed edit. */
	allEdits(): EditRecord[] {
		return [...this.editsByMsg.values()].flat();
	}

	/** Ids of the records that name `questionId` as their question. */
	namingQuestion(questionId: string): readonly string[] {
		return [...(this.naming.get(questionId) ?? [])];
	}

	/** A model's answers naming `questionId` (channelRights.ts `answersByQuestion`, from {@link byId}). */
	answersTo = (questionId: string): MessageRecord[] | undefined => {
		const ids = this.naming.get(questionId);
		if (ids === undefined) return undefined;
		const out = [...ids].map((id) => this.byIdMap.get(id)!).filter((m) => m.model !== undefined && m.question === questionId);
		return out.length > 0 ? out : undefined;
	};

	/** Brings this copy up to the document (call before reading). */
	update(): void {
		if (this.stale) {
			this.readWhole();
			return;
		}
		const { messages, edits, marks, moderation, state } = this.structsSince(this.known);
		this.known = state;
		const again = new Set<string>();
		for (const r of messages) {
			if (!isMessageRecord(r)) continue;
			if (this.byIdMap.has(r.id) || again.has(r.id)) again.add(r.id);
			else this.choose(r.id, r);
		}
		if (again.size > 0) {
			const chosen = recordsById(this.channel.messages.toArray().filter((r) => isMessageRecord(r) && again.has(r.id)), this.docId);
			for (const [id, m] of chosen) this.choose(id, m);
		}
		for (const e of edits) if (isEditRecord(e)) this.addEdit(e);
		for (const [key, value] of marks) addDeletion(this.marks, readDeletion(key, value));
		for (const [key, value] of moderation) this.addModeration(readModeration(key, value));
	}

	/** What arrived past state vector `sv` (read off the struct store; the cost is that of what arrived). */
	since(sv: Map<number, number>): ChannelDelta {
		const { messages, edits, marks, moderation } = this.structsSince(sv);
		const delta: ChannelDelta = { messageIds: new Set(), edits: [], markIds: new Set(), moderationIds: new Set() };
		for (const r of messages) if (isMessageRecord(r)) delta.messageIds.add(r.id);
		for (const e of edits) if (isEditRecord(e)) delta.edits.push(e);
		for (const [key, value] of marks) {
			const read = readDeletion(key, value);
			if (read) delta.markIds.add(read.mark.msg);
		}
		for (const [key, value] of moderation) {
			const mark = readModeration(key, value);
			if (mark) delta.moderationIds.add(mark.msg);
		}
		return delta;
	}

	private readWhole(): void {
		this.stale = false;
		this.known = this.structsSince(new Map(), true).state;
		this.removedCount = 0;
		for (const structs of this.doc.store.clients.values()) {
			for (const s of structs) if (s instanceof Y.Item && s.deleted && this.watched.has(s.parent)) this.removedCount += s.length;
		}
		this.byIdMap = new Map();
		this.naming = new Map();
		for (const [id, m] of recordsById(this.channel.messages.toArray(), this.docId)) this.choose(id, m);
		this.editsByMsg = new Map();
		for (const e of this.channel.edits.toArray()) if (isEditRecord(e)) this.addEdit(e);
		this.marks = deletionIndex(this.channel);
		this.moderation = new Map();
		this.channel.moderation.forEach((value, key) => this.addModeration(readModeration(key, value)));
	}

	/** As ChannelView keeps moderation marks: newest first, the very same mark once. */
	private addModeration(mark: ModerationMark | undefined): void {
		if (mark === undefined) return;
		const list = this.moderation.get(mark.msg) ?? [];
		addNewestFirst(list, mark, (m) => m.hlc, (m) => m.sig, `${mark.by}\n${mark.hlc}\n${mark.hidden}\n${mark.sig}`);
		this.moderation.set(mark.msg, list);
	}

	private choose(id: string, m: MessageRecord): void {
		const held = this.byIdMap.get(id);
		if (held?.question !== undefined) this.naming.get(held.question)?.delete(id);
		this.byIdMap.set(id, m);
		if (m.question === undefined) return;
		const ids = this.naming.get(m.question) ?? new Set<string>();
		ids.add(id);
		this.naming.set(m.question, ids);
	}

	private addEdit(e: EditRecord): void {
		const list = this.editsByMsg.get(e.msg);
		if (list) list.push(e);
		else this.editsByMsg.set(e.msg, [e]);
	}

	/**
	 * The values of the messages and edits arrays, the deletion marks and the moderation marks in
	 * structs past `sv`, and the store's state vector; with `stateOnly`, the state vector alone.
	 */
	private structsSince(sv: Map<number, number>, stateOnly = false): { messages: unknown[]; edits: unknown[]; marks: [string, unknown][]; moderation: [string, unknown][]; state: Map<number, number> } {
		const { messages: messageArray, edits: editArray, deletions, moderation } = this.channel;
		const out = { messages: [] as unknown[], edits: [] as unknown[], marks: [] as [string, unknown][], moderation: [] as [string, unknown][], state: new Map<number, number>() };
		for (const [client, structs] of this.doc.store.clients) {
			const last = structs[structs.length - 1];
			if (last === undefined) continue;
			const end = last.id.clock + last.length;
			out.state.set(client, end);
			const known = sv.get(client) ?? 0;
			if (stateOnly || end <= known) continue;
			for (let i = known === 0 ? 0 : Y.findIndexSS(structs, known); i < structs.length; i++) {
				const s = structs[i];
				if (!(s instanceof Y.Item) || s.deleted || !s.countable) continue;
				if (s.parent === messageArray || s.parent === editArray) {
					const content = s.content.getContent();
					const into = s.parent === messageArray ? out.messages : out.edits;
					for (let j = Math.max(0, known - s.id.clock); j < content.length; j++) into.push(content[j]);
				} else if ((s.parent === deletions || s.parent === moderation) && s.parentSub !== null) {
					(s.parent === deletions ? out.marks : out.moderation).push([s.parentSub, s.content.getContent()[0]]);
				}
			}
		}
		return out;
	}
}

/** Each loaded channel document's {@link ChannelRecords}. */
const byDoc = new WeakMap<Y.Doc, ChannelRecords>();

/** The {@link ChannelRecords} of a loaded channel document, brought up to it. */
export function channelRecords(doc: Y.Doc, docId: string): ChannelRecords {
	let records = byDoc.get(doc);
	if (records?.docId !== docId) {
		records = new ChannelRecords(doc, docId);
		byDoc.set(doc, records);
	} else records.update();
	return records;
}
