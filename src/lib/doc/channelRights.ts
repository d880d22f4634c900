/**
 * Who may do what in a channel, as every view folds it from the team and the channel's signed
 * settings: pure, deterministic, so every replica that holds the same marks and team shows the
 * same thing.
 *
 * - A settings mark counts when a current admin or the owner signed it ({@link acceptSettings}).
 * - A channel is read-only over intervals of clock time: from its creation when it was created
 *   read-only, and between the counted marks that turn it read-only and writable again. A post
 *   whose clock falls in such an interval shows only when its author is an admin or the owner.
 * - A guest's posts do not show, nor those of a device no member ever had.
 * - The relay never posts: a relay device's message shows only when it is a model's answer
 *   whose asker is proven ({@link provenAsker}: it names a question of this channel that its
 *   asker signed, asking this model of this device) and whose asker's own post would show there
 *   and then (found in review: a second relay, or a device admitted by an invitation of role
 *   relay, posted plain messages that showed everywhere, read-only channels included; and
 *   later, "answers" naming the owner as their asker, which nothing tied to a question). A
 *   question its asker deleted or a moderator hid proves nothing ({@link withdrawnBy}), and an
 *   answer and its edits count only within the question's answer window (answerWindow.ts).
 * - A message is hidden when the newest moderation mark by a current admin or owner hides it
 *   ({@link hiddenBy}); anyone else's marks change nothing.
 *
 * - A channel is listed when its creation counts ({@link channelRules}): its entry is signed by
 *   a device whose member is (or was, when removed) the owner, an admin or a member; or a
 *   current admin kept it with a settings mark. Admins also see the others, marked unverified.
 *
 * These are view rules, not write refusals (channelPolicy.ts says why): a post that breaks them
 * stays in the document, shown as withheld, and counts for nothing.
 */
import { compareHlc } from './hlc.js';
import { byNewest } from './newestFirst.js';
import type { ChannelInfo, EditRecord, MessageRecord, ModerationMark, SettingsMark } from './schema.js';
import { replacesHeld } from './recordChoice.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { deletionMarks, deletionSigningBytes, messageSigningBytes, moderationMarks, verifyBytesNow, verifyChannelEntryNow, verifyMessageNow, verifyModerationMark, verifySettingsMark } from './signature.js';
import { deletionIndex, readModeration, type ChannelDoc, type ReadDeletion } from './ChannelDoc.js';
import { withinAnswerWindow } from './answerWindow.js';
import { equivocatedEnd } from './answerEnds.js';
import { isMessageRecord } from './validate.js';
import type { ChannelRules, WorkspaceDoc } from './WorkspaceDoc.js';

/** A role by device, for a current member device (undefined for anyone else). */
export type RoleOf = (peerId: string) => string | undefined;

/**
 * Signature checks already made, keyed by every field the signature covers (or a hash of them)
 * and the signature itself (a key missing a covered field would let a forged value reuse a
 * genuine verdict); the least recently used go first past {@link MAX_VERDICTS}.
 */
const verdicts = new Map<string, boolean>();
const MAX_VERDICTS = 50_000;

/** `verify()`'s answer for `key`, checked once while remembered. */
function verifiedOnce(key: string, verify: () => boolean): boolean {
	let ok = verdicts.get(key);
	if (ok === undefined) {
		ok = verify();
		if (verdicts.size >= MAX_VERDICTS) verdicts.delete(verdicts.keys().next().value!);
	} else verdicts.delete(key); // most recently used last
	verdicts.set(key, ok);
	return ok;
}

/** Whether a settings mark counts: signed, by a current admin or the owner. */
export function acceptSettings(roleOf: RoleOf): (mark: SettingsMark) => boolean {
	return (mark) => {
		const role = roleOf(mark.by);
		return (role === 'owner' || role === 'admin') && verifiedOnce(JSON.stringify(['settings', mark.channel, mark.field, mark.value, mark.by, mark.hlc, mark.sig]), () => verifySettingsMark(mark));
	};
}

