/**
 * The write policy of a note document: edits only from members allowed to write. Yjs items
 * carry their writer's client id, a random number per loaded copy of the document; a writer
 * binds its client id to its device with a signed binding (schema.ts `ClientBinding`, kept in
 * the note's `bindings` map, set once per client, written in the same transaction as the
 * client's first edit: noteBinding.ts). Once a note holds bindings, every replica refuses a
 * remote update carrying items of a client that no binding with a valid signature ties to a
 * device that wrote notes: one of an owner, admin or member, never a guest's or a relay's.
 * A device removed or demoted since still counts (TeamAuthority `wroteNotes`), or a note it
 * once edited would never reach a newcomer; what it writes after its removal is kept out by
 * the carrier rule below.
 *
 * Yjs deletions carry no client id, and nothing stops a peer from sending items under another
 * client's id, so the bytes alone cannot say who wrote or deleted: the sender's role decides
 * that. Note content (new items or new deletions) is taken only from a peer the team lets
 * write notes, or from its relay, which passes on what writers wrote (`fromCarrier`: the
 * session's peer, gossip's signed publisher). A guest, a removed member or a stranger cannot
 * write, delete or forge an item under a writer's client; their honest clients never pass a
 * note on (teamGate.ts `mayShare`).
 *
 * Limits: a note without bindings (made before bindings) accepts items from any carrier, as
 * before; and a writer (or the relay) can still delete any text, or write under another
 * writer's client id (README "Notes bound to their writers").
 */
import * as Y from 'yjs';
import type { ClientBinding } from './schema.js';
import { heldMap } from './heldMap.js';
import { verifyBindingNow } from './signature.js';
import { inspectGrowth, type GrowthRule } from './growth.js';
import { decodeForCheck, overlapping, overlapStart, type AnyStruct, type CheckedUpdate } from './updateStructs.js';
import { decodeUpdateShared } from './decodedUpdate.js';

/** Whether the edits bound to a device count: it wrote notes at some time (TeamAuthority `wroteNotes`). */
export type IsWriter = (device: string) => boolean;

const ROOTS: Record<string, GrowthRule> = {
	bindings: 'once',
	body: 'live',
	meta: 'live',
	tags: 'live',
	// Appended, never deleted (found in review: any member erased the others' snapshots).
	snapshots: 'array'
};

/** The top-level names a note has: an update that adds another is refused (see {@link foreignRoot}). */
const NOTE_ROOTS = new Set(Object.keys(ROOTS));

/**
 * A top-level name outside a note's own that the update writes under, or undefined. Found in
 * review: a member wrote a `records` (or `reactions`) entry into a note, and replicas without
 * the root's listing then checked it as an AI chat (or a channel), refusing its writers' edits.
 */
function foreignRoot(decoded: ReturnType<typeof Y.decodeUpdate>): string | undefined {
	for (const struct of decoded.structs) {
		// A decoded top-level item names its root by a string (Yjs's types say otherwise).
		const parent = struct instanceof Y.Item ? (struct.parent as unknown) : undefined;
		if (typeof parent === 'string' && !NOTE_ROOTS.has(parent)) return parent;
	}
	return undefined;
}

/**
 * Signature checks of bindings already made (a writer's every keystroke asks again), by the
 * record itself: a record a document or a decoded update holds is never changed, so its check
 * holds for as long as it exists.
 */
const verified = new WeakMap<object, boolean>();

/** Whether `value` is a binding of client `client` of document `docId` with a valid signature. */
function validBinding(value: unknown, docId: string, client: number): value is ClientBinding {
	if (typeof value !== 'object' || value === null) return false;
	const b = value as Partial<ClientBinding>;
	if (b.doc !== docId || b.client !== client || typeof b.device !== 'string' || typeof b.sig !== 'string') return false;
	let ok = verified.get(value);
	if (ok === undefined) verified.set(value, (ok = verifyBindingNow(b as ClientBinding)));
	return ok;
}

/** Whether map `map` holds any entry (Y.Map's `size` counts them all, and its iterators cost more than the walk). */
function holdsAny(map: Y.Map<unknown>): boolean {
	for (const item of map._map.values()) if (!item.deleted) return true;
	return false;
}

/** The note's types whose items are kept (set once, or appended): those it holds. */
interface KeptTypes {
	bindings: Y.Map<unknown> | undefined;
	snapshots: Y.AbstractType<Y.YEvent<any>> | undefined; // any: Yjs types a root type by its events so (doc.share)
}

