/**
 * What a document adds to, changes in and removes from the search index since it was last
 * indexed. Channels are read incrementally: messages, edits and deletion marks only grow, so
 * what arrived past the state vector stored at the last pass is read off the document's struct
 * store, and the records it needs of the rest (a message's record, its edits and marks) come from
 * the channel's {@link channelRecords}, kept in step with the loaded document: a pass costs what
 * arrived, not the channel (found in review: a pass carrying an edit read the channel whole).
 * Messages are indexed by their text as the channel shows it (the author's newest edit that
 * the channel's posting rules show: editRules.ts); deleted ones are dropped (and come back if
 * the deletion is undone). Which messages show (hidden by an admin, withheld by the rules) is
 * decided when searching, by the team as it is then (SearchState). Notes and AI threads are
 * small and are read whole when they changed; AI-chat messages count only with a signed record.
 *
 * Only what is signed counts, as in the channel view: a message record whose signature checks
 * out in this document, its author's newest edit whose signature checks out, and the author's
 * newest deletion mark whose signature checks out. Any member can write records and marks in
 * someone else's name (unsigned), which the view ignores; the index once believed them (found
 * in review: a forged "show again" mark brought a deleted message back into every member's
 * search, and a forged copy of a message replaced its text there and in workspace knowledge).
 * Signatures are checked synchronously, giving the event loop back every
 * {@link VERIFY_BATCH} checks, so a first pass over a long channel does not freeze the page.
 */
import * as Y from 'yjs';
import { AiThreadDoc } from '../../doc/AiThreadDoc.js';
import type { ReadDeletion } from '../../doc/ChannelDoc.js';
import { compareHlc, hlcWall } from '../../doc/hlc.js';
import { byNewest } from '../../doc/newestFirst.js';
import { editContent, equivocatedChoice } from '../../doc/answerEnds.js';
import { NoteDoc } from '../../doc/NoteDoc.js';
import type { AiRecord, EditRecord, MessageRecord } from '../../doc/schema.js';
import { signedDeletion, signedPost, type MessageMarks, type PostingRules } from '../../doc/channelRights.js';
import { editSigningBytes, verifyAiRecordNow, verifyBytesNow } from '../../doc/signature.js';
import { channelRecords } from './ChannelRecords.js';
import { editJudge, editorsOf, editRulesKey, type EditJudge } from './editRules.js';
import type { IndexChange } from './SearchIndex.js';
import { boundedText, SearchKind, type SearchDocRow, type SearchEntry, type SearchEntryRow } from './rows.js';

/** What extraction needs from the index: the stored entries of a document. */
export interface EntryLookup {
	entries(docId: string, itemIds: string[]): Promise<(SearchEntryRow | undefined)[]>;
	itemIds(docId: string): Promise<string[]>;
}

/** The previous pass over a document, if any. */
type Previous = Pick<SearchDocRow, 'sv' | 'deleted' | 'items' | 'editors' | 'rulesKey' | 'removed'> | undefined;

function decodeSv(prev: Previous): Map<number, number> | undefined {
	if (!prev) return new Map();
	try {
		return Y.decodeStateVector(prev.sv);
	} catch {
		return undefined; // damaged row: index the whole document again
	}
}

function messageEntry(docId: string, m: MessageRecord, latest: EditRecord | undefined): SearchEntry {
	return {
		docId,
		itemId: m.id,
		kind: SearchKind.message,
		...(m.parent !== undefined ? { parent: m.parent } : {}),
		author: m.author,
		text: latest ? latest.text : m.text,
		time: hlcWall(m.hlc),
		textHlc: latest ? latest.hlc : m.hlc
	};
}

/** Signature checks between two turns of the event loop. */
export const VERIFY_BATCH = 256;

/** Counts signature checks and gives the event loop back every {@link VERIFY_BATCH}. */
class Checks {
	private done = 0;

	async check(verify: () => boolean): Promise<boolean> {
		if (++this.done % VERIFY_BATCH === 0) await new Promise((resolve) => setTimeout(resolve, 0));
		return verify();
	}
}

/**
 * Verdicts on edits' signatures, by the record as its document holds it (never changed while it
 * exists). Found in review: a pass weighs every edit of a message that got one, newest first, so
 * a member's edits in its author's name, dated after hers and failing their checks, were each
 * checked again on every pass that brought one more (300 of them: 1,525 checks over 5 passes).
 */
