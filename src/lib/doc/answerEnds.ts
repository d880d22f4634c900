/**
 * One answer, one ending. An honest host signs exactly one end of each model answer it writes
 * (answerSink.ts: a retried request reuses the first end, a regenerate makes a new answer), so
 * two different signed endings of one answer by its host come only from a modified client.
 * Found in review: the host a member asked could, even days later, sign a further end of its
 * answer dated inside the question's window (the window bounds the clocks records carry, not
 * when they are signed), and the newest end replaced the answer's text everywhere, silently.
 *
 * Such an answer is *equivocated*: every view shows one deterministic choice, the ending with
 * the earliest clock (of one clock, the smaller signature, as newestFirst.ts breaks ties), and
 * says that its host signed more than one ending. Only endings whose signature checks out count
 * (anyone may write a record in the host's name; a forged one must not mark an honest answer).
 * The channel view (channelRights.ts `shownText`, ChannelView `answer`), search and workspace
 * knowledge (store/search/extract.ts) and the AI chat (AiThreadDoc.list) all ask this module.
 */
import type { ChannelDoc } from './ChannelDoc.js';
import { compareHlc } from './hlc.js';
import type { EditRecord, MessageRecord } from './schema.js';
import { editSigningBytes, verifyBytesNow } from './signature.js';
import { isEditRecord } from './validate.js';

/** A signed record with a clock: an edit, an AI-chat answer record. */
export interface Dated {
	hlc: string;
	sig: string;
}

/** Earliest first: the earlier clock; of one clock, the smaller signature. */
export function byEarliest(a: Dated, b: Dated): number {
	return compareHlc(a.hlc, b.hlc) || (a.sig < b.sig ? -1 : a.sig > b.sig ? 1 : 0);
}

/**
 * Of `endings` (all signed by one answer's host, and counted by the view's rules), the one every
 * view shows when they say different things (`content` tells them apart, their clocks left
 * out): the earliest ({@link byEarliest}). Undefined when they agree (fewer than two contents).
 */
export function equivocatedChoice<T extends Dated>(endings: readonly T[], content: (r: T) => string): T | undefined {
	if (endings.length < 2) return undefined;
	const first = content(endings[0]!);
	if (endings.every((r) => content(r) === first)) return undefined;
	return [...endings].sort(byEarliest)[0];
}

const decoder = new TextDecoder();

/** What an edit says, its clock left out: the text and the ending it signs. */
export function editContent(e: EditRecord): string {
	return decoder.decode(editSigningBytes({ ...e, hlc: '' }));
}

/** Edit signature verdicts, by the record as its document holds it (never changed while it exists). */
const editVerdicts = new WeakMap<EditRecord, boolean>();

/** Whether edit `e`'s signature checks out (remembered). */
export function signedEdit(e: EditRecord): boolean {
	let ok = editVerdicts.get(e);
	if (ok === undefined) editVerdicts.set(e, (ok = verifyBytesNow(e.author, editSigningBytes(e), e.sig)));
	return ok;
}

/**
 * The ending a view shows of model answer `m` when its author signed different ones among
 * `counted` (its edits that the view's rules count, in any order); undefined when `m` is no
 * model answer or is not equivocated (the newest counted edit shows, as for any message). Every
 * edit of a model answer is an ending: honest hosts sign none but the one end. Signatures are
 * checked only when two or more edits count.
 */
export function equivocatedEnd(m: Pick<MessageRecord, 'model' | 'author'>, counted: readonly EditRecord[]): EditRecord | undefined {
	if (m.model === undefined || counted.length < 2) return undefined;
	return equivocatedChoice(
		counted.filter((e) => e.author === m.author && signedEdit(e)),
		editContent
	);
}

/**
 * Whether the author of model answer `m` signed another answer naming its question for the same
 * asker (`answers`: the records naming it, one per id as views choose them; `signed` checks a
 * record's signature): honest hosts sign one answer per question, so the one that shows is
 * marked. Found in review: the relay replaced its answer with a second one dated before it.
 */
export function answeredTwice(m: MessageRecord, answers: readonly MessageRecord[], signed: (r: MessageRecord) => boolean): boolean {
	return answers.some((o) => o.id !== m.id && o.author === m.author && o.askedBy === m.askedBy && o.model === m.model && o.question === m.question && signed(o));
}

/** Whether `channel` holds an edit of message `msgId` signed by `signer` (an answer's end: honest hosts sign no other). */
export function endSignedBy(channel: ChannelDoc, msgId: string, signer: string): boolean {
	return channel.edits.toArray().some((e) => isEditRecord(e) && e.msg === msgId && e.author === signer && signedEdit(e));
}
