/**
 * Checks a remote Yjs update before it touches a real document. Yjs has no transactional
 * apply: an update that decodes but is internally inconsistent can throw half-way through
 * `Y.applyUpdate`, after part of it was integrated (and emitted, persisted and forwarded).
 * So an update is first decoded completely, then applied to a scratch document that has the
 * target's state vector but no content (one GC range per client), which runs Yjs's
 * integration over the update's own structure at a cost proportional to the update, not to
 * the document. In fuzzing with bit-flipped updates this refused every update that then threw
 * on the real document (tests/unit/mesh/updateCheck.test.ts); it is a strong filter, not a
 * proof: an update whose flaw shows only against the target's real items could still pass.
 *
 * The scratch document is reused: constructing a Y.Doc draws a random client id (~7 µs, most
 * of a live update's check). After a check that ran to the end it is emptied (a new struct
 * store and no shared types: all the content an update gives a Y.Doc lives there) and kept;
 * after one that threw, or one that left subdocuments or an open transaction, it is dropped.
 * Reused or fresh, it answers the same (tests/unit/mesh/updateCheckScratch.test.ts). Updates
 * without structs skip it where applying them provably cannot throw (see below).
 *
 * Nothing is kept pending. Yjs keeps the structs and deletions of an update that depend on
 * ones the document has not received, and integrates them later, when what they wait for
 * arrives in another update, which the write policies then check without them: a deletion
 * range past a client's clock, kept pending, hard-deleted that client's next messages on
 * every replica (and a replica holding it sent an honest full state that peers refused); an
 * item waiting for its neighbour overwrote what the policy never saw (found in review). So a
 * remote update is applied with {@link applyRemoteUpdate}, which drops whatever the document
 * holds pending before and after: the policies check exactly what integrates. What is dropped
 * never counted in the state vector or the digest, so the next sync with its sender asks for it
 * again, and it is checked when what it waits for is there. An update whose dry run leaves
 * more than {@link MAX_PENDING_BYTES} pending is refused outright.
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as Y from 'yjs';
import { decodeUpdateShared, laidOutHonestly, type DecodedUpdate } from '../doc/decodedUpdate.js';
import { applyEmittingChecked } from './emitChecked.js';

/** Most bytes of pending structs (waiting for updates not received) one update may leave in its dry run. */
export const MAX_PENDING_BYTES = 1024 * 1024;

/** Bytes a document holds pending (structs and deletions waiting for updates it has not received). */
export function pendingBytes(doc: Y.Doc): number {
	return (doc.store.pendingStructs?.update.byteLength ?? 0) + (doc.store.pendingDs?.byteLength ?? 0);
}

/**
 * Drops whatever `doc` holds pending (from memory only: a stored document keeps its updates,
 * and the state vector never counted them, so the next sync asks for them again). Returns the
 * bytes dropped.
 */
export function dropPending(doc: Y.Doc): number {
	const held = pendingBytes(doc);
	doc.store.pendingStructs = null;
	doc.store.pendingDs = null;
	return held;
}

/**
 * Applies a remote update that passed the checks, keeping nothing pending (see the module
 * comment); the document's update listeners get the update's own bytes where they stand for
 * what it integrated (emitChecked.ts). Returns the bytes of pending structs and deletions dropped. Throws as
 * `Y.applyUpdate` does.
 */
export function applyRemoteUpdate(doc: Y.Doc, update: Uint8Array, origin: unknown): number {
	const before = dropPending(doc);
	applyEmittingChecked(doc, update, origin);
	return before + dropPending(doc);
}

/** An update that gives a fresh document the state vector `stateVector`, as GC ranges only. */
export function gcUpdateFor(stateVector: Map<number, number>): Uint8Array {
	const clients = [...stateVector].filter(([, clock]) => clock > 0);
	const encoder = encoding.createEncoder();
	encoding.writeVarUint(encoder, clients.length);
	for (const [client, clock] of clients) {
		encoding.writeVarUint(encoder, 1); // one struct
		encoding.writeVarUint(encoder, client);
		encoding.writeVarUint(encoder, 0); // from clock 0
		encoding.writeUint8(encoder, 0); // info 0: GC
		encoding.writeVarUint(encoder, clock); // of this length
	}
	encoding.writeVarUint(encoder, 0); // empty delete set
	return encoding.toUint8Array(encoder);
}

/**
 * What the check needs of the target document: its state vector (`Y.encodeStateVector`), or a
 * lookup of one client's clock in it (`Y.getState`, 0 for a client it has nothing of). The
 * lookup is the cheap one: a document edited in many sessions has a client per session, and
 * encoding its whole state vector for every live update costs time in proportion to them
 * (~0.26 ms for 1,000 clients), where the check looks at the few clients an update names.
 */
export type TargetClocks = Uint8Array | ((client: number) => number);