const editChecks = new WeakMap<EditRecord, boolean>();

/** Whether edit `e`'s signature checks out (remembered; a check not made before counts in `checks`). */
async function editSigned(e: EditRecord, checks: Checks): Promise<boolean> {
	let ok = editChecks.get(e);
	if (ok === undefined) editChecks.set(e, (ok = await checks.check(() => verifyBytesNow(e.author, editSigningBytes(e), e.sig))));
	return ok;
}

/**
 * The newest edit of each message among `edits` that its author made, that `shows` (the
 * channel's rules: editRules.ts) and whose signature checks out (of a model answer whose author
 * signed different endings, the earliest: answerEnds.ts); `messageOf` gives each message.
 * Adds the devices whose roles decide which edits show to `editors`.
 */
async function latestEdits(
	edits: EditRecord[],
	messageOf: (msgId: string) => MessageRecord | undefined,
	shows: EditJudge,
	editors: Set<string>,
	checks: Checks,
	marks: Pick<MessageMarks, 'moderationMarks'>
): Promise<Map<string, EditRecord>> {
	const byMessage = new Map<string, EditRecord[]>();
	for (const e of edits) {
		if (messageOf(e.msg)?.author !== e.author) continue;
		const list = byMessage.get(e.msg) ?? [];
		list.push(e);
		byMessage.set(e.msg, list);
	}
	const out = new Map<string, EditRecord>();
	for (const [msg, list] of byMessage) {
		const m = messageOf(msg)!;
		for (const peer of editorsOf(m, marks)) editors.add(peer);
		// Newest first; two of one clock (a modified client's) by signature, so that the order they
		// are met in (array or arrival) does not decide.
		list.sort((a, b) => byNewest(a.hlc, a.sig, b.hlc, b.sig));
		if (m.model !== undefined) {
			// A model answer whose author signed different endings says its earliest, as in the view (answerEnds.ts).
			const counted: EditRecord[] = [];
			for (const e of list) if (shows(e, m) && (await editSigned(e, checks))) counted.push(e);
			const shown = equivocatedChoice(counted, editContent) ?? counted[0];
			if (shown !== undefined) out.set(msg, shown);
			continue;
		}
		for (const e of list) {
			if (!shows(e, m)) continue;
			if (await editSigned(e, checks)) {
				out.set(msg, e);
				break;
			}
		}
	}
	return out;
}

/** Whether the newest signed mark of a list (newest first) hides the message. */
async function newestSignedHides(list: readonly ReadDeletion[] | undefined, checks: Checks): Promise<boolean> {
	for (const read of list ?? []) if (await checks.check(() => signedDeletion(read))) return read.mark.deleted;
	return false;
}

