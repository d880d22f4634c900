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
 */
import * as encoding from 'lib0/encoding';
import * as Y from 'yjs';

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
 * The part of `update` the target lacks (`Y.diffUpdate(update, stateVector)`), when `update`
 * decodes completely and that part applies without error to a content-free document with the
 * target's `stateVector` (`Y.encodeStateVector` of the target); otherwise undefined. Apply the
 * returned part, not `update`: it is what was checked. (Checking the whole update instead
 * refuses honest ones: a struct that starts below the target's clock, as in merged updates
 * and full states, is integrated from an offset, and Yjs then looks up the struct just before
 * it, a real item on the target but a GC range on the scratch document, and throws.) Never throws.
 */
export function applicablePart(update: Uint8Array, stateVector: Uint8Array): Uint8Array | undefined {
	try {
		const target = Y.decodeStateVector(stateVector);
		const decoded = Y.decodeUpdate(update);
		// A live update (every struct new to the target) is its own part: no diff, no second decode.
		const fresh = decoded.structs.every((struct) => struct.id.clock >= (target.get(struct.id.client) ?? 0));
		const part = fresh ? update : Y.diffUpdate(update, stateVector);
		const { structs, ds } = fresh ? decoded : Y.decodeUpdate(part);
		// A copy the target already has (the same update by session and by gossip): nothing to check.
		if (structs.length === 0 && ds.clients.size === 0) return part;
		// A fixed guid: a random one costs ~31 getRandomValues calls, most of this check's time.
		const scratch = new Y.Doc({ guid: 'outpost:update-check' });
		seedGc(scratch, target);
		Y.applyUpdate(scratch, part);
		scratch.destroy();
		return part;
	} catch {
		return undefined;
	}
}

/**
 * Gives a fresh document the state vector `stateVector` as one GC range per client, written
 * straight into its struct store: what applying {@link gcUpdateFor} leaves, without the cost
 * of a transaction.
 */
function seedGc(doc: Y.Doc, stateVector: Map<number, number>): void {
	for (const [client, clock] of stateVector) {
		if (clock > 0) doc.store.clients.set(client, [new Y.GC(Y.createID(client, 0), clock)]);
	}
}

/** True when {@link applicablePart} accepts `update`. Never throws. */
export function isApplicableUpdate(update: Uint8Array, stateVector: Uint8Array): boolean {
	return applicablePart(update, stateVector) !== undefined;
}
