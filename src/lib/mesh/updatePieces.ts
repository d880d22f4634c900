/**
 * Splits a large Yjs update (format v1) into pieces of bounded size, so that a replica checks
 * and applies it piece by piece and gives its event loop back in between: one 15 MB update
 * no longer stops every other document and workspace on the relay for seconds (PROTOCOL.md
 * "Limits"). Each piece is itself a v1 update.
 *
 * The update is scanned at the byte level, without building Yjs items: for each struct its
 * client, clock, length, where its bytes lie, and what it refers to (its origin, its right
 * origin, and a parent given by id). V1 writes every id in full, so a struct's bytes can be
 * copied into a piece as they are. The pieces follow an order in which every struct comes
 * after the structs of the same update it refers to (and after its predecessor of the same
 * client), so a receiver integrates each piece at once instead of holding it pending; structs
 * whose references cannot be ordered (a cycle, only in forged updates) come last, as they
 * are, for the update check to judge. The delete set goes with the last piece.
 *
 * Nothing here decides whether an update is acceptable: every piece still goes through the
 * update check and the document's write policy, as any update does. Malformed bytes throw
 * ({@link UnreadableUpdateError}).
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';

/** Bytes of a piece (a piece holds at least one struct, so one larger struct makes a larger piece). */
export const PIECE_BYTES = 256 * 1024;

/** Structs scanned between two pauses. */
const SCAN_BATCH = 4096;

/** The update's bytes do not scan as a Yjs v1 update. */
export class UnreadableUpdateError extends Error {
	override name = 'UnreadableUpdateError';
}

/** One struct of the update: where its bytes are, and what it refers to. */
interface Span {
	client: number;
	clock: number;
	len: number;
	start: number;
	end: number;
	/** Ids it refers to, as client and clock pairs (flattened). */
	refs: number[];
}

/** A pause that gives the event loop back (a macrotask, in browsers and Node alike). */
export const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * The pieces of `update`, in the order to apply them; `[update]` itself when it is no larger
 * than `maxBytes`. Awaits `pause` every few thousand structs while scanning.
 * @throws {UnreadableUpdateError} when the bytes do not scan.
 */
export async function splitUpdate(update: Uint8Array, maxBytes = PIECE_BYTES, pause: () => Promise<void> = yieldToEventLoop): Promise<Uint8Array[]> {
	if (update.byteLength <= maxBytes) return [update];
	const { spans, deleteSet } = await scan(update, pause);
	const order = await dependencyOrder(spans, pause);
	return pack(update, spans, order, deleteSet, maxBytes, pause);
}

/** Reads every struct's span and the delete set's bytes. */
async function scan(update: Uint8Array, pause: () => Promise<void>): Promise<{ spans: Span[]; deleteSet: Uint8Array }> {
	const decoder = decoding.createDecoder(update);
	const spans: Span[] = [];
	const clients = new Set<number>();
	try {
		const groups = decoding.readVarUint(decoder);
		for (let g = 0; g < groups; g++) {
			const count = decoding.readVarUint(decoder);
			// Every struct takes at least one byte: a count beyond the rest is a lie.
			if (count > update.byteLength - decoder.pos) throw new UnreadableUpdateError('more structs than bytes');
			const client = decoding.readVarUint(decoder);
			if (clients.has(client)) throw new UnreadableUpdateError('a client named twice');
			clients.add(client);
			let clock = decoding.readVarUint(decoder);
			for (let i = 0; i < count; i++) {
				const start = decoder.pos;
				const refs: number[] = [];
				const len = readStruct(decoder, refs);
				if (len < 1) throw new UnreadableUpdateError('a struct of no length');
				spans.push({ client, clock, len, start, end: decoder.pos, refs });
				clock += len;
				if (spans.length % SCAN_BATCH === 0) await pause();
			}
		}
	} catch (error) {
		throw error instanceof UnreadableUpdateError ? error : new UnreadableUpdateError(`the update does not scan: ${String(error)}`);
	}
	return { spans, deleteSet: update.subarray(decoder.pos) };
}

/** Reads one struct (as Yjs's readClientsStructRefs does, v1); pushes the ids it refers to onto `refs`; returns its length. */
function readStruct(decoder: decoding.Decoder, refs: number[]): number {
	const info = decoding.readUint8(decoder);
	const kind = info & 0b11111;
	if (kind === 0 || kind === 10) return decoding.readVarUint(decoder); // GC, Skip
	const readId = () => refs.push(decoding.readVarUint(decoder), decoding.readVarUint(decoder));
	if (info & 0b1000_0000) readId(); // origin
	if (info & 0b0100_0000) readId(); // right origin
	if ((info & 0b1100_0000) === 0) {
		// The parent: a root type's name, or an id.
		if (decoding.readVarUint(decoder) === 1) decoding.readVarString(decoder);
		else readId();
		if (info & 0b0010_0000) decoding.readVarString(decoder); // parentSub
	}
	return readContent(decoder, kind);
}