/** Changes to index for a channel document since `prev`, under the channel's posting `rules` (see editRules.ts). */
export async function channelChanges(docId: string, doc: Y.Doc, prev: Previous, lookup: EntryLookup, rules?: PostingRules): Promise<IndexChange> {
	const records = channelRecords(doc, docId);
	const sv = decodeSv(prev);
	// A record or mark removed since (a local write: the state vector does not show it): read whole.
	const full = sv === undefined || !prev || (prev.removed ?? 0) !== records.removed;
	const delta = full ? undefined : records.since(sv);
	// What was read: taken before the first wait (found in review: taken when the pass ended, so
	// what a peer's update brought while the pass read the index or gave the event loop back was
	// counted as indexed and never read).
	const read = Y.encodeStateVector(doc);
	const removed = records.removed;
	const checks = new Checks();
	const signed = (m: MessageRecord) => checks.check(() => signedPost(m, docId));
	/** The record a view of the channel shows for each id that arrived (a forged copy never replaces it). */
	const fresh = new Map<string, MessageRecord>();
	for (const id of delta?.messageIds ?? records.byId.keys()) {
		const m = records.byId.get(id);
		if (m !== undefined && (await signed(m))) fresh.set(id, m);
	}
	// The rules say something else about the edited messages than when last indexed (a settings
	// mark arrived, an editor's role changed): every edit is weighed again.
	const recheck = !full && (prev.rulesKey ?? '') !== editRulesKey(rules, prev.editors ?? []);
	let newEdits = delta === undefined || recheck ? records.allEdits() : delta.edits;
	// Answers whose edits are weighed again (see below), with every edit of theirs.
	const reweigh = new Set<string>();
	/**
	 * Whether record `r` may answer question `questionId` as asked (its asker's, by the host it
	 * asked: channelRights.ts `answersAsAsked`): only such a record's edits are judged by the
	 * question's state. Found in review: every record naming a question was weighed again for any
	 * mark on it, so a member's thousands of records naming one, and one mark of hers per pass
	 * (anyone's mark lands; only the asker's counts), made every pass read them all.
	 */
	const mayAnswer = (r: MessageRecord, questionId: string): boolean => {
		const q = records.byId.get(questionId);
		return q?.ask !== undefined && r.model !== undefined && r.askedBy === q.author && r.author === q.ask.host;
	};
	const answersAsAsked = (questionId: string): string[] => records.namingQuestion(questionId).filter((id) => mayAnswer(records.byId.get(id)!, questionId));
	if (!full && !recheck) {
		// A question new here: its answers' edits may show now (a relay's edit shows only with its
		// question; found in review: an answer that arrived before its question was never indexed by
		// its text). An answer new here: it may now be the one answer that counts, and another's
		// edits stop showing (only an answer as asked can). A record met again under an id (a copy)
		// may have taken its place, question or not: the records naming that id are weighed again
		// whatever it is now (found in review: the asker's own copy of her question's id, placed
		// before it, made its answers her host's own posts in the view, while search still judged
		// their edits as answers).
		for (const m of fresh.values()) {
			for (const id of records.namingQuestion(m.id)) if (!fresh.has(id)) reweigh.add(id);
			if (m.question !== undefined && mayAnswer(m, m.question)) for (const id of answersAsAsked(m.question)) if (!fresh.has(id)) reweigh.add(id);
		}
		// A stored message with a new edit: all its edits are weighed again, as a whole read weighs
		// them (found in review: a new edit was taken only when dated after the text held, so an
		// author's edit dated before her message, or one of the held edit's clock that wins by
		// signature, stayed out of search on a replica that had indexed the message before).
		for (const e of delta!.edits) if (!fresh.has(e.msg)) reweigh.add(e.msg);
		// A question taken back or given back (its asker's deletion mark, a moderator's mark): its
		// answers' edits are weighed again (channelRights.ts `withdrawnBy`).
		for (const question of [...delta!.markIds, ...delta!.moderationIds]) for (const id of answersAsAsked(question)) if (!fresh.has(id)) reweigh.add(id);
		if (reweigh.size > 0) {
			const have = new Set(newEdits);
			newEdits = [...newEdits, ...[...reweigh].flatMap((id) => records.editsOf(id)).filter((e) => !have.has(e))];
		}
	}
	// Messages whose deletion may have changed: those with new marks or new records (every one on a
	// first pass). A message is left out when its author's newest signed mark hides it.
	const wasDeleted = new Set(full ? [] : (prev.deleted ?? []));
	const deleted = new Set(wasDeleted);
	const restoring = new Map<string, MessageRecord>();
	for (const id of delta ? new Set([...delta.markIds, ...delta.messageIds]) : records.deletions.keys()) {
		const m = records.byId.get(id);
		const ok = m !== undefined && (await signed(m));
		if (ok && (await newestSignedHides(records.deletions.get(id)?.get(m.author), checks))) deleted.add(id);
		else if (deleted.delete(id) && ok && !fresh.has(id)) restoring.set(id, m);
	}
	// Stored messages with edits to weigh.
	const lookupIds = [...new Set(newEdits.map((e) => e.msg))].filter((id) => !fresh.has(id) && !restoring.has(id) && !deleted.has(id));
	const stored = new Map<string, SearchEntryRow>();
	(await lookup.entries(docId, lookupIds)).forEach((row) => row && stored.set(row.itemId, row));
	// Their records, as a view shows them (their signatures were checked when they were indexed: again here).
	const storedRecords = new Map<string, MessageRecord>();
	for (const [id, row] of stored) {
		const m = records.byId.get(id);
		if (m !== undefined && m.author === row.author && (await signed(m))) storedRecords.set(id, m);
	}
	const messageOf = (id: string): MessageRecord | undefined => fresh.get(id) ?? restoring.get(id) ?? storedRecords.get(id);
	// New or restored messages may have edits that arrived earlier: all of theirs are weighed.
	let edits = newEdits;
	if (!full && !recheck && (fresh.size > 0 || restoring.size > 0)) {
		const have = new Set(edits);
		edits = [...edits, ...[...fresh.keys(), ...restoring.keys()].flatMap((id) => records.editsOf(id)).filter((e) => !have.has(e))];
	}
	const editors = new Set<string>(full || recheck ? [] : (prev.editors ?? []));
	const latest = await latestEdits(edits, messageOf, editJudge(rules, docId, () => records.byId, records.answersTo, records), editors, checks, records);
	const put: SearchEntry[] = [];
	for (const m of [...fresh.values(), ...restoring.values()]) {
		if (!deleted.has(m.id)) put.push(messageEntry(docId, m, latest.get(m.id)));
	}
	for (const [id, row] of stored) {
		// Every edit of a stored message with one to weigh was weighed again (recheck, reweigh): the
		// text is the newest that shows now, or the original.
		const m = storedRecords.get(id);
		const entry = m && messageEntry(docId, m, latest.get(id));
		if (entry && (entry.textHlc !== row.textHlc || entry.text !== row.text)) put.push({ ...stripRow(row), text: entry.text, textHlc: entry.textHlc });
	}
	const remove = [...deleted].filter((id) => !wasDeleted.has(id)).map((itemId) => ({ docId, itemId }));
	if (full && prev) {
		// Re-reading a document whose progress row was damaged: drop entries it no longer has.
		const keep = new Set(put.map((e) => e.itemId));
		for (const itemId of await lookup.itemIds(docId)) if (!keep.has(itemId)) remove.push({ docId, itemId });
	}
	const editorList = [...editors].sort();
	return { put, remove, doc: { docId, sv: read, deleted: [...deleted], editors: editorList, rulesKey: editRulesKey(rules, editorList), removed } };
}