/** Clock lookups made, one per document (a live update asks for one, and a closure per update costs). */
const lookups = new WeakMap<Y.Doc, (client: number) => number>();

/** The clock lookup of document `doc` (what a {@link TargetClocks} lookup reads, at no cost per client it has). */
export function clocksOfDoc(doc: Y.Doc): (client: number) => number {
	let lookup = lookups.get(doc);
	if (lookup === undefined) lookups.set(doc, (lookup = (client) => Y.getState(doc.store, client)));
	return lookup;
}

/** Whether every struct of `structs` is new to a target with clocks `clockOf` (starts at or past its clock). */
function allNew(structs: DecodedUpdate['structs'], clockOf: (client: number) => number): boolean {
	for (const struct of structs) if (struct.id.clock < clockOf(struct.id.client)) return false;
	return true;
}

/** The clock lookup of an encoded state vector. */
function clocksOf(target: TargetClocks): (client: number) => number {
	if (typeof target === 'function') return target;
	const decoded = Y.decodeStateVector(target);
	return (client) => decoded.get(client) ?? 0;
}

/**
 * The clients whose state integrating `structs` and `ds` reads: the structs' own, those their
 * origins and parents name, and those of the deletions. Integration never looks at any other
 * client, so a scratch document seeded with these alone answers as one seeded with all.
 */
function namedClients(structs: DecodedUpdate['structs'], ds: DecodedUpdate['ds']): Set<number> {
	const clients = new Set<number>(ds.clients.keys());
	for (const struct of structs) {
		clients.add(struct.id.client);
		if (!(struct instanceof Y.Item)) continue;
		if (struct.origin !== null) clients.add(struct.origin.client);
		if (struct.rightOrigin !== null) clients.add(struct.rightOrigin.client);
		if (struct.parent instanceof Y.ID) clients.add(struct.parent.client);
	}
	return clients;
}

/**
 * The part of `update` the target lacks (`Y.diffUpdate(update, stateVector)`), when `update`
 * decodes completely and that part applies without error to a content-free document with the
 * target's clocks (for the clients the part names: {@link TargetClocks}); otherwise undefined. Apply the
 * returned part, not `update`: it is what was checked. Also undefined when the part would leave
 * more than {@link MAX_PENDING_BYTES} waiting for updates the target has not received. (Checking the whole update instead
 * refuses honest ones: a struct that starts below the target's clock, as in merged updates
 * and full states, is integrated from an offset, and Yjs then looks up the struct just before
 * it, a real item on the target but a GC range on the scratch document, and throws.) Never throws.
 */
export function applicablePart(update: Uint8Array, target: TargetClocks): Uint8Array | undefined {
	try {
		const clockOf = clocksOf(target);
		const decoded = decodeUpdateShared(update);
		if (!laidOutHonestly(update, decoded)) return undefined;
		// A live update (every struct new to the target) is its own part: no diff, no second decode.
		const fresh = allNew(decoded.structs, clockOf);
		// The diff reads the target's clocks of the update's own clients only.
		const part = fresh ? update : Y.diffUpdate(update, Y.encodeStateVector(new Map(decoded.structs.map((struct) => [struct.id.client, clockOf(struct.id.client)]))));
		const { structs, ds } = fresh ? decoded : Y.decodeUpdate(part);
		// No structs (a copy the target already has, or deletions only): nothing to integrate. On
		// a content-free document a delete set (decoded above) only marks ranges: the part of a
		// range below a client's clock lies in its GC range, the rest is kept pending, re-encoded,
		// and that throws only for an empty range (Yjs `writeDsLen(0)`). Without one, applying
		// cannot throw and the scratch document is skipped (tests/unit/mesh/updateCheckScratch.test.ts).
		if (structs.length === 0 && !hasEmptyRange(ds)) return part;
		// What every honest live update is: integrated at once, with nothing for Yjs to throw on.
		if (fresh && integratesAtOnce(update, structs, ds, clockOf)) return part;
		const scratch = takeScratch();
		seedGc(scratch, namedClients(structs, ds), clockOf);
		Y.applyUpdate(scratch, part);
		const pending = pendingBytes(scratch);
		// Not reached when the apply threw: that document is left to the garbage collector.
		giveBackScratch(scratch);
		return pending > MAX_PENDING_BYTES ? undefined : part;
	} catch {
		return undefined;
	}
}

