/**
 * The engine under the "only grows" write policies (channelPolicy.ts, rootPolicy.ts): it reads
 * a remote update against the document it would change and says whether the update would
 * remove or rewrite anything kept under a protected top-level name.
 *
 * Rules per top-level name:
 * - `array`: an array of plain records, appended; none is ever deleted;
 * - `once`: a map of plain records, one per key, set once; none is overwritten or deleted;
 * - `index`: a map of Y.Map entries, each added once with its fields, none of which is later
 *   overwritten or deleted (a channel index entry as its creator made it);
 * - `entries`: a map of Y.Map entries, each added once and never overwritten or deleted, whose
 *   plain fields may change (a note's listing: its title and last edit follow the note);
 * - `live`: anything goes (a model's answer streaming).
 * Names without a rule are refused or let through, as the caller says.
 *
 * A deletion the document already holds may be repeated (a full state carries the whole delete
 * set), and what the document holds already is skipped, as Yjs skips it.
 */
import * as Y from 'yjs';
import { decodeForCheck, overlapping, type AnyStruct, type CheckedUpdate } from './updateStructs.js';

export type GrowthRule = 'array' | 'once' | 'index' | 'entries' | 'live';

/** What `fresh` asks of a map: whether it holds a key. */
interface KeySet {
	has(key: string): boolean;
}

const NO_KEYS: KeySet = { has: () => false };

/** Why `update` would remove or rewrite what `rules` keep, or undefined. `already`: the update already decoded for the check. */
export function inspectGrowth(
	doc: Y.Doc,
	update: Uint8Array,
	rules: Record<string, GrowthRule>,
	unknownRoots: 'refuse' | 'allow',
	what: string,
	already?: CheckedUpdate,
	/** For `once` maps that need it: whether a new entry's value fits its key (markKey.ts `fitsKey`). */
	fits?: Record<string, (key: string, value: unknown) => boolean>
): string | undefined {
	const checked = already ?? decodeForCheck(doc, update);
	if (checked === undefined) return 'undecodable update';
	const { decoded, store, inUpdate } = checked;
	const find = (client: number, clock: number) => checked.find(client, clock);
	// Types that only arrived in updates are placeholders until asked for by kind; asking
	// replaces them (and re-parents their items), so it happens before their names are noted.
	for (const [name, rule] of Object.entries(rules)) {
		if (!doc.share.has(name) || rule === 'live') continue;
		try {
			if (rule === 'array') doc.getArray(name);
			else doc.getMap(name);
		} catch {
			return `"${name}" has the wrong type`;
		}
	}
	const names = new Map<unknown, string>();
	for (const [name, type] of doc.share) names.set(type, name);
	/**
	 * The top-level name an item lives under, and how deep (0: directly in it); undefined when
	 * that is not known yet (a neighbour or parent not arrived, or a chain that loops).
	 */
	const placeOf = placesIn(names, find);
	const isKept = (place: Place | undefined): boolean => {
		const rule = place && rules[place.root];
		return rule === 'array' || rule === 'once' || rule === 'index' || (rule === 'entries' && place!.level === 0);
	};
	/** The clock up to which the document holds a client's structs. */
	const stateOf = (client: number): number => {
		const list = store.get(client);
		const last = list?.[list.length - 1];
		return last === undefined ? 0 : last.id.clock + last.length;
	};
	const setKeys = new Set<string>();
	for (const struct of decoded.structs) {
		if (!(struct instanceof Y.Item) || struct.id.clock + struct.length <= stateOf(struct.id.client)) continue;
		const place = placeOf(struct);
		if (place === undefined) continue; // its neighbour has not arrived: Yjs keeps it pending, checked again then
		const rule = rules[place.root];
		if (rule === undefined) {
			if (unknownRoots === 'refuse') return `${what} has no "${place.root}"`;
			continue;
		}
		if (rule === 'live') continue;
		if (rule === 'entries' && place.level > 0) {
			// A field of a listing: set and set again, so an older value arrives deleted in a full
			// state; only as a plain value of the entry itself.
			if (place.level !== 1 || !(struct.content instanceof Y.ContentAny || struct.content instanceof Y.ContentDeleted)) return 'a listing holds plain fields only';
			continue;
		}
		if (struct.content instanceof Y.ContentDeleted) return 'a record cannot arrive deleted';
		// An entry sent with an origin continues an older entry of its key: an overwrite.
		const fresh = (key: string | null, container: KeySet | undefined, scope: string): boolean => {
			if (key === null || container === undefined || container.has(key) || setKeys.has(`${scope}\n${key}`)) return false;
			setKeys.add(`${scope}\n${key}`);
			return true;
		};
		if (rule === 'array') {
			if (place.level !== 0 || !(struct.content instanceof Y.ContentAny)) return 'a record is a plain value';
			continue;
		}
		if (place.level === 0) {
			const plain = struct.content instanceof Y.ContentAny;
			if (rule === 'once' ? !plain : !(struct.content instanceof Y.ContentType)) return 'a record has the wrong shape';
			if (typeof struct.parent !== 'string' || !fresh(struct.parentSub, mapOf(doc, place.root), place.root)) return 'a record cannot be overwritten';
			const fit = fits?.[place.root];
			if (fit !== undefined && struct.parentSub !== null && struct.content instanceof Y.ContentAny && !fit(struct.parentSub, struct.content.arr[0])) {
				return 'a mark is stored under a key that is not its own';
			}
			continue;
		}
		const parent = struct.parent as unknown;
		// A field of an index entry, set when the entry was made.
		if (rule === 'once' || place.level !== 1 || !(parent instanceof Y.ID) || !(struct.content instanceof Y.ContentAny)) {
			return 'a record cannot be overwritten';
		}
		const entry = find(parent.client, parent.clock);
		// An entry arriving in this update holds no keys yet (its map is not in a document, and would warn when read).
		const type = entry instanceof Y.Item && entry.content instanceof Y.ContentType ? entry.content.type : undefined;
		const held = type instanceof Y.Map && type.doc !== null ? type : NO_KEYS;
		if (!fresh(struct.parentSub, held, `${parent.client}:${parent.clock}`)) return 'a record cannot be overwritten';
	}
	// Deletions: none may remove a record the document holds, or one arriving in this update.
	for (const [client, ranges] of decoded.ds.clients) {
		for (const range of ranges) {
			for (const struct of overlapping(store.get(client), range.clock, range.len)) {
				if (struct instanceof Y.Item && !struct.deleted && isKept(placeOf(struct))) return 'a record cannot be deleted';
			}
			for (const struct of overlapping(inUpdate.get(client), range.clock, range.len)) {
				if (isKept(placeOf(struct))) return 'a record cannot arrive deleted';
			}
		}
	}
	return undefined;
}