/** Changes to index for a note: one entry with its title and body (none when both are empty). */
export function noteChanges(docId: string, doc: Y.Doc, updatedAt = 0): IndexChange {
	const note = new NoteDoc(doc);
	const title = boundedText(note.title.trim());
	const text = boundedText(note.body.toString());
	const sv = Y.encodeStateVector(doc);
	if (!title && !text.trim()) return { remove: [{ docId, itemId: docId }], doc: { docId, sv } };
	return { put: [{ docId, itemId: docId, kind: SearchKind.note, title, text, time: updatedAt }], doc: { docId, sv } };
}

/**
 * Changes to index for an AI thread: its messages with text whose signed record checks out in
 * this chat; those gone since `prev` are dropped. An entry without a record (an answer still
 * being written, or one anyone wrote into the chat's live entries, which the chat shows marked
 * unsigned) is not indexed: a result shows no such mark (found in review: a member's forged
 * question in another member's name was found by its words as that member's). An answer is
 * indexed once its signed record arrives.
 */
export async function aiThreadChanges(docId: string, doc: Y.Doc, prev: Previous): Promise<IndexChange> {
	const checks = new Checks();
	const put: SearchEntry[] = [];
	for (const m of new AiThreadDoc(doc).list()) {
		const { record } = m;
		if (record === undefined || m.text.trim().length === 0) continue;
		if (!(await checks.check(() => aiRecordSigned(record, docId)))) continue;
		put.push({ docId, itemId: m.id, kind: SearchKind.ai, author: m.author, text: boundedText(m.text), time: hlcWall(m.hlc) });
	}
	const now = new Set(put.map((e) => e.itemId));
	const remove = (prev?.items ?? []).filter((id) => !now.has(id)).map((itemId) => ({ docId, itemId }));
	return { put, remove, doc: { docId, sv: Y.encodeStateVector(doc), items: [...now] } };
}

/**
 * Verdicts on AI-chat records, by the record as its document holds it (never changed while it
 * exists): a chat is read whole on every change, a token at a time while an answer streams.
 */
const aiRecordChecks = new WeakMap<AiRecord, { docId: string; ok: boolean }>();

/** Whether an AI-chat record's signature checks out in chat `docId` (remembered). */
function aiRecordSigned(record: AiRecord, docId: string): boolean {
	const known = aiRecordChecks.get(record);
	if (known?.docId === docId) return known.ok;
	const ok = verifyAiRecordNow(record, docId);
	aiRecordChecks.set(record, { docId, ok });
	return ok;
}

function stripRow(row: SearchEntryRow): SearchEntry {
	const { id: _id, workspaceId: _ws, ...entry } = row;
	return entry;
}
