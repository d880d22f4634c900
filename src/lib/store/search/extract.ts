/**
 * What a document adds to, changes in and removes from the search index since it was last
 * indexed. Channels are read incrementally: messages and edits are append-only arrays, so
 * {@link recordsSince} with the state vector stored at the last pass yields just the new
 * records; deletions are a sparse map compared with the deletions applied last time.
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
import { ChannelDoc, deletionIndex, recordsSince, type ReadDeletion } from '../../doc/ChannelDoc.js';
import { compareHlc, hlcWall } from '../../doc/hlc.js';
import { NoteDoc } from '../../doc/NoteDoc.js';
import type { AiRecord, EditRecord, MessageRecord } from '../../doc/schema.js';
import { isEditRecord, isMessageRecord } from '../../doc/validate.js';
import { replacesHeld } from '../../doc/recordChoice.js';
import { recordsById, signedDeletion, signedPost, type PostingRules } from '../../doc/channelRights.js';
import { editSigningBytes, verifyAiRecordNow, verifyBytesNow, verifyMessageNow } from '../../doc/signature.js';
import { editJudge, editorsOf, editRulesKey, type EditJudge } from './editRules.js';
import type { IndexChange } from './SearchIndex.js';
import { boundedText, SearchKind, type SearchDocRow, type SearchEntry, type SearchEntryRow } from './rows.js';

/** What extraction needs from the index: the stored entries of a document. */
export interface EntryLookup {
	entries(docId: string, itemIds: string[]): Promise<(SearchEntryRow | undefined)[]>;
	itemIds(docId: string): Promise<string[]>;
}

/** The previous pass over a document, if any. */
type Previous = Pick<SearchDocRow, 'sv' | 'deleted' | 'items' | 'editors' | 'rulesKey'> | undefined;

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

/** The record of each id (among those `wanted`) that a channel view shows of `records`: recordChoice.ts. */
async function chooseRecords(records: Iterable<unknown>, wanted: (id: string) => boolean, docId: string, checks: Checks): Promise<Map<string, MessageRecord>> {
	const chosen = new Map<string, MessageRecord>();
	for (const r of records) {
		if (!isMessageRecord(r) || !wanted(r.id)) continue;
		const held = chosen.get(r.id);
		if (held === undefined) {
			if (await checks.check(() => verifyMessageNow(r, docId))) chosen.set(r.id, r);
		} else if (replacesHeld(held, r, (m) => m === held || verifyMessageNow(m, docId))) {
			chosen.set(r.id, r);
		}
	}
	return chosen;
}

/**
 * The newest edit of each message among `edits` that its author made, that `shows` (the
 * channel's rules: editRules.ts) and whose signature checks out; `messageOf` gives each
 * message. Adds the devices whose roles decide which edits show to `editors`.
 */
