/**
 * Which edits of a message search takes: the author's, signed, and shown by the channel's
 * posting rules — asked of channelRights.ts `shownText`, the one rule of the channel view, the
 * model's tools and exports. Found in review: search took the author's newest signed edit
 * whatever the rules, so a member's edit dated after the channel went read-only or was
 * archived (which every view refuses) was found by its words and shown in the result's snippet.
 *
 * Rules change after an edit was indexed (a settings mark arrives, an author's role changes),
 * so a channel's progress row keeps {@link editRulesKey}: what the rules say now about the
 * channel's edited messages. The indexer compares it without loading the channel and indexes
 * the channel's edited messages again when it differs.
 */
import { channelQuestions, shownText, signedModeration, withdrawnBy, type AnswersTo, type MessageMarks, type PostingRules, type QuestionLookup } from '../../doc/channelRights.js';
import type { EditRecord, MessageRecord } from '../../doc/schema.js';

/** Whether an edit of a message shows. */
export type EditJudge = (e: EditRecord, m: MessageRecord) => boolean;

/** What `shownText` says when the one edit it is shown counts (no message text is this). */
const SHOWN = '\u0000shown';

/**
 * Whether edits show under `rules` (every edit, without rules), asked of `shownText` one edit
 * at a time. `records` gives the channel's records by id as views choose them (a view's
 * `byId`): `shownText` reads a model's question there; read only when it does. `answersTo`
 * gives a question's answers where they are kept (else they are found among every record).
 * `marks` gives the channel's marks: a question its asker deleted or a moderator hid proves no
 * answer (channelRights.ts `withdrawnBy`), as in the view (found in review: search still held
 * such an answer as asked, so it kept a member host's later edit of it out while the view showed
 * it, and took a relay's edits that the view drops).
 */
export function editJudge(rules: PostingRules | undefined, docId: string, records: () => ReadonlyMap<string, MessageRecord>, answersTo?: AnswersTo, marks?: MessageMarks): EditJudge {
	if (rules === undefined) return () => true;
	// The channel's questions, read from its records only when a model's answer is judged, and one
	// lookup for every edit (found in review: judging any edit asked for the whole channel's
	// records, so a pass carrying a member's edit of a new message read the channel whole).
	let questions: QuestionLookup | undefined;
	const withdrawn = marks === undefined ? undefined : withdrawnBy(marks, rules.roleOf);
	const lookup = () => (questions ??= channelQuestions(records(), docId, answersTo, withdrawn));
	const lazy = Object.assign((id: string) => lookup()(id), { firstAnswer: (id: string) => lookup().firstAnswer(id) });
	const judged: PostingRules = rules.questions !== undefined ? rules : { ...rules, questions: lazy };
	return (e, m) => {
		const view = { text: () => SHOWN, edits: () => [e] };
		return shownText(view, { ...m, text: '' }, judged) === SHOWN;
	};
}

/**
 * The devices whose roles decide whether `m`'s edits show: its author, and for a model's answer
 * its asker and the signers of the moderation marks on its question (`marks`), whose standing
 * as moderators decides whether the question was taken back (channelRights.ts `withdrawnBy`).
 */
export function editorsOf(m: Pick<MessageRecord, 'author' | 'askedBy' | 'question'>, marks?: Pick<MessageMarks, 'moderationMarks'>): string[] {
	if (m.askedBy === undefined) return [m.author];
	const moderators = m.question === undefined || marks === undefined ? [] : marks.moderationMarks(m.question).filter(signedModeration).map((mark) => mark.by);
	return [m.author, m.askedBy, ...moderators];
}

/**
 * What `rules` say about edits by `editors` (sorted): the channel's read-only and archived
 * spans and each editor's role and standing. Equal keys, equal verdicts on every edit; '' when
 * there are no rules.
 */
export function editRulesKey(rules: PostingRules | undefined, editors: readonly string[]): string {
	if (rules === undefined) return '';
	const standing = editors.map((p) => [rules.roleOf(p) ?? '', rules.postedEver === undefined ? 1 : rules.postedEver(p) ? 1 : 0]);
	return JSON.stringify([rules.readOnly, rules.archived ?? [], standing]);
}
