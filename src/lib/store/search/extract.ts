/**
 * What a document adds to, changes in and removes from the search index since it was last
 * indexed. Channels are read incrementally: messages and edits are append-only arrays, so
 * {@link recordsSince} with the state vector stored at the last pass yields just the new
 * records; deletions are a sparse map compared with the deletions applied last time.
 * Messages are indexed by their latest text (the author's newest edit); deleted ones are
 * dropped (and come back if the deletion is undone). Notes and AI threads are small and are
 * read whole when they changed.
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
import type { EditRecord, MessageRecord } from '../../doc/schema.js';
import { isEditRecord, isMessageRecord } from '../../doc/validate.js';
import { replacesHeld } from '../../doc/recordChoice.js';
import { signedDeletion } from '../../doc/channelRights.js';
import { editSigningBytes, verifyBytesNow, verifyMessageNow } from '../../doc/signature.js';
import type { IndexChange } from './SearchIndex.js';
import { SearchKind, type SearchDocRow, type SearchEntry, type SearchEntryRow } from './rows.js';

/** What extraction needs from the index: the stored entries of a document. */
export interface EntryLookup {
	entries(docId: string, itemIds: string[]): Promise<(SearchEntryRow | undefined)[]>;
	itemIds(docId: string): Promise<string[]>;
}

/** The previous pass over a document, if any. */
type Previous = Pick<SearchDocRow, 'sv' | 'deleted' | 'items'> | undefined;

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

/** The author's newest edit of each message among `edits` whose signature checks out (`authorOf` gives each message's author). */
async function latestEdits(edits: EditRecord[], authorOf: (msgId: string) => string | undefined, checks: Checks): Promise<Map<string, EditRecord>> {
	const byMessage = new Map<string, EditRecord[]>();
	for (const e of edits) {
		if (authorOf(e.msg) !== e.author) continue;
		const list = byMessage.get(e.msg) ?? [];
		list.push(e);
		byMessage.set(e.msg, list);
	}
	const out = new Map<string, EditRecord>();
	for (const [msg, list] of byMessage) {
		list.sort((a, b) => compareHlc(b.hlc, a.hlc));
		for (const e of list) {
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

/** Changes to index for a channel document since `prev`. */
export async function channelChanges(docId: string, doc: Y.Doc, prev: Previous, lookup: EntryLookup): Promise<IndexChange> {
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
	const newEdits = recordsSince(channel.edits, since).filter(isEditRecord);
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
	const authorOf = (id: string) => fresh.get(id)?.author ?? restoring.get(id)?.author ?? stored.get(id)?.author;
	// New or restored messages may have edits that arrived earlier: consider every edit then.
	const edits = fresh.size > 0 || restoring.size > 0 ? channel.edits.toArray().filter(isEditRecord) : newEdits;
	const latest = await latestEdits(edits, authorOf, checks);
	const deleted = new Set<string>();
	for (const id of wasDeleted) if (!restored.includes(id)) deleted.add(id);
	for (const id of newlyDeletedIds) {
		const author = authorOf(id);
		if (author !== undefined && (await newestSignedHides(deletions.get(id)?.get(author), checks))) deleted.add(id);
	}
	const put: SearchEntry[] = [];
	for (const m of [...fresh.values(), ...restoring.values()]) {
		if (!deleted.has(m.id)) put.push(messageEntry(docId, m, latest.get(m.id)));
	}
	for (const [id, row] of stored) {
		const edit = latest.get(id);
		if (deleted.has(id) || !edit || compareHlc(edit.hlc, row.textHlc ?? '') <= 0) continue;
		put.push({ ...stripRow(row), text: edit.text, textHlc: edit.hlc });
	}
	const remove = [...deleted].filter((id) => !wasDeleted.has(id)).map((itemId) => ({ docId, itemId }));
	if (full && prev) {
		// Re-reading a document whose progress row was damaged: drop entries it no longer has.
		const keep = new Set(put.map((e) => e.itemId));
		for (const itemId of await lookup.itemIds(docId)) if (!keep.has(itemId)) remove.push({ docId, itemId });
	}
	return { put, remove, doc: { docId, sv: Y.encodeStateVector(doc), deleted: [...deleted] } };
}

/** Changes to index for a note: one entry with its title and body (none when both are empty). */
export function noteChanges(docId: string, doc: Y.Doc, updatedAt = 0): IndexChange {
	const note = new NoteDoc(doc);
	const title = note.title.trim();
	const text = note.body.toString();
	const sv = Y.encodeStateVector(doc);
	if (!title && !text.trim()) return { remove: [{ docId, itemId: docId }], doc: { docId, sv } };
	return { put: [{ docId, itemId: docId, kind: SearchKind.note, title, text, time: updatedAt }], doc: { docId, sv } };
}

/** Changes to index for an AI thread: its messages with text; those gone since `prev` are dropped. */
export function aiThreadChanges(docId: string, doc: Y.Doc, prev: Previous): IndexChange {
	const put: SearchEntry[] = new AiThreadDoc(doc)
		.list()
		.filter((m) => m.text.trim().length > 0)
		.map((m) => ({ docId, itemId: m.id, kind: SearchKind.ai, author: m.author, text: m.text, time: hlcWall(m.hlc) }));
	const now = new Set(put.map((e) => e.itemId));
	const remove = (prev?.items ?? []).filter((id) => !now.has(id)).map((itemId) => ({ docId, itemId }));
	return { put, remove, doc: { docId, sv: Y.encodeStateVector(doc), items: [...now] } };
}

function stripRow(row: SearchEntryRow): SearchEntry {
	const { id: _id, workspaceId: _ws, ...entry } = row;
	return entry;
}