/**
 * Whether a post's signature checks out in channel `docId` (remembered). Unread counts and
 * notifications count only such posts (found in review: a record claiming the owner as its
 * author, signed by another key, got past a read-only channel's rule and counted as unread).
 */
export function signedPost(m: MessageRecord, docId: string): boolean {
	// Keyed by a hash of what the signature covers, not the text itself (up to 40,000 characters).
	return verifiedOnce(`post\n${docId}\n${m.sig}\n${bytesToHex(sha256(messageSigningBytes(m)))}`, () => verifyMessageNow(m, docId));
}

/** The posts of `posts` whose signature checks out, giving the event loop back every few checks (each costs about a millisecond). */
export async function signedPosts(posts: readonly MessageRecord[], docId: string): Promise<MessageRecord[]> {
	const out: MessageRecord[] = [];
	for (const [i, m] of posts.entries()) {
		if (i > 0 && i % 32 === 0) await new Promise((resolve) => setTimeout(resolve, 0));
		if (signedPost(m, docId)) out.push(m);
	}
	return out;
}

/**
 * Signature checks of deletion marks already made, by the mark as the document holds it (never
 * changed while it exists): search asks again about every message with marks on every pass,
 * so without this a member's unsigned marks would cost a check each time.
 */
const deletionChecks = new WeakMap<object, boolean>();

/** Whether a deletion mark (or an entry from before marks) is signed by its `by`; a mark's verdict is remembered. */
export function signedDeletion(read: ReadDeletion): boolean {
	const { mark, legacy } = read;
	if (legacy) return verifyBytesNow(mark.by, deletionSigningBytes(mark.msg, mark), mark.sig);
	let ok = deletionChecks.get(mark);
	if (ok === undefined) deletionChecks.set(mark, (ok = verifyBytesNow(mark.by, deletionMarks.bytes(mark), mark.sig)));
	return ok;
}

/** Whether the newest signed mark of an author's list (newest first: ChannelDoc.ts `deletionIndex`) hides its message. */
export function deletedBySigned(list: readonly ReadDeletion[] | undefined): boolean {
	for (const read of list ?? []) if (signedDeletion(read)) return read.mark.deleted;
	return false;
}

/** Roles whose devices may create channels. */
const CHANNEL_CREATORS = new Set(['owner', 'admin', 'member']);

/**
 * Which channels a view lists: those whose entry `createdBy` signed, when that device's member
 * may create channels by `creatorRole` (its role now, or when it was removed), with the settings
 * marks {@link acceptSettings} counts; with `withUnverified` (an admin's view) the others too,
 * marked unverified.
 */
export function channelRules(roleOf: RoleOf, creatorRole: RoleOf, withUnverified = false): ChannelRules {
	return {
		settings: acceptSettings(roleOf),
		creation: (entry) => CHANNEL_CREATORS.has(creatorRole(entry.createdBy) ?? '') && verifiedOnce(JSON.stringify(['channel', entry.id, entry.name, entry.topic, entry.private, entry.readOnly, entry.archived, entry.createdAt, entry.createdBy, entry.sig]), () => verifyChannelEntryNow(entry)),
		withUnverified
	};
}

/** Clock intervals `[from, to)` in which a channel was read-only (`to` undefined: still is). */
export type ReadOnlySpans = ReadonlyArray<{ from: string; to: string | undefined }>;

