/**
 * A read model of one channel document, kept up to date incrementally: messages sorted by
 * their hybrid-clock timestamps, thread replies grouped by parent, edit histories and
 * reaction tallies. Built once when a channel opens (O(n log n)); each later change costs
 * only what it touches, so a 100,000-message channel stays responsive.
 *
 * Malformed records (from a faulty or hostile peer) are skipped and counted, never thrown.
 */
import type * as Y from 'yjs';
import { addDeletion, ChannelDoc, readDeletion, readModeration, readReaction, type LiveAnswer, type ReadDeletion } from './ChannelDoc.js';
import { addNewestFirst, byNewest } from './newestFirst.js';
import { answeredTwice, equivocatedEnd } from './answerEnds.js';
import { signedPost } from './channelRights.js';
import { compareHlc } from './hlc.js';
import { AiStatus, type DeletionMark, type EditRecord, type MessageRecord, type ModerationMark, type ReactionMark } from './schema.js';
import { replacesHeld } from './recordChoice.js';
import { verifyMessageNow } from './signature.js';
import { isEditRecord, isMessageRecord } from './validate.js';

/** One emoji's tally on a message. */
export interface ReactionTally {
	emoji: string;
	count: number;
	/** Peer ids that reacted, sorted. */
	peers: string[];
}