async function latestEdits(
	edits: EditRecord[],
	messageOf: (msgId: string) => MessageRecord | undefined,
	shows: EditJudge,
	editors: Set<string>,
	checks: Checks
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
		for (const peer of editorsOf(m)) editors.add(peer);
		list.sort((a, b) => compareHlc(b.hlc, a.hlc));
		for (const e of list) {
			if (!shows(e, m)) continue;
			if (await checks.check(() => verifyBytesNow(e.author, editSigningBytes(e), e.sig))) {
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
	const channel = new ChannelDoc(doc);
	const sv = decodeSv(prev);
	const full = sv === undefined || !prev;
	const since = sv ?? new Map<number, number>();
	const checks = new Checks();
	/** The record of each new id that a view of the channel shows (a forged copy never replaces it). */
	const fresh = await chooseRecords(recordsSince(channel.messages, since), () => true, docId, checks);
	if (!full && fresh.size > 0) {
		// An id already indexed met again (another member's copy of it): choose among all its records, as a view does.
		const known = new Set((await lookup.entries(docId, [...fresh.keys()])).flatMap((row) => (row ? [row.itemId] : [])));
		if (known.size > 0) for (const [id, r] of await chooseRecords(channel.messages.toArray(), (id) => known.has(id), docId, checks)) fresh.set(id, r);
	}
	// The rules say something else about the edited messages than when last indexed (a settings
	// mark arrived, an editor's role changed): every edit is weighed again.
	const recheck = !full && (prev.rulesKey ?? '') !== editRulesKey(rules, prev.editors ?? []);
	const allEdits = () => channel.edits.toArray().filter(isEditRecord);
	/** The channel's records by id as its views choose them (read once, when needed). */
	let byId: Map<string, MessageRecord> | undefined;
	const records = () => (byId ??= recordsById(channel.messages.toArray(), docId));
	let newEdits = recheck ? allEdits() : recordsSince(channel.edits, since).filter(isEditRecord);
	// A question new here: the edits of answers already indexed that name it are weighed again (a
	// relay's edit shows only with its question; found in review: an answer that arrived before its
	// question was never indexed by its text).
	const freshQuestions = new Set([...fresh.values()].filter((m) => m.ask !== undefined && m.model === undefined).map((m) => m.id));
	if (!full && !recheck && freshQuestions.size > 0) {
		const answers = new Set<string>();
		for (const m of records().values()) if (m.question !== undefined && freshQuestions.has(m.question) && !fresh.has(m.id)) answers.add(m.id);
		if (answers.size > 0) {
			const have = new Set(newEdits);
			newEdits = [...newEdits, ...allEdits().filter((e) => answers.has(e.msg) && !have.has(e))];
		}
	}
	const wasDeleted = new Set(full ? [] : (prev?.deleted ?? []));
	const deletions = deletionIndex(channel);
	/** Whether some author's newest signed mark hides the message (whether that author wrote it is checked below). */
	const hiddenBySomeone = async (id: string): Promise<boolean> => {
		for (const list of deletions.get(id)?.values() ?? []) if (await newestSignedHides(list, checks)) return true;
		return false;
	};
	const restored: string[] = [];
	for (const id of wasDeleted) if (!(await hiddenBySomeone(id))) restored.push(id);
	// Messages whose stored rows are needed: edited, newly deleted.
	const newlyDeletedIds: string[] = [];
	for (const id of deletions.keys()) if (!wasDeleted.has(id) && (await hiddenBySomeone(id))) newlyDeletedIds.push(id);
	const lookupIds = [...new Set([...newEdits.map((e) => e.msg), ...newlyDeletedIds])].filter((id) => !fresh.has(id));
	const stored = new Map<string, SearchEntryRow>();
	(await lookup.entries(docId, lookupIds)).forEach((row) => row && stored.set(row.itemId, row));
	// Restored messages are not stored: find their records (rare, so a scan is fine).
	const restoring = new Map<string, MessageRecord>();
	if (restored.length > 0) {
		const wanted = new Set(restored);
		for (const [id, r] of await chooseRecords(channel.messages.toArray(), (id) => wanted.has(id), docId, checks)) restoring.set(id, r);
	}
	// The records of stored messages with edits to weigh, as a view shows them (their signatures were checked when they were indexed: again here).
	const storedRecords = new Map<string, MessageRecord>();
	for (const id of new Set(newEdits.map((e) => e.msg))) {
		const row = stored.get(id);
		const m = row ? records().get(id) : undefined;
		if (m !== undefined && m.author === row?.author && (await checks.check(() => signedPost(m, docId)))) storedRecords.set(id, m);
	}
	const messageOf = (id: string): MessageRecord | undefined => fresh.get(id) ?? restoring.get(id) ?? storedRecords.get(id);
	// New or restored messages may have edits that arrived earlier: consider every edit then.
	const edits = !recheck && (fresh.size > 0 || restoring.size > 0) ? allEdits() : newEdits;
	const editors = new Set<string>(full || recheck ? [] : (prev.editors ?? []));
	const latest = await latestEdits(edits, messageOf, editJudge(rules, docId, records), editors, checks);
	const deleted = new Set<string>();
	for (const id of wasDeleted) if (!restored.includes(id)) deleted.add(id);
	for (const id of newlyDeletedIds) {
		const author = messageOf(id)?.author ?? stored.get(id)?.author;
		if (author !== undefined && (await newestSignedHides(deletions.get(id)?.get(author), checks))) deleted.add(id);
	}
	const put: SearchEntry[] = [];
	for (const m of [...fresh.values(), ...restoring.values()]) {
		if (!deleted.has(m.id)) put.push(messageEntry(docId, m, latest.get(m.id)));
	}
	for (const [id, row] of stored) {
		const edit = latest.get(id);
		if (deleted.has(id)) continue;
		if (recheck) {
			// Every edit was weighed again: the text is the newest that shows now, or the original.
			const m = storedRecords.get(id);
			const entry = m && messageEntry(docId, m, edit);
			if (entry && entry.textHlc !== row.textHlc) put.push({ ...stripRow(row), text: entry.text, textHlc: entry.textHlc });
		} else if (edit && compareHlc(edit.hlc, row.textHlc ?? '') > 0) {
			put.push({ ...stripRow(row), text: edit.text, textHlc: edit.hlc });
		}
	}
	const remove = [...deleted].filter((id) => !wasDeleted.has(id)).map((itemId) => ({ docId, itemId }));
	if (full && prev) {
		// Re-reading a document whose progress row was damaged: drop entries it no longer has.
		const keep = new Set(put.map((e) => e.itemId));
		for (const itemId of await lookup.itemIds(docId)) if (!keep.has(itemId)) remove.push({ docId, itemId });
	}
	const editorList = [...editors].sort();
	return { put, remove, doc: { docId, sv: Y.encodeStateVector(doc), deleted: [...deleted], editors: editorList, rulesKey: editRulesKey(rules, editorList) } };
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