/** What the view needs to decide which posts show. */
export interface PostingRules {
	roleOf: RoleOf;
	/**
	 * Whether `peerId` was ever the device of an owner, admin or member (removed, demoted or
	 * removed from its member since included: TeamAuthority `wroteNotes`). Given, a post whose
	 * author is no current member device shows only when this says so (found in review: a guest
	 * signed posts with a throwaway key nobody admitted, and they showed to everyone as verified).
	 */
	postedEver?: (peerId: string) => boolean;
	readOnly: ReadOnlySpans;
	/**
	 * The intervals the channel was archived over: no post in them shows, whoever wrote it
	 * (found in review: a modified client posted into an archived channel, and it showed; only
	 * the composer refused).
	 */
	archived?: ReadOnlySpans;
	/**
	 * The channel's signed questions ({@link channelQuestions}): a model's answer counts as asked
	 * by its `askedBy` only when the question it names is here ({@link provenAsker}). Absent, no
	 * answer's asker is proven, so no relay's answer shows.
	 */
	questions?: QuestionLookup;
}

/**
 * The message of id `id` in a channel when its signature checks out there and it asks a model,
 * else undefined; `firstAnswer` names the one answer of such a question that counts
 * ({@link channelQuestions}).
 */
export type QuestionLookup = ((id: string) => MessageRecord | undefined) & { readonly firstAnswer: (questionId: string) => string | undefined };

/** A channel's model answers by the question they name (a view keeps them: ChannelView `answersTo`). */
export type AnswersTo = (questionId: string) => readonly MessageRecord[] | undefined;

/**
 * Whether a question was taken back: its asker deleted it, or a moderator hid it
 * ({@link withdrawnBy}).
 */
export type Withdrawn = (q: MessageRecord) => boolean;

/** Where a channel's marks on a message are read: a view (ChannelView), or a document ({@link marksIn}). */
export interface MessageMarks {
	/** The deletion marks of `m`'s author on it, newest first (signatures not checked). */
	deletionMarks(m: MessageRecord): readonly ReadDeletion[];
	/** The moderation marks on message `msgId`, by anyone, newest first (signatures not checked). */
	moderationMarks(msgId: string): readonly ModerationMark[];
}

/**
 * Whether a question is taken back, as the channel shows it: the newest signed deletion mark of
 * its author deletes it ({@link deletedBySigned}), or the newest genuine mark of a current admin
 * or owner hides it ({@link hiddenBy}); an undo or a "show again" gives it back. Found in
 * review: an answer whose question its asker deleted, or a moderator hid, still showed as asked
 * by that member (a relay's, where the asker could post).
 */
export function withdrawnBy(marks: MessageMarks, roleOf: RoleOf): Withdrawn {
	return (q) => deletedBySigned(marks.deletionMarks(q)) || hiddenBy(marks.moderationMarks(q.id), roleOf, signedModeration) !== undefined;
}

/** Whether a moderation mark is signed by its `by`, at once (remembered). */
export function signedModeration(mark: ModerationMark): boolean {
	return verifiedOnce(JSON.stringify(['moderation', mark.msg, mark.by, mark.hlc, mark.hidden, mark.sig]), () => verifyBytesNow(mark.by, moderationMarks.bytes(mark), mark.sig));
}

/** The marks of channel document `channel`, indexed when first asked (a question's marks are asked only of answers); `moderation`: its marks by message, when read already. */
export function marksIn(channel: ChannelDoc, moderation?: Map<string, ModerationMark[]>): MessageMarks {
	let deletions: ReturnType<typeof deletionIndex> | undefined;
	return {
		deletionMarks: (m) => (deletions ??= deletionIndex(channel)).get(m.id)?.get(m.author) ?? [],
		moderationMarks: (msgId) => (moderation ??= moderationByMessage(channel)).get(msgId) ?? []
	};
}

/** A channel's moderation marks by message, each list newest first. */
function moderationByMessage(channel: ChannelDoc): Map<string, ModerationMark[]> {
	const byMessage = new Map<string, ModerationMark[]>();
	channel.moderation.forEach((value, key) => {
		const mark = readModeration(key, value);
		if (mark === undefined) return;
		const list = byMessage.get(mark.msg);
		if (list) list.push(mark);
		else byMessage.set(mark.msg, [mark]);
	});
	for (const marks of byMessage.values()) marks.sort((a, b) => byNewest(a.hlc, a.sig, b.hlc, b.sig));
	return byMessage;
}

