/**
 * What the write policies (team/TeamDoc.ts, channelPolicy.ts) read of a remote update before
 * it is applied: its structs by client beside the document's own, so an item can be traced to
 * the type it lands in (through its parent, or the neighbour it is placed next to), and the
 * structs a delete-set range covers. Pure: the document is only read.
 */
import * as Y from 'yjs';
import { decodeUpdateShared, laidOutHonestly, type DecodedUpdate } from './decodedUpdate.js';

/** A struct of a Yjs update or struct store. */
export type AnyStruct = Y.Item | Y.GC | Y.Skip;

/** An update decoded for a write check. */
export interface CheckedUpdate {
	/** Shared with the other checks of the same bytes (decodedUpdate.ts): read, never changed. */
	decoded: DecodedUpdate;
	/** The document's structs by client (sorted by clock). */
	store: Map<number, AnyStruct[]>;
	/** The update's structs by client (sorted by clock). */
	inUpdate: Map<number, AnyStruct[]>;
	/** The struct covering `clock` of `client`, in the document or the update (call it as a method). */
	find(client: number, clock: number): AnyStruct | undefined;
}

/** Decodes `update` against `doc`; undefined when it does not decode, or is not laid out as honest encoders lay one out. */
export function decodeForCheck(doc: Y.Doc, update: Uint8Array): CheckedUpdate | undefined {
	let decoded: DecodedUpdate;
	try {
		decoded = decodeUpdateShared(update);
	} catch {
		return undefined;
	}
	// Laid out otherwise, the structs read here would not be those Yjs applies (decodedUpdate.ts).
	if (!laidOutHonestly(update, decoded)) return undefined;
	return new Checked(decoded, doc.store.clients as Map<number, AnyStruct[]>);
}

/**
 * A {@link CheckedUpdate}: a class, not a literal with a closure, as it is made for every remote
 * update; the update's structs by client are sorted out only when asked for (a text edit's
 * check finds its neighbour in the document).
 */
class Checked implements CheckedUpdate {
	private byClient: Map<number, AnyStruct[]> | undefined;

	constructor(
		readonly decoded: DecodedUpdate,
		readonly store: Map<number, AnyStruct[]>
	) {}

	get inUpdate(): Map<number, AnyStruct[]> {
		if (this.byClient === undefined) {
			this.byClient = new Map();
			for (const struct of this.decoded.structs) {
				const list = this.byClient.get(struct.id.client);
				if (list) list.push(struct);
				else this.byClient.set(struct.id.client, [struct]);
			}
		}
		return this.byClient;
	}

	find(client: number, clock: number): AnyStruct | undefined {
		const held = findIn(this.store.get(client), clock);
		if (held !== undefined) return held;
		// The update's structs of one client are contiguous and in clock order: a struct past
		// the document's clock is one of them.
		return findIn(this.inUpdate.get(client), clock);
	}
}

/** The struct of a client's sorted list that covers `clock` (binary search). */
export function findIn(list: AnyStruct[] | undefined, clock: number): AnyStruct | undefined {
	if (list === undefined || list.length === 0) return undefined;
	let low = 0;
	let high = list.length - 1;
	while (low <= high) {
		const mid = (low + high) >> 1;
		const struct = list[mid]!;
		if (clock < struct.id.clock) high = mid - 1;
		else if (clock >= struct.id.clock + struct.length) low = mid + 1;
		else return struct;
	}
	return undefined;
}

/** The index of the first struct of a client's sorted list that ends after `clock` (binary search). */
export function overlapStart(list: AnyStruct[], clock: number): number {
	let low = 0;
	let high = list.length;
	while (low < high) {
		const mid = (low + high) >> 1;
		const struct = list[mid]!;
		if (struct.id.clock + struct.length <= clock) low = mid + 1;
		else high = mid;
	}
	return low;
}

/** The structs of a client's sorted list that overlap `[clock, clock + len)`. */
export function* overlapping(list: AnyStruct[] | undefined, clock: number, len: number): Generator<AnyStruct> {
	if (list === undefined) return;
	const end = clock + len;
	for (let i = overlapStart(list, clock); i < list.length; i++) {
		const struct = list[i]!;
		if (struct.id.clock >= end) return;
		yield struct;
	}
}