/** Whether `struct` is an item of the note's `bindings` map or `snapshots` array. */
function inKept(struct: AnyStruct | undefined, kept: KeptTypes): boolean {
	if (!(struct instanceof Y.Item)) return false;
	const parent = struct.parent as unknown;
	return parent === 'bindings' || parent === 'snapshots' || (parent !== null && (parent === kept.bindings || parent === kept.snapshots));
}

const BINDINGS = new TextEncoder().encode('bindings');

/** Whether `bytes` contain the root name `bindings` (an update that sets none cannot contain it). */
function mentionsBindings(bytes: Uint8Array): boolean {
	outer: for (let i = 0; i + BINDINGS.length <= bytes.length; i++) {
		for (let j = 0; j < BINDINGS.length; j++) if (bytes[i + j] !== BINDINGS[j]) continue outer;
		return true;
	}
	return false;
}

/** The bindings an update sets: client key → value (top-level `bindings` entries only). */
function bindingsIn(decoded: ReturnType<typeof Y.decodeUpdate>): Map<string, unknown> {
	const out = new Map<string, unknown>();
	for (const struct of decoded.structs) {
		// A decoded top-level item names its root by a string (Yjs's types say otherwise).
		if (!(struct instanceof Y.Item) || (struct.parent as unknown) !== 'bindings' || typeof struct.parentSub !== 'string') continue;
		if (struct.content instanceof Y.ContentAny) out.set(struct.parentSub, struct.content.arr[0]);
	}
	return out;
}

/**
 * Whether an update may add, overwrite or delete a binding or a snapshot, so the growth rules
 * must look at it (most updates are text edits, which need not): an item set in `bindings` or
 * `snapshots` or placed next to one, a map entry sent with an origin (an overwrite), or a
 * deletion of a binding or a snapshot.
 */
function touchesKept(checked: CheckedUpdate, kept: KeptTypes): boolean {
	const { decoded, store } = checked;
	for (const struct of decoded.structs) {
		if (!(struct instanceof Y.Item)) continue;
		const parent = struct.parent as unknown;
		if (parent === 'bindings' || parent === 'snapshots' || (struct.parentSub !== null && typeof parent !== 'string')) return true;
		if (parent === null) {
			const near = struct.origin ?? struct.rightOrigin;
			if (near !== null && inKept(checked.find(near.client, near.clock), kept)) return true;
		}
	}
	for (const [client, ranges] of decoded.ds.clients) {
		const held = store.get(client);
		const arriving = checked.inUpdate.get(client);
		for (const range of ranges) {
			if (keptIn(held, range.clock, range.len, kept) || keptIn(arriving, range.clock, range.len, kept)) return true;
		}
	}
	return false;
}

/** Whether a struct of `list` (a client's, sorted) in `[clock, clock + len)` is a binding or a snapshot (a loop: every deletion asks). */
function keptIn(list: AnyStruct[] | undefined, clock: number, len: number, kept: KeptTypes): boolean {
	if (list === undefined) return false;
	const end = clock + len;
	for (let i = overlapStart(list, clock); i < list.length && list[i]!.id.clock < end; i++) if (inKept(list[i], kept)) return true;
	return false;
}

/** The clock after the last struct `list` holds (0 for none). */
function heldClock(list: AnyStruct[] | undefined): number {
	const last = list?.[list.length - 1];
	return last === undefined ? 0 : last.id.clock + last.length;
}

/**
 * Whether an update (its part this replica lacks: updateCheck.ts `applicablePart`) brings
 * anything: a struct, or a deletion of an item held and not deleted yet, or of one not held
 * yet (Yjs keeps those until the item comes). A state diff repeats the whole delete set, so
 * deletions already held bring nothing.
 */
function bringsContent(checked: CheckedUpdate): boolean {
	const { decoded, store } = checked;
	if (decoded.structs.some((struct) => !(struct instanceof Y.Skip))) return true;
	for (const [client, ranges] of decoded.ds.clients) {
		const list = store.get(client);
		const held = heldClock(list);
		for (const range of ranges) {
			if (range.clock + range.len > held) return true;
			for (const struct of overlapping(list, range.clock, range.len)) if (!struct.deleted) return true;
		}
	}
	return false;
}