/**
 * Whether applying `update` (decoded as `structs` and `ds`) to a document with clocks `clockOf`
 * provably integrates every struct at once, leaves nothing pending and gives Yjs nothing to
 * throw on, so the scratch document would only repeat it. Yjs 13.6's integration
 * (`integrateStructs`, `Item.getMissing`, `readAndApplyDeleteSet`) holds that for an update
 * that is, exactly:
 * - one section per client (`readClientsStructRefs` keeps only the last of two sections of
 *   one client, so the structs decoded here would not be what is applied);
 * - items and GC ranges (a type created and collected in one transaction), none empty, no
 *   skip struct (a gap) and no subdocument;
 * - per client, contiguous from the target's clock (nothing waits for a missing struct of its
 *   own client, and no struct is applied from an offset);
 * - every origin, right origin and parent named by ID either held by the target (below its
 *   clock: `getMissing` then finds it, a GC range included) or, for the item's own client, an
 *   earlier struct of the update (integrated before it, in clock order);
 * - deletions of non-empty ranges the document holds once the structs are in (the delete set
 *   is applied after them), so none is kept pending.
 * Anything else goes to the scratch document. Every honest live update of a struct-bearing
 * kind qualifies (tests/unit/mesh/updateCheck.test.ts).
 */
export function integratesAtOnce(update: Uint8Array, structs: DecodedUpdate['structs'], ds: DecodedUpdate['ds'], clockOf: (client: number) => number): boolean {
	/** Per client of the update: the clock after its last struct so far. */
	const next = new Map<number, number>();
	for (const struct of structs) {
		if (struct instanceof Y.Skip || struct.length <= 0) return false;
		const { client, clock } = struct.id;
		const expected = next.get(client) ?? clockOf(client);
		const end = clock + struct.length;
		if (clock !== expected || !Number.isSafeInteger(end)) return false;
		next.set(client, end);
		if (struct instanceof Y.GC) continue; // a range created and collected in one transaction: it names nothing
		if (struct.content instanceof Y.ContentDoc) return false;
		if (!heldBefore(struct.origin, struct.id, clockOf) || !heldBefore(struct.rightOrigin, struct.id, clockOf)) return false;
		// A parent is named (by ID, or as a root's name) only on an item sent without neighbours.
		const parent = struct.parent as unknown;
		if (parent instanceof Y.ID ? !heldBefore(parent, struct.id, clockOf) : typeof parent !== 'string' && parent !== null) return false;
	}
	if (decoding.readVarUint(decoding.createDecoder(update)) !== next.size) return false;
	for (const [client, ranges] of ds.clients) {
		const held = next.get(client) ?? clockOf(client);
		for (const range of ranges) if (range.len <= 0 || range.clock + range.len > held) return false;
	}
	return true;
}

/**
 * Whether reference `id` of the struct `at` names what is integrated before it: held by the
 * target (below its clock), or an earlier struct of the struct's own client.
 */
function heldBefore(id: Y.ID | null, at: Y.ID, clockOf: (client: number) => number): boolean {
	return id === null || (id.client === at.client ? id.clock < at.clock : id.clock < clockOf(id.client));
}

/** Whether delete set `ds` holds a range of length 0 (honest ones never do). */
function hasEmptyRange(ds: DecodedUpdate['ds']): boolean {
	for (const ranges of ds.clients.values()) {
		for (const range of ranges) if (range.len === 0) return true;
	}
	return false;
}

/** The guid of scratch documents (a random one costs ~31 getRandomValues calls). */
const SCRATCH_GUID = 'outpost:update-check';

/** An empty scratch document kept for the next check (undefined while one is in use). */
let spare: Y.Doc | undefined;

/** An empty scratch document: the spare one, or a new one. */
function takeScratch(): Y.Doc {
	const doc = spare ?? new Y.Doc({ guid: SCRATCH_GUID });
	spare = undefined;
	return doc;
}

/**
 * Empties `doc` after a check that ran to the end and keeps it for the next, or drops it when
 * anything but its content (store, shared types, subdocuments) might have changed.
 */
function giveBackScratch(doc: Y.Doc): void {
	const settled = doc._transaction === null && doc._transactionCleanups.length === 0 && doc.subdocs.size === 0 && doc._item === null && !doc.isDestroyed;
	if (!settled || spare !== undefined) {
		doc.destroy();
		return;
	}
	// Everything an update integrates lives in the struct store (structs, pending structs and
	// delete sets) and in the shared types it created: both replaced, the document is empty.
	doc.store = new (doc.store.constructor as new () => typeof doc.store)();
	doc.share = new Map();
	spare = doc;
}

/**
 * Gives a fresh document the target's clocks of `clients` as one GC range per client, written
 * straight into its struct store: what applying {@link gcUpdateFor} leaves for them, without
 * the cost of a transaction.
 */
function seedGc(doc: Y.Doc, clients: Iterable<number>, clockOf: (client: number) => number): void {
	for (const client of clients) {
		const clock = clockOf(client);
		if (clock > 0) doc.store.clients.set(client, [new Y.GC(Y.createID(client, 0), clock)]);
	}
}

/** True when {@link applicablePart} accepts `update`. Never throws. */
export function isApplicableUpdate(update: Uint8Array, target: TargetClocks): boolean {
	return applicablePart(update, target) !== undefined;
}
