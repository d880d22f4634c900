/**
 * The write policy of a channel document: its history only grows. Every replica runs it on
 * every remote update before the update touches the document (writePolicy.ts), so a member
 * with a modified client cannot rewrite what others wrote:
 *
 * - `messages` and `edits` are append-only arrays of signed records: no item of theirs may be
 *   deleted (a hard delete, an edit rolled back), and none may arrive deleted;
 * - `deletions`, `reactions` and `moderation` are maps of signed marks whose entries are set once: an entry
 *   cannot be overwritten (an undelete, a reaction rewritten) nor deleted; a change of mind is
 *   a newer mark (ChannelDoc.ts);
 * - records are plain values (no nested shared types);
 * - any other top-level name is refused, except `answers` (a model's live answer, written as it
 *   streams; the finished answer is the answering peer's signed edit, which views trust).
 *
 * A deletion the document already holds may be repeated (a full state carries the whole delete
 * set). Whether a record's signature and author's rights check out is the view's call, lazily
 * (ChannelView, ChannelState): this policy keeps what it must not lose from being removed.
 */
import * as Y from 'yjs';
import { decodeForCheck, overlapping, type AnyStruct } from './updateStructs.js';

/** Top-level names of a channel document and their rules. */
const ROOTS: Record<string, 'array' | 'once' | 'live'> = {
	messages: 'array',
	edits: 'array',
	deletions: 'once',
	reactions: 'once',
	moderation: 'once',
	answers: 'live'
};

/** Why `update` would rewrite the history of channel document `doc`, or undefined when it only adds. */
export function checkChannelUpdate(doc: Y.Doc, update: Uint8Array): string | undefined {
	const checked = decodeForCheck(doc, update);
	if (checked === undefined) return 'undecodable update';
	const { decoded, store, inUpdate, find } = checked;
	// Types that only arrived in updates are placeholders until asked for by kind; asking
	// replaces them (and re-parents their items), so it happens before their names are noted.
	for (const [name, rule] of Object.entries(ROOTS)) {
		if (!doc.share.has(name)) continue;
		try {
			if (rule === 'array') doc.getArray(name);
			else doc.getMap(name);
		} catch {
			return `"${name}" has the wrong type`;
		}
	}
	const names = new Map<unknown, string>();
	for (const [name, type] of doc.share) names.set(type, name);
	/** The top-level name an item lives under, and whether it sits directly in it. */
	const placeOf = (struct: AnyStruct | undefined, depth = 0): { root: string; direct: boolean } | undefined => {
		if (!(struct instanceof Y.Item) || depth > 10_000) return undefined;
		const parent = struct.parent as unknown;
		if (typeof parent === 'string') return { root: parent, direct: true };
		if (parent instanceof Y.ID) {
			const place = placeOf(find(parent.client, parent.clock), depth + 1);
			return place && { root: place.root, direct: false };
		}
		if (parent instanceof Y.AbstractType) {
			const name = names.get(parent);
			if (name !== undefined) return { root: name, direct: true };
			const place = placeOf(parent._item ?? undefined, depth + 1);
			return place && { root: place.root, direct: false };
		}
		// Sent with an origin: it sits where its neighbour does.
		const near = struct.origin ?? struct.rightOrigin;
		return near === null ? undefined : placeOf(find(near.client, near.clock), depth + 1);
	};
	const setKeys = new Set<string>();
	/** The clock up to which the document holds a client's structs. */
	const stateOf = (client: number): number => {
		const list = store.get(client);
		const last = list?.[list.length - 1];
		return last === undefined ? 0 : last.id.clock + last.length;
	};
	for (const struct of decoded.structs) {
		// What the document holds already (a full state repeats it) is skipped by Yjs too.
		if (!(struct instanceof Y.Item) || struct.id.clock + struct.length <= stateOf(struct.id.client)) continue;
		const place = placeOf(struct);
		if (place === undefined) continue; // its neighbour has not arrived: Yjs keeps it pending, checked again then
		const rule = ROOTS[place.root];
		if (rule === undefined) return `a channel has no "${place.root}"`;
		if (rule === 'live') continue;
		if (struct.content instanceof Y.ContentDeleted) return 'a record cannot arrive deleted';
		if (!place.direct || !(struct.content instanceof Y.ContentAny)) return 'a record is a plain value';
		if (rule === 'once') {
			// An entry sent with an origin continues an older entry of its key: an overwrite.
			const key = struct.parentSub;
			if (typeof struct.parent !== 'string' || key === null) return 'a record cannot be overwritten';
			const map = mapOf(doc, place.root);
			if (map === undefined || map.has(key) || setKeys.has(`${place.root}\n${key}`)) return 'a record cannot be overwritten';
			setKeys.add(`${place.root}\n${key}`);
		}
	}
	// Deletions: none may remove a record the document holds, or one arriving in this update.
	for (const [client, ranges] of decoded.ds.clients) {
		for (const range of ranges) {
			for (const struct of overlapping(store.get(client), range.clock, range.len)) {
				if (struct instanceof Y.Item && !struct.deleted && isRecord(placeOf(struct))) return 'a record cannot be deleted';
			}
			for (const struct of overlapping(inUpdate.get(client), range.clock, range.len)) {
				if (isRecord(placeOf(struct))) return 'a record cannot arrive deleted';
			}
		}
	}
	return undefined;
}

function isRecord(place: { root: string } | undefined): boolean {
	const rule = place && ROOTS[place.root];
	return rule === 'array' || rule === 'once';
}

/** The document's map `name` (a type that only arrived in updates becomes one when asked); undefined when it is another type. */
function mapOf(doc: Y.Doc, name: string): Y.Map<unknown> | undefined {
	try {
		return doc.getMap(name);
	} catch {
		return undefined;
	}
}