/** Where an item lives: under which top-level name, and how deep (0: directly in it). */
interface Place {
	root: string;
	level: number;
}

/**
 * The place of each item, walked without recursion and remembered, so an update of n chained
 * items costs O(n) (found in review: walked recursively from every item, a 224 KB update of
 * 16,000 items each placed next to the one before took a second and overflowed the stack, and
 * a chain longer than the walk's old depth cap of 10,000 left its tail unchecked).
 */
function placesIn(names: Map<unknown, string>, find: (client: number, clock: number) => AnyStruct | undefined): (struct: AnyStruct | undefined) => Place | undefined {
	const places = new Map<Y.Item, Place | null>();
	return (start) => {
		/** The items walked, and whether each goes one level up (through its parent) to the next. */
		const walked: Array<{ item: Y.Item; up: boolean }> = [];
		const onWalk = new Set<Y.Item>();
		let next: AnyStruct | undefined = start;
		let found: Place | null = null;
		while (next instanceof Y.Item && !onWalk.has(next)) {
			const item: Y.Item = next;
			const known = places.get(item);
			if (known !== undefined) {
				found = known;
				break;
			}
			const parent = item.parent as unknown;
			// Decoded items name a root type by its name (a string); the document's by the type.
			const name = typeof parent === 'string' ? parent : names.get(parent);
			if (name !== undefined) {
				found = { root: name, level: 0 };
				places.set(item, found);
				break;
			}
			onWalk.add(item);
			if (parent instanceof Y.ID) {
				walked.push({ item, up: true });
				next = find(parent.client, parent.clock);
			} else if (parent instanceof Y.AbstractType) {
				walked.push({ item, up: true });
				next = parent._item ?? undefined;
			} else {
				// Sent with an origin: it sits where its neighbour does.
				walked.push({ item, up: false });
				const near = item.origin ?? item.rightOrigin;
				next = near === null ? undefined : find(near.client, near.clock);
			}
		}
		// Each walked item sits where the next one does, a level deeper when it went through a parent.
		for (let i = walked.length - 1; i >= 0; i--) {
			const { item, up } = walked[i]!;
			if (found !== null && up) found = { root: found.root, level: found.level + 1 };
			places.set(item, found);
		}
		return found ?? undefined;
	};
}

/** The document's map `name` (a type that only arrived in updates becomes one when asked); undefined when it is another type. */
function mapOf(doc: Y.Doc, name: string): Y.Map<unknown> | undefined {
	try {
		return doc.getMap(name);
	} catch {
		return undefined;
	}
}
