/**
 * `Y.decodeUpdate` for the updates every keystroke and message sends, without its costs: Yjs
 * 13.6 reads the structs through a generator (`LazyStructReader`) and a decoder object, which
 * made the decoding most of a live update's check (bench:note-replay). This reads the same
 * bytes in one loop into the same objects: `Y.Item`, `Y.GC` and `Y.Skip` structs with the IDs,
 * parents (a root's name as a string, as the lazy reader leaves it) and contents Yjs builds,
 * and Yjs's own delete set.
 *
 * It takes only what it reads exactly as Yjs does: items of deleted, string, binary and `Any`
 * content and of the plain shared types. Anything else (JSON, embeds, formats, XML types with
 * names, subdocuments), and any update it cannot read to the end, is handed to `Y.decodeUpdate`,
 * which then decodes it or throws as always. tests/unit/doc/decodeUpdateV1.test.ts holds the
 * two to the same result on real, bit-flipped and cut updates.
 */
import * as decoding from 'lib0/decoding';
import * as Y from 'yjs';

/** A Yjs update, decoded (`Y.decodeUpdate`). */
type Decoded = ReturnType<typeof Y.decodeUpdate>;
type DeleteItem = Decoded['ds']['clients'] extends Map<number, Array<infer D>> ? D : never;

/** Yjs's delete-set entry class, which Yjs does not export: taken from a decoded delete set. */
const DeleteItemClass = (() => {
	const doc = new Y.Doc();
	const text = doc.getText('t');
	text.insert(0, 'x');
	text.delete(0, 1);
	const ds = Y.decodeUpdate(Y.encodeStateAsUpdate(doc)).ds;
	const item = [...ds.clients.values()][0]![0]!;
	doc.destroy();
	return item.constructor as new (clock: number, len: number) => DeleteItem;
})();

/** Content refs (`info & 31`) this reader takes. */
const DELETED = 1;
const BINARY = 3;
const STRING = 4;
const TYPE = 7;
const ANY = 8;
const SKIP = 10;

/** Type refs (Yjs `typeRefs`) this reader takes: those whose content carries nothing more. */
// Each is a Y.AbstractType; their event types differ, so the list holds them as `unknown`.
const PLAIN_TYPES: ReadonlyArray<(() => unknown) | undefined> = [
	() => new Y.Array(),
	() => new Y.Map(),
	() => new Y.Text(),
	undefined, // YXmlElement (a node name follows)
	() => new Y.XmlFragment(),
	undefined, // YXmlHook (a hook name follows)
	() => new Y.XmlText()
];

/** Thrown inside the reader for what it hands to Yjs instead. */
const NOT_TAKEN = new Error('not taken by the fast reader');

/** Longest string read without lib0's TextDecoder (a decoder call costs more than a few characters). */
const SHORT_STRING = 32;

/**
 * `decoding.readVarString`: a short string of ASCII bytes read here (the same characters any
 * UTF-8 decoder gives), anything else by lib0 as Yjs reads it.
 */
function readString(decoder: decoding.Decoder): string {
	const at = decoder.pos;
	const length = decoding.readVarUint(decoder);
	const start = decoder.pos;
	const end = start + length;
	const bytes = decoder.arr;
	if (length <= SHORT_STRING && end <= bytes.length) {
		let text = '';
		let i = start;
		for (; i < end; i++) {
			const byte = bytes[i]!;
			if (byte >= 0x80) break;
			text += String.fromCharCode(byte);
		}
		if (i === end) {
			decoder.pos = end;
			return text;
		}
	}
	decoder.pos = at;
	return decoding.readVarString(decoder);
}

function readId(decoder: decoding.Decoder): Y.ID {
	const client = decoding.readVarUint(decoder);
	return Y.createID(client, decoding.readVarUint(decoder));
}