/** Skips an item's content of kind `kind`; returns its length (Yjs's ItemContent.getLength). */
function readContent(decoder: decoding.Decoder, kind: number): number {
	switch (kind) {
		case 1: // deleted
			return decoding.readVarUint(decoder);
		case 2: {
			// JSON
			const n = decoding.readVarUint(decoder);
			for (let i = 0; i < n; i++) decoding.readVarString(decoder);
			return n;
		}
		case 3: // binary
			decoding.readVarUint8Array(decoder);
			return 1;
		case 4: // string: its length in UTF-16 code units, as Yjs counts
			return decoding.readVarString(decoder).length;
		case 5: // embed
			decoding.readVarString(decoder);
			return 1;
		case 6: // format
			decoding.readVarString(decoder);
			decoding.readVarString(decoder);
			return 1;
		case 7: {
			// type: XmlElement (3) and XmlHook (5) carry a name
			const ref = decoding.readVarUint(decoder);
			if (ref > 6) throw new UnreadableUpdateError('an unknown type');
			if (ref === 3 || ref === 5) decoding.readVarString(decoder);
			return 1;
		}
		case 8: {
			// any
			const n = decoding.readVarUint(decoder);
			for (let i = 0; i < n; i++) decoding.readAny(decoder);
			return n;
		}
		case 9: // subdocument
			decoding.readVarString(decoder);
			decoding.readAny(decoder);
			return 1;
		default:
			throw new UnreadableUpdateError(`an unknown content kind ${kind}`);
	}
}

/**
 * Indices of `spans` in an order where each comes after the spans it refers to and after its
 * predecessor of the same client (Kahn's algorithm); spans caught in a cycle come last, in
 * update order.
 */
async function dependencyOrder(spans: Span[], pause: () => Promise<void>): Promise<number[]> {
	// Per client, its spans' indices in clock order (as scanned).
	const byClient = new Map<number, number[]>();
	spans.forEach((span, i) => {
		let list = byClient.get(span.client);
		if (list === undefined) byClient.set(span.client, (list = []));
		list.push(i);
	});
	/** The span of this update holding id (client, clock), or -1. */
	const find = (client: number, clock: number): number => {
		const list = byClient.get(client);
		if (list === undefined) return -1;
		let lo = 0;
		let hi = list.length - 1;
		while (lo <= hi) {
			const mid = (lo + hi) >> 1;
			const span = spans[list[mid]!]!;
			if (clock < span.clock) hi = mid - 1;
			else if (clock >= span.clock + span.len) lo = mid + 1;
			else return list[mid]!;
		}
		return -1;
	};
	const waiting = new Array<number>(spans.length).fill(0);
	const dependents: number[][] = spans.map(() => []);
	const depend = (on: number, span: number) => {
		if (on < 0 || on === span) return;
		dependents[on]!.push(span);
		waiting[span]!++;
	};
	for (const list of byClient.values()) {
		for (let k = 1; k < list.length; k++) {
			depend(list[k - 1]!, list[k]!);
			if (k % SCAN_BATCH === 0) await pause();
		}
	}
	for (let i = 0; i < spans.length; i++) {
		const { refs } = spans[i]!;
		for (let r = 0; r < refs.length; r += 2) depend(find(refs[r]!, refs[r + 1]!), i);
		if (i % SCAN_BATCH === SCAN_BATCH - 1) await pause();
	}
	const order: number[] = [];
	const ready: number[] = [];
	for (let i = spans.length - 1; i >= 0; i--) if (waiting[i] === 0) ready.push(i);
	// Depth first (a stack): a client's run continues while it can, which keeps pieces compact.
	while (ready.length > 0) {
		const i = ready.pop()!;
		if (order.push(i) % SCAN_BATCH === 0) await pause();
		const next = dependents[i]!;
		for (let k = next.length - 1; k >= 0; k--) if (--waiting[next[k]!]! === 0) ready.push(next[k]!);
	}
	if (order.length < spans.length) for (let i = 0; i < spans.length; i++) if (waiting[i]! > 0) order.push(i);
	return order;
}

/** Writes the spans in `order` as pieces of about `maxBytes`; the delete set goes with the last. */
async function pack(update: Uint8Array, spans: Span[], order: number[], deleteSet: Uint8Array, maxBytes: number, pause: () => Promise<void>): Promise<Uint8Array[]> {
	const pieces: Uint8Array[] = [];
	/** The piece being filled: per client, its spans (contiguous clocks). */
	let current = new Map<number, Span[]>();
	let bytes = 0;
	const flush = (last: boolean) => {
		const encoder = encoding.createEncoder();
		encoding.writeVarUint(encoder, current.size);
		for (const [client, list] of current) {
			encoding.writeVarUint(encoder, list.length);
			encoding.writeVarUint(encoder, client);
			encoding.writeVarUint(encoder, list[0]!.clock);
			for (const span of list) encoding.writeUint8Array(encoder, update.subarray(span.start, span.end));
		}
		if (last) encoding.writeUint8Array(encoder, deleteSet);
		else encoding.writeVarUint(encoder, 0); // no deletions
		pieces.push(encoding.toUint8Array(encoder));
		current = new Map();
		bytes = 0;
	};
	for (const [k, i] of order.entries()) {
		if (k % SCAN_BATCH === SCAN_BATCH - 1) await pause();
		const span = spans[i]!;
		const list = current.get(span.client);
		const tail = list?.at(-1);
		// A piece holds a contiguous run per client; and it is full at maxBytes.
		if ((tail !== undefined && tail.clock + tail.len !== span.clock) || (bytes > 0 && bytes + (span.end - span.start) > maxBytes)) flush(false);
		const run = current.get(span.client);
		if (run === undefined) current.set(span.client, [span]);
		else run.push(span);
		bytes += span.end - span.start;
	}
	flush(true);
	return pieces;
}