/**
 * The signed questions among a channel's records `byId` (a view's choice of record per id),
 * for {@link PostingRules.questions}: the record of an id, when it asks a model, its signature
 * checks out in channel `docId` (remembered: {@link signedPost}) and `withdrawn` (given) does
 * not say it was taken back. Of the answers naming a question (`answersTo`, else read from
 * `byId` once, when first asked), only the earliest (clock, then id) that answers it as asked
 * and whose signature checks out counts (found in review: one question let the relay it asked
 * post any number of "answers", dated anywhere after it, a read-only channel's later span
 * included when backdated before it).
 */
export function channelQuestions(byId: ReadonlyMap<string, MessageRecord>, docId: string, answersTo?: AnswersTo, withdrawn?: Withdrawn): QuestionLookup {
	const question = (id: string): MessageRecord | undefined => {
		const q = byId.get(id);
		return q !== undefined && q.ask !== undefined && q.model === undefined && signedPost(q, docId) && withdrawn?.(q) !== true ? q : undefined;
	};
	let scanned: Map<string, MessageRecord[]> | undefined;
	const answers = answersTo ?? ((id: string) => (scanned ??= answersByQuestion(byId.values())).get(id));
	const first = new Map<string, string | undefined>();
	const firstAnswer = (questionId: string): string | undefined => {
		if (first.has(questionId)) return first.get(questionId);
		const q = question(questionId);
		const fits = (m: MessageRecord) => q !== undefined && answersAsAsked(m, q) && byId.get(m.id) === m;
		const found = [...(answers(questionId) ?? [])].filter(fits).sort(byClockThenId).find((m) => signedPost(m, docId))?.id;
		first.set(questionId, found);
		return found;
	};
	return Object.assign(question, { firstAnswer });
}

/** Model answers among `records` by the question they name. */
export function answersByQuestion(records: Iterable<MessageRecord>): Map<string, MessageRecord[]> {
	const out = new Map<string, MessageRecord[]>();
	for (const m of records) {
		if (m.model === undefined || m.question === undefined) continue;
		const list = out.get(m.question);
		if (list) list.push(m);
		else out.set(m.question, [m]);
	}
	return out;
}