function readContent(decoder: decoding.Decoder, ref: number): Y.Item["content"] {
	switch (ref) {
		case DELETED:
			return new Y.ContentDeleted(decoding.readVarUint(decoder));
		case BINARY:
			return new Y.ContentBinary(decoding.readVarUint8Array(decoder).slice());
		case STRING:
			return new Y.ContentString(readString(decoder));
		case TYPE: {
			const make = PLAIN_TYPES[decoding.readVarUint(decoder)];
			if (make === undefined) throw NOT_TAKEN;
			return new Y.ContentType(make() as Y.AbstractType<unknown>);
		}
		case ANY: {
			const count = decoding.readVarUint(decoder);
			const values: unknown[] = [];
			for (let i = 0; i < count; i++) values.push(decoding.readAny(decoder));
			return new Y.ContentAny(values);
		}
		default:
			throw NOT_TAKEN;
	}
}

/** A decoding and the bytes its structure took (undefined where Yjs decoded it). */
export interface DecodedWithLength {
	decoded: Decoded;
	length: number | undefined;
}

/** Reads `update` as the fast reader does; throws for anything it leaves to Yjs. */
function readWithLength(update: Uint8Array): DecodedWithLength {
	const decoder = decoding.createDecoder(update);
	const end = update.length;
	const structs: Decoded['structs'] = [];
	const sections = decoding.readVarUint(decoder);
	for (let s = 0; s < sections; s++) {
		const count = decoding.readVarUint(decoder);
		const client = decoding.readVarUint(decoder);
		let clock = decoding.readVarUint(decoder);
		for (let i = 0; i < count; i++) {
			if (decoder.pos >= end) throw NOT_TAKEN; // Yjs reads `undefined` as an info byte here
			const info = decoding.readUint8(decoder);
			if (info === SKIP) {
				const length = decoding.readVarUint(decoder);
				structs.push(new Y.Skip(Y.createID(client, clock), length));
				clock += length;
			} else if ((info & 0b11111) !== 0) {
				const origin = (info & 0b1000_0000) !== 0 ? readId(decoder) : null;
				const rightOrigin = (info & 0b0100_0000) !== 0 ? readId(decoder) : null;
				const placed = (info & 0b1100_0000) !== 0;
				const parent = placed ? null : decoding.readVarUint(decoder) === 1 ? readString(decoder) : readId(decoder);
				const parentSub = !placed && (info & 0b0010_0000) !== 0 ? readString(decoder) : null;
				const content = readContent(decoder, info & 0b11111);
				// A root's name stands where Yjs's types say a type: the lazy reader leaves it so.
				const item = new Y.Item(Y.createID(client, clock), null, origin, null, rightOrigin, parent as Y.AbstractType<unknown> | Y.ID | null, parentSub, content);
				structs.push(item);
				clock += item.length;
			} else {
				const length = decoding.readVarUint(decoder);
				structs.push(new Y.GC(Y.createID(client, clock), length));
				clock += length;
			}
		}
	}
	const ds = Y.createDeleteSet();
	const clients = decoding.readVarUint(decoder);
	for (let c = 0; c < clients; c++) {
		const client = decoding.readVarUint(decoder);
		const ranges = decoding.readVarUint(decoder);
		if (ranges === 0) continue;
		let list = ds.clients.get(client);
		if (list === undefined) ds.clients.set(client, (list = []));
		for (let r = 0; r < ranges; r++) {
			const clock = decoding.readVarUint(decoder);
			list.push(new DeleteItemClass(clock, decoding.readVarUint(decoder)));
		}
	}
	return { decoded: { structs, ds }, length: decoder.pos <= end ? decoder.pos : undefined };
}

/** `Y.decodeUpdate(update)`: the same structs and delete set, read faster where it can. Throws as it does. */
export function decodeUpdateV1(update: Uint8Array): Decoded {
	return decodeWithLength(update).decoded;
}

/**
 * {@link decodeUpdateV1}, with the bytes the update's structure took where the fast reader read
 * it (Yjs ignores any bytes after them).
 */
export function decodeWithLength(update: Uint8Array): DecodedWithLength {
	try {
		return readWithLength(update);
	} catch {
		return { decoded: Y.decodeUpdate(update), length: undefined };
	}
}

/** Whether the fast reader takes `update` itself (for tests: the common updates must). */
export function readsFast(update: Uint8Array): boolean {
	try {
		readWithLength(update);
		return true;
	} catch {
		return false;
	}
}