function byClock(a: MessageRecord, b: MessageRecord): number {
	return compareHlc(a.hlc, b.hlc) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Inserts `item` into the sorted array `list` (binary search; appends are O(1)). */
function insertSorted<T>(list: T[], item: T, cmp: (a: T, b: T) => number): number {
	let lo = 0;
	let hi = list.length;
	if (hi === 0 || cmp(list[hi - 1]!, item) <= 0) {
		list.push(item);
		return hi;
	}
	while (lo < hi) {
		const mid = (lo + hi) >>> 1;
		if (cmp(list[mid]!, item) <= 0) lo = mid + 1;
		else hi = mid;
	}
	list.splice(lo, 0, item);
	return lo;
}

/** Incrementally maintained view of a channel. */
export class ChannelView {
	/** Top-level messages, in clock order. */
	readonly top: MessageRecord[] = [];
	/** Thread replies by parent id, in clock order. */
	readonly replies = new Map<string, MessageRecord[]>();
	/** Every valid record by id (of records sharing an id, the first whose signature checks out). */
	readonly byId = new Map<string, MessageRecord>();
	/** Records skipped because they were malformed. */
	rejected = 0;
	/** Increments on every change; cheap for UIs to watch. */
	version = 0;

	private readonly editsByMsg = new Map<string, EditRecord[]>();
	/** Model answers (of {@link byId}) by the question they name: channelRights.ts `channelQuestions`. */
	private readonly answersByQuestion = new Map<string, MessageRecord[]>();
	/** Set once the constructor has read the document (edits are read after messages there). */
	private following = false;
	/** Deletion marks: message id → author → marks, newest first. */
	private readonly deletionIndex = new Map<string, Map<string, ReadDeletion[]>>();
	/** Moderation marks: message id → marks of every signer, newest first. */
	private readonly moderationIndex = new Map<string, ModerationMark[]>();
	/** Reaction marks: message id → emoji → peer → marks, newest first. */
	private readonly reactionIndex = new Map<string, Map<string, Map<string, ReactionMark[]>>>();
	private readonly listeners = new Set<(view: ChannelView) => void>();
	private readonly onMessages = (e: Y.YArrayEvent<MessageRecord>) => this.applyInserts(e, (v) => this.addMessage(v));
	private readonly onEdits = (e: Y.YArrayEvent<EditRecord>) => this.applyInserts(e, (v) => this.addEdit(v));
	private readonly onReactions = (e: Y.YMapEvent<unknown>) => {
		for (const key of e.keysChanged) this.addReaction(readReaction(key, this.channel.reactions.get(key)));
		this.changed();
	};
	private readonly onDeletions = (e: Y.YMapEvent<unknown>) => {
		for (const key of e.keysChanged) addDeletion(this.deletionIndex, readDeletion(key, this.channel.deletions.get(key)));
		this.changed();
	};
	private readonly onAnswers = () => this.changed();
	private readonly onModeration = (e: Y.YMapEvent<unknown>) => {
		for (const key of e.keysChanged) this.addModeration(readModeration(key, this.channel.moderation.get(key)));
		this.changed();
	};

	constructor(readonly channel: ChannelDoc) {
		const records = channel.messages.toArray();
		for (const r of records) this.addMessage(r, false);
		this.top.sort(byClock);
		for (const list of this.replies.values()) list.sort(byClock);
		for (const e of channel.edits.toArray()) this.addEdit(e);
		channel.reactions.forEach((value, key) => this.addReaction(readReaction(key, value)));
		channel.deletions.forEach((value, key) => addDeletion(this.deletionIndex, readDeletion(key, value)));
		channel.moderation.forEach((value, key) => this.addModeration(readModeration(key, value)));
		channel.moderation.observe(this.onModeration);
		channel.messages.observe(this.onMessages);
		channel.edits.observe(this.onEdits);
		channel.reactions.observe(this.onReactions);
		channel.deletions.observe(this.onDeletions);
		channel.answers.observeDeep(this.onAnswers);
		this.following = true;
	}

	/** Stops following the document. */
	destroy(): void {
		this.channel.messages.unobserve(this.onMessages);
		this.channel.edits.unobserve(this.onEdits);
		this.channel.reactions.unobserve(this.onReactions);
		this.channel.deletions.unobserve(this.onDeletions);
		this.channel.answers.unobserveDeep(this.onAnswers);
		this.channel.moderation.unobserve(this.onModeration);
		this.listeners.clear();
	}

	/** Calls `fn` after every change; returns an unsubscribe function. */
	subscribe(fn: (view: ChannelView) => void): () => void {
		this.listeners.add(fn);
		return () => this.listeners.delete(fn);
	}

	/**
	 * The latest text of a message: its author's newest edit, or the original; for a model's
	 * answer not finished yet, the text streamed so far (unless `live` is false: an answer whose
	 * asker is not proven says only what its author signed: channelRights.ts `provenAsker`).
	 */
	text(msg: MessageRecord, live = true): string {
		const edits = this.editsByMsg.get(msg.id);
		const last = edits?.at(-1);
		if (last) return last.text;
		if (msg.model !== undefined && live) return this.channel.answer(msg.id)?.text ?? msg.text;
		return msg.text;
	}

	/**
	 * A model's answer (status, stats, tool calls), or undefined for other messages: once its
	 * author's final edit records how it ended (`end`, signed with the text), that end; before,
	 * the live entry, which any member's client could have written (not with `withLive` false).
	 * Only edits `counts` accepts are read (channelRights.ts `editShows`: found in review, a
	 * relay's further end, backdated, rewrote its answer's tool steps and status). When its author
	 * signed different endings among those, the earliest, marked `equivocated` (answerEnds.ts).
	 */
	answer(msg: MessageRecord, withLive = true, counts: (e: EditRecord) => boolean = () => true): LiveAnswer | undefined {
		if (msg.model === undefined) return undefined;
		const counted = (this.editsByMsg.get(msg.id) ?? []).filter(counts);
		const equivocated = equivocatedEnd(msg, counted);
		// The answer of a proven question whose host signed another answer to it is marked too.
		const twice = withLive && msg.question !== undefined && answeredTwice(msg, this.answersByQuestion.get(msg.question) ?? [], (r) => signedPost(r, this.channel.id));
		const live = this.ending(msg, withLive, counted, equivocated);
		return live !== undefined && (equivocated !== undefined || twice) ? { ...live, equivocated: true } : live;
	}

	/** What {@link answer} shows of `msg` before it is marked: its ending `chosen` (equivocated), or its newest counted end, or the live entry. */
	private ending(msg: MessageRecord, withLive: boolean, counted: readonly EditRecord[], chosen: EditRecord | undefined): LiveAnswer | undefined {
		const end = chosen ?? counted.findLast((e) => e.end !== undefined);
		if (end === undefined) {
			// Without `live` (an answer whose asker is not proven), nothing anyone may write shows.
			if (!withLive) return undefined;
			// How it ended is the host's signed end to say: the live entry, which any member can
			// write, says at most that it is still being written (found in review: a host stopped
			// before its end, and a member wrote "done" and a text of her own under its message).
			const live = this.channel.answer(msg.id);
			if (live === undefined || live.status === AiStatus.queued || live.status === AiStatus.streaming) return live;
			const { error: _unsigned, ...rest } = live;
			return { ...rest, status: AiStatus.streaming };
		}
		// An equivocated ending without `end` (a plain edit: only a modified client signs one) reads as done.
		const { status, error, stats, steps } = end.end ?? { status: AiStatus.done };
		return { text: end.text, status, ...(error !== undefined ? { error: error.slice(0, 500) } : {}), ...(stats ? { stats } : {}), ...(steps ? { steps } : {}) };
	}

	/** The author's edits of a message, oldest first (empty when never edited). */
	edits(msgId: string): readonly EditRecord[] {
		return this.editsByMsg.get(msgId) ?? [];
	}

	/** The author's newest deletion mark of a message when it hides it (signatures not checked). */
	deletion(msg: MessageRecord): DeletionMark | undefined {
		const newest = this.deletionIndex.get(msg.id)?.get(msg.author)?.[0];
		return newest?.mark.deleted === true ? newest.mark : undefined;
	}

	/** The author's deletion marks of a message, newest first (the caller checks signatures). */
	deletionMarks(msg: MessageRecord): readonly ReadDeletion[] {
		return this.deletionIndex.get(msg.id)?.get(msg.author) ?? [];
	}

	/** Moderation marks of a message, newest first, by anyone (the caller checks rights and signatures). */
	moderationMarks(msgId: string): readonly ModerationMark[] {
		return this.moderationIndex.get(msgId) ?? [];
	}

	/** The model answers that name question `questionId` (channelRights.ts `channelQuestions` counts the first that fits). */
	answersTo(questionId: string): readonly MessageRecord[] | undefined {
		return this.answersByQuestion.get(questionId);
	}

	/** Thread replies to a message, in clock order. */
	repliesTo(msgId: string): readonly MessageRecord[] {
		return this.replies.get(msgId) ?? [];
	}

	/**
	 * Reaction tallies of a message, by emoji in code-point order: the order reactions
	 * arrived in differs between peers, so it cannot be what the list follows. Each peer's
	 * newest mark that `isGenuine` accepts (by default any: the caller checks signatures) counts.
	 */
	reactions(msgId: string, isGenuine: (mark: ReactionMark) => boolean = () => true): ReactionTally[] {
		const byEmoji = this.reactionIndex.get(msgId);
		if (!byEmoji) return [];
		const out: ReactionTally[] = [];
		for (const [emoji, byPeer] of byEmoji) {
			const peers: string[] = [];
			// Each peer's newest genuine mark decides.
			for (const [peer, marks] of byPeer) if (marks.find(isGenuine)?.on === true) peers.push(peer);
			if (peers.length > 0) out.push({ emoji, count: peers.length, peers: peers.sort() });
		}
		return out.sort((a, b) => (a.emoji < b.emoji ? -1 : a.emoji > b.emoji ? 1 : 0));
	}

	/** Index in {@link top} of the first message ordered after `hlc`, or -1. */
	firstAfter(hlc: string): number {
		let lo = 0;
		let hi = this.top.length;
		while (lo < hi) {
			const mid = (lo + hi) >>> 1;
			if (compareHlc(this.top[mid]!.hlc, hlc) <= 0) lo = mid + 1;
			else hi = mid;
		}
		return lo < this.top.length ? lo : -1;
	}

	/** The clock of the newest message (top level or reply), or '' for an empty channel. */
	latestHlc(): string {
		let latest = this.top.at(-1)?.hlc ?? '';
		for (const list of this.replies.values()) {
			const last = list.at(-1)?.hlc ?? '';
			if (last > latest) latest = last;
		}
		return latest;
	}

	private applyInserts<T>(event: Y.YArrayEvent<T>, add: (v: unknown) => void): void {
		for (const d of event.changes.delta) {
			if (d.insert && Array.isArray(d.insert)) for (const v of d.insert) add(v);
		}
		this.changed();
	}

	private addMessage(v: unknown, sorted = true): void {
		if (!isMessageRecord(v)) {
			this.rejected++;
			return;
		}
		const held = this.byId.get(v.id);
		if (held !== undefined) {
			// Records of one id: see recordChoice.ts.
			if (!replacesHeld(held, v, (m) => verifyMessageNow(m, this.channel.id))) return;
			this.dropMessage(held);
		}
		this.byId.set(v.id, v);
		if (v.model !== undefined && v.question !== undefined) {
			const answers = this.answersByQuestion.get(v.question);
			if (answers) answers.push(v);
			else this.answersByQuestion.set(v.question, [v]);
		}
		if (this.editsByMsg.has(v.id)) this.pruneForeignEdits(v.id);
		if (v.parent === undefined) {
			if (sorted) insertSorted(this.top, v, byClock);
			else this.top.push(v);
			return;
		}
		let list = this.replies.get(v.parent);
		if (!list) this.replies.set(v.parent, (list = []));
		if (sorted) insertSorted(list, v, byClock);
		else list.push(v);
	}

	/** Takes a record out of the view, and what the view pruned by its author (see {@link addMessage}). */
	private dropMessage(m: MessageRecord): void {
		this.byId.delete(m.id);
		if (m.question !== undefined) {
			const answers = this.answersByQuestion.get(m.question);
			const i = answers?.indexOf(m) ?? -1;
			if (answers !== undefined && i >= 0) answers.splice(i, 1);
		}
		const list = m.parent === undefined ? this.top : this.replies.get(m.parent);
		const at = list?.indexOf(m) ?? -1;
		if (list !== undefined && at >= 0) list.splice(at, 1);
		// Edits by another author than the dropped record's were pruned: read them again.
		if (!this.following) return;
		this.editsByMsg.delete(m.id);
		for (const e of this.channel.edits.toArray()) if (isEditRecord(e) && e.msg === m.id) this.addEdit(e);
	}

	private addEdit(v: unknown): void {
		if (!isEditRecord(v)) {
			this.rejected++;
			return;
		}
		let list = this.editsByMsg.get(v.msg);
		if (!list) this.editsByMsg.set(v.msg, (list = []));
		// Oldest first, the newest last; of one clock, the smaller signature last (newest), as
		// search weighs them (extract.ts), never in arrival order: replicas show the same text.
		insertSorted(list, v, (a, b) => -byNewest(a.hlc, a.sig, b.hlc, b.sig));
		this.pruneForeignEdits(v.msg);
	}

	/** Only the message's author may edit it; drop other edits once the message is known. */
	private pruneForeignEdits(msgId: string): void {
		const msg = this.byId.get(msgId);
		const list = this.editsByMsg.get(msgId);
		if (!msg || !list) return;
		const own = list.filter((e) => e.author === msg.author);
		if (own.length !== list.length) this.editsByMsg.set(msgId, own);
	}

	private addModeration(mark: ModerationMark | undefined): void {
		if (mark === undefined) return;
		const marks = this.moderationIndex.get(mark.msg) ?? [];
		// Only the very same mark is a duplicate: one of the same signer and clock with another
		// signature stays beside it, and the signature check picks (found in review: a forged mark
		// of an admin's clock shadowed the admin's genuine hide).
		addNewestFirst(marks, mark, (m) => m.hlc, (m) => m.sig, `${mark.by}\n${mark.hlc}\n${mark.hidden}\n${mark.sig}`);
		this.moderationIndex.set(mark.msg, marks);
	}

	private addReaction(mark: ReactionMark | undefined): void {
		if (mark === undefined) return;
		let byEmoji = this.reactionIndex.get(mark.msg);
		if (!byEmoji) this.reactionIndex.set(mark.msg, (byEmoji = new Map()));
		let byPeer = byEmoji.get(mark.emoji);
		if (!byPeer) byEmoji.set(mark.emoji, (byPeer = new Map()));
		const marks = byPeer.get(mark.by) ?? [];
		addNewestFirst(marks, mark, (m) => m.hlc, (m) => `${m.sig}\n${m.on}`, `${mark.hlc}\n${mark.on}\n${mark.sig}`);
		byPeer.set(mark.by, marks);
	}

	private changed(): void {
		this.version++;
		for (const fn of this.listeners) fn(this);
	}
}