function byClockThenId(a: MessageRecord, b: MessageRecord): number {
	return compareHlc(a.hlc, b.hlc) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/**
 * Whether `m` answers question `q` as `q` asks: its model, of its host, for its author, in its
 * thread, after it and within its answer window (answerWindow.ts: found in review, the relay's
 * one answer could be dated days after its question).
 */
function answersAsAsked(m: MessageRecord, q: MessageRecord): boolean {
	return m.model !== undefined && m.question === q.id && q.author === m.askedBy && q.ask?.model === m.model && q.ask.host === m.author && q.parent === m.parent && compareHlc(q.hlc, m.hlc) < 0 && withinAnswerWindow(q.hlc, m.hlc);
}

/** A view of a channel that {@link withQuestions} reads: its records by id, its marks, and (kept by ChannelView) its answers by question. */
export type QuestionSource = { byId: ReadonlyMap<string, MessageRecord>; channel: { id: string }; answersTo?: AnswersTo } & MessageMarks;

/**
 * `rules` with the questions of `view`'s channel (those taken back left out: {@link withdrawnBy}
 * under `rules.roleOf`; and its answers by question, when it keeps them), unless they have some already.
 */
export function withQuestions(rules: PostingRules, view: QuestionSource): PostingRules {
	return rules.questions !== undefined ? rules : { ...rules, questions: channelQuestions(view.byId, view.channel.id, view.answersTo?.bind(view), withdrawnBy(view, rules.roleOf)) };
}

/**
 * Who asked model answer `m`, when that is proven: it names (`question`) a question of this
 * channel (`questions`: signed, in the channel, not taken back) that its `askedBy` wrote,
 * asking `m`'s model of `m`'s author, in the same thread, before it and at most the answer
 * window earlier (answerWindow.ts); and it is that question's first such answer
 * (`firstAnswer`). Otherwise undefined: the answer is its author's own post (a relay's shows
 * nowhere), and views do not say who asked.
 */
export function provenAsker(m: MessageRecord, questions: QuestionLookup | undefined): string | undefined {
	if (m.model === undefined || m.askedBy === undefined || m.question === undefined || questions === undefined) return undefined;
	const q = questions(m.question);
	if (q === undefined || !answersAsAsked(m, q)) return undefined;
	if (questions.firstAnswer(q.id) !== m.id) return undefined;
	return m.askedBy;
}

/**
 * How a channel's flags are read. `creatorRole` given (the app's views), the flag its entry was
 * created with counts only when that creation counts ({@link channelRules}); a `space` (a private
 * channel or a conversation, which the root never lists) has no flags from the root at all.
 * Found in review: anyone, a guest too, could list a space's id in the root created archived
 * and read-only, and every post in that private channel was then withheld from its members.
 */
export interface FlagOptions {
	creatorRole?: RoleOf;
	space?: boolean;
}

/** The read-only intervals of channel `id`: its entry's flag from the start, then each counted mark in clock order. */
export function readOnlySpans(root: WorkspaceDoc, id: string, roleOf: RoleOf, options: FlagOptions = {}): ReadOnlySpans {
	return flagSpans(root, id, roleOf, 'readOnly', options);
}

/** The intervals channel `id` was archived over, as {@link readOnlySpans} reads read-only ones. */
export function archivedSpans(root: WorkspaceDoc, id: string, roleOf: RoleOf, options: FlagOptions = {}): ReadOnlySpans {
	return flagSpans(root, id, roleOf, 'archived', options);
}

function flagSpans(root: WorkspaceDoc, id: string, roleOf: RoleOf, field: 'readOnly' | 'archived', options: FlagOptions): ReadOnlySpans {
	if (options.space === true) return [];
	const entry = root.channels.get(id);
	const accept = acceptSettings(roleOf);
	const marks = (root.settingsIndex().get(id) ?? []).filter((m) => m.field === field && accept(m)).reverse();
	const spans: Array<{ from: string; to: string | undefined }> = [];
	const creatorRole = options.creatorRole;
	const created = entry?.get(field) === true && (creatorRole === undefined || createdCounts(root, id, roleOf, creatorRole));
	let open: string | undefined = created ? '' : undefined;
	for (const mark of marks) {
		if (mark.value === true && open === undefined) open = mark.hlc;
		else if (mark.value === false && open !== undefined) {
			spans.push({ from: open, to: mark.hlc });
			open = undefined;
		}
	}
	if (open !== undefined) spans.push({ from: open, to: undefined });
	return spans;
}

/** Whether channel `id`'s entry, as created, counts (its creator signed it and may create channels). */
function createdCounts(root: WorkspaceDoc, id: string, roleOf: RoleOf, creatorRole: RoleOf): boolean {
	const created = root.channel(id, { settings: () => false, creation: channelRules(roleOf, creatorRole).creation });
	return created !== undefined;
}

/** Roles whose posts show in a read-only span. */
const READ_ONLY_POSTERS = new Set(['owner', 'admin']);

/** Whether a post shows under `rules` (see the module comment). */
export function postShows(m: MessageRecord, rules: PostingRules): boolean {
	const role = rules.roleOf(m.author);
	if (role === 'guest') return false;
	if (rules.archived !== undefined && inSpans(m.hlc, rules.archived)) return false;
	if (role === undefined && rules.postedEver !== undefined && !rules.postedEver(m.author)) return false;
	if (role === 'relay') {
		// A model's answer to a proven question shows where its asker may post; the asker is never the relay itself.
		const asker = provenAsker(m, rules.questions);
		if (asker === undefined || asker === m.author || rules.roleOf(asker) === 'relay') return false;
		const question = rules.questions!(m.question!)!;
		return postShows(question, rules) && postShows({ ...m, author: asker }, rules);
	}
	if (role !== undefined && READ_ONLY_POSTERS.has(role)) return true;
	return !inSpans(m.hlc, rules.readOnly);
}

/**
 * Whether an edit of `m` shows: as `m` would if it were posted at the edit's clock (found in
 * review: a member rewrote an old post after the channel went read-only or was archived, and
 * every replica showed the new text). The edit's clock is its author's own, so a backdated
 * edit still passes: this stops honest clocks, not a modified client. An edit of a model's
 * answer whose asker is proven ({@link provenAsker}) also counts only when dated neither before
 * the answer nor past its question's answer window (answerWindow.ts): found in review, the
 * relay added further signed edits to its one answer, days later, backdated into a span where
 * its asker could post.
 */
export function editShows(e: Pick<EditRecord, 'hlc'>, m: MessageRecord, rules: PostingRules): boolean {
	return answerEditFits(e, m, rules.questions) && postShows({ ...m, hlc: e.hlc }, rules);
}

/** Whether edit `e` of `m` is dated within the answer's own span, when `m` is an answer whose asker is proven (any edit of another message). */
function answerEditFits(e: Pick<EditRecord, 'hlc'>, m: MessageRecord, questions: QuestionLookup | undefined): boolean {
	if (provenAsker(m, questions) === undefined) return true;
	const question = questions!(m.question!)!;
	return compareHlc(m.hlc, e.hlc) <= 0 && withinAnswerWindow(question.hlc, e.hlc);
}

/**
 * What message `m` says: its author's newest edit that shows under `rules` ({@link editShows}),
 * or the original; without rules, the newest edit. A model answer whose author signed different
 * endings among those says its earliest (answerEnds.ts `equivocatedEnd`). One rule for the
 * channel view, the model's tools and exports.
 */
export function shownText(view: { text(m: MessageRecord): string; edits(msgId: string): readonly EditRecord[] }, m: MessageRecord, rules: PostingRules | undefined): string {
	// A channel's view (ChannelView) brings the channel's questions, which a relay's answer needs to show.
	if (rules !== undefined && rules.questions === undefined && isQuestionSource(view)) rules = withQuestions(rules, view);
	const all = view.edits(m.id);
	const judged = rules;
	const shown = judged === undefined ? all : all.filter((e) => editShows(e, m, judged));
	const equivocated = equivocatedEnd(m, shown);
	if (equivocated !== undefined) return equivocated.text;
	return shown.length === all.length ? view.text(m) : (shown.at(-1)?.text ?? m.text);
}

/** Whether `view` holds a channel's records by id and its marks (a ChannelView). */
function isQuestionSource(view: object): view is QuestionSource {
	const v = view as { byId?: unknown; channel?: { id?: unknown }; deletionMarks?: unknown; moderationMarks?: unknown };
	return v.byId instanceof Map && typeof v.channel?.id === 'string' && typeof v.deletionMarks === 'function' && typeof v.moderationMarks === 'function';
}

/** Whether clock `hlc` falls in one of `spans`. */
function inSpans(hlc: string, spans: ReadOnlySpans): boolean {
	return spans.some((span) => compareHlc(hlc, span.from) >= 0 && (span.to === undefined || compareHlc(hlc, span.to) < 0));
}

/** Whether a role may hide messages. */
export function isModerator(role: string | undefined): boolean {
	return role === 'owner' || role === 'admin';
}

/**
 * Who hid a message and when, from its moderation marks (newest first): the newest mark by a
 * current admin or owner that `isGenuine` accepts (its signature) decides.
 */
export function hiddenBy(marks: readonly ModerationMark[], roleOf: RoleOf, isGenuine: (mark: ModerationMark) => boolean): { by: string; hlc: string } | undefined {
	for (const mark of marks) {
		if (!isModerator(roleOf(mark.by)) || !isGenuine(mark)) continue;
		return mark.hidden ? { by: mark.by, hlc: mark.hlc } : undefined;
	}
	return undefined;
}

/**
 * Ids of a channel's messages that nobody is shown: hidden by a moderator (the newest genuine
 * moderator mark says hidden; signatures are checked here) or withheld by the posting rules (a
 * guest's post, a post in a read-only span by a member). Search results and exports leave them
 * out as the channel view does.
 */
export async function unseenMessages(channel: ChannelDoc, rules: PostingRules): Promise<Set<string>> {
	const out = new Set<string>();
	// One record per id, as the views choose it (found in review: judging every record let an
	// unsigned copy of a member's id, claiming a guest as its author, withhold the real post
	// from search, workspace knowledge and the model's tools).
	const byId = recordsById(channel.messages.toArray(), channel.id);
	const moderation = moderationByMessage(channel);
	if (rules.questions === undefined) rules = { ...rules, questions: channelQuestions(byId, channel.id, undefined, withdrawnBy(marksIn(channel, moderation), rules.roleOf)) };
	for (const m of byId.values()) if (!postShows(m, rules)) out.add(m.id);
	for (const [msgId, marks] of moderation) if (await hiddenAmong(marks, rules.roleOf)) out.add(msgId);
	return out;
}

/**
 * The signed questions of channel document `channel` as it is now, those taken back left out
 * ({@link withdrawnBy}, moderators by `roleOf`), for rules made without a view
 * ({@link PostingRules.questions}): reads every record once when first asked.
 */
export function questionsIn(channel: ChannelDoc, roleOf: RoleOf): QuestionLookup {
	// Read on the first question asked: most callers judge posts that answer nothing.
	let lookup: QuestionLookup | undefined;
	const read = () => (lookup ??= channelQuestions(recordsById(channel.messages.toArray(), channel.id), channel.id, undefined, withdrawnBy(marksIn(channel), roleOf)));
	return Object.assign((id: string) => read()(id), { firstAnswer: (id: string) => read().firstAnswer(id) });
}

/**
 * A channel's records by id, one per id chosen as its views choose (recordChoice.ts); what is
 * not a message record is skipped (a lone record's signature is not checked here).
 */
export function recordsById(records: readonly unknown[], docId: string): Map<string, MessageRecord> {
	const byId = new Map<string, MessageRecord>();
	for (const m of records) {
		if (!isMessageRecord(m)) continue;
		const held = byId.get(m.id);
		if (held === undefined || replacesHeld(held, m, (r) => signedPost(r, docId))) byId.set(m.id, m);
	}
	return byId;
}

/** Message `msgId`'s moderation marks, newest first (signatures not checked: {@link hiddenAmong} does). */
export function moderationOf(channel: ChannelDoc, msgId: string): ModerationMark[] {
	const marks: ModerationMark[] = [];
	channel.moderation.forEach((value, key) => {
		const mark = readModeration(key, value);
		if (mark !== undefined && mark.msg === msgId) marks.push(mark);
	});
	return marks.sort((a, b) => byNewest(a.hlc, a.sig, b.hlc, b.sig));
}

/** Whether the newest genuine moderator mark among `marks` (newest first) hides their message. */
export async function hiddenAmong(marks: readonly ModerationMark[], roleOf: RoleOf): Promise<boolean> {
	const genuine = new Map<ModerationMark, boolean>();
	for (const mark of marks) if (isModerator(roleOf(mark.by))) genuine.set(mark, await verifyModerationMark(mark));
	return hiddenBy(marks, roleOf, (mark) => genuine.get(mark) === true) !== undefined;
}