/**
 * Why a binding the update sets does not count, or undefined when each does: a binding is the
 * bound client's own item (bindWriter writes it in the client's first transaction), under the
 * key of that client, signed for this note, by a device that writes notes. Found in review:
 * only the bindings of clients with edits in the update were checked, so a member set junk (or
 * its own signed binding) under a writer's client id on a replica that lacked the note, and
 * bindings being set once, that replica refused the writer's honest note for good.
 */
function unboundBinding(decoded: ReturnType<typeof Y.decodeUpdate>, docId: string, isWriter: IsWriter | undefined): string | undefined {
	for (const struct of decoded.structs) {
		if (!(struct instanceof Y.Item) || (struct.parent as unknown) !== 'bindings' || typeof struct.parentSub !== 'string') continue;
		const client = struct.id.client;
		const value = struct.content instanceof Y.ContentAny ? struct.content.arr[0] : undefined;
		if (struct.parentSub !== String(client) || !validBinding(value, docId, client)) return 'a binding that is not its own client’s, signed for this note';
		if (isWriter !== undefined && !isWriter(value.device)) return 'an edit from a device that may not write notes';
	}
	return undefined;
}

/**
 * Whether `update` writes a note's `bindings` (a document no index lists yet is checked as a
 * note then: team/writePolicy.ts). False when it does not decode (the store refuses it anyway).
 */
export function setsBindings(update: Uint8Array): boolean {
	if (!mentionsBindings(update)) return false;
	try {
		return decodeUpdateShared(update).structs.some((struct) => struct instanceof Y.Item && (struct.parent as unknown) === 'bindings');
	} catch {
		return false;
	}
}

/** Why a note update from a peer that carries no note content is refused. */
export const NOT_A_CARRIER = 'note content from a device that may not write notes';

/**
 * Why `update` to note `docId` (held as `doc`) is refused, or undefined when it may be
 * applied. `isWriter` answers from this replica's team; without it, bindings are checked but
 * any device counts as a writer. `fromCarrier`: whether the peer it came from may pass on
 * note content (false: only an update that brings nothing passes); undefined for this
 * device's own (an import).
 */
export function checkNoteUpdate(doc: Y.Doc, docId: string, update: Uint8Array, isWriter?: IsWriter, fromCarrier?: boolean): string | undefined {
	if (fromCarrier === false) {
		const checked = decodeForCheck(doc, update);
		if (checked === undefined) return 'undecodable update';
		return bringsContent(checked) ? NOT_A_CARRIER : undefined;
	}
	const bindingsType = doc.share.has('bindings') ? heldMap(doc, 'bindings') : undefined;
	const bound = bindingsType !== undefined && holdsAny(bindingsType);
	const checked = decodeForCheck(doc, update);
	if (checked === undefined) return 'undecodable update';
	const foreign = foreignRoot(checked.decoded);
	if (foreign !== undefined) return `a note has no "${foreign}"`;
	if (!bound && !mentionsBindings(update)) return undefined; // a note from before bindings, and still unbound
	if (touchesKept(checked, { bindings: bindingsType, snapshots: doc.share.get('snapshots') })) {
		const shape = inspectGrowth(doc, update, ROOTS, 'allow', 'a note', checked);
		if (shape !== undefined) return shape;
		const squat = unboundBinding(checked.decoded, docId, isWriter);
		if (squat !== undefined) return squat;
	}
	const { decoded } = checked;
	const held = bound ? bindingsType : undefined;
	/** The bindings the update sets, read once a client's binding is not held. */
	let arriving = held === undefined ? bindingsIn(decoded) : undefined;
	if (arriving?.size === 0) return undefined; // the name appeared elsewhere (text)
	/** Clients checked (most updates are one client's: a set only from the second). */
	let first: number | undefined;
	let seen: Set<number> | undefined;
	for (const struct of decoded.structs) {
		const client = struct.id.client;
		if (client === first || seen?.has(client) || !(struct instanceof Y.Item)) continue;
		if (first === undefined) first = client;
		else (seen ??= new Set()).add(client);
		const key = String(client);
		const binding = held?.get(key) ?? (arriving ??= bindingsIn(decoded)).get(key);
		if (!validBinding(binding, docId, client)) return 'an edit from a client bound to no device';
		if (isWriter !== undefined && !isWriter(binding.device)) return 'an edit from a device that may not write notes';
	}
	return undefined;
}
