/**
 * How many bytes of a Yjs update (format V1) its structure occupies, read the way Yjs 13.6
 * reads it (`readClientsStructRefs`, `readItemContent`, `readDeleteSet` with the V1 decoders),
 * without building the structs. Yjs ignores whatever follows: an update of 40 bytes with a
 * megabyte after them applies as the 40 bytes. Whoever stores or forwards an update's own bytes
 * instead of Yjs's encoding of what it applied (emitChecked.ts) compares this with the length.
 */
import * as decoding from 'lib0/decoding';

/** Content refs of `info & 31` (Yjs `contentRefs`). */
const DELETED = 1;
const JSON_CONTENT = 2;
const BINARY = 3;
const STRING = 4;
const EMBED = 5;
const FORMAT = 6;
const TYPE = 7;
const ANY = 8;
const GC = 0;
const SKIP = 10;
/** Type refs whose content carries a key (Yjs `typeRefs`: YXmlElement, YXmlHook). */
const XML_ELEMENT = 3;
const XML_HOOK = 5;
/** The largest type ref (YXmlText). */
const LAST_TYPE_REF = 6;

/** Moves past a length-prefixed byte string (a string, a key, a JSON text or a buffer). */
function skipBytes(decoder: decoding.Decoder): void {
	const length = decoding.readVarUint(decoder);
	decoder.pos += length;
	if (decoder.pos > decoder.arr.length) throw new RangeError('past the end');
}

/** Moves past an ID (client, clock). */
function skipId(decoder: decoding.Decoder): void {
	decoding.readVarUint(decoder);
	decoding.readVarUint(decoder);
}

/** Moves past one item's content; false for content this reader does not take (a subdocument, an unknown ref). */
function skipContent(decoder: decoding.Decoder, ref: number): boolean {
	switch (ref) {
		case DELETED:
			decoding.readVarUint(decoder);
			return true;
		case JSON_CONTENT: {
			const count = decoding.readVarUint(decoder);
			for (let i = 0; i < count; i++) skipBytes(decoder);
			return true;
		}
		case BINARY:
		case STRING:
		case EMBED:
			skipBytes(decoder);
			return true;
		case FORMAT:
			skipBytes(decoder);
			skipBytes(decoder);
			return true;
		case TYPE: {
			const typeRef = decoding.readVarUint(decoder);
			if (typeRef > LAST_TYPE_REF) return false;
			if (typeRef === XML_ELEMENT || typeRef === XML_HOOK) skipBytes(decoder);
			return true;
		}
		case ANY: {
			const count = decoding.readVarUint(decoder);
			for (let i = 0; i < count; i++) decoding.readAny(decoder);
			return true;
		}
		default:
			return false;
	}
}

/** The bytes `update`'s structs and delete set occupy (V1), or undefined when it does not read as one. */
export function v1UpdateLength(update: Uint8Array): number | undefined {
	const decoder = decoding.createDecoder(update);
	try {
		const sections = decoding.readVarUint(decoder);
		for (let s = 0; s < sections; s++) {
			const structs = decoding.readVarUint(decoder);
			decoding.readVarUint(decoder); // client
			decoding.readVarUint(decoder); // first clock
			for (let i = 0; i < structs; i++) {
				const info = decoding.readUint8(decoder);
				const ref = info & 0b11111;
				if (ref === GC || ref === SKIP) {
					decoding.readVarUint(decoder); // length
					continue;
				}
				const origin = (info & 0b1000_0000) !== 0;
				const rightOrigin = (info & 0b0100_0000) !== 0;
				if (origin) skipId(decoder);
				if (rightOrigin) skipId(decoder);
				if (!origin && !rightOrigin) {
					if (decoding.readVarUint(decoder) === 1) skipBytes(decoder); // a root's name
					else skipId(decoder); // a parent's ID
					if ((info & 0b0010_0000) !== 0) skipBytes(decoder); // parentSub
				}
				if (!skipContent(decoder, ref)) return undefined;
			}
		}
		const clients = decoding.readVarUint(decoder);
		for (let c = 0; c < clients; c++) {
			decoding.readVarUint(decoder); // client
			const ranges = decoding.readVarUint(decoder);
			for (let r = 0; r < ranges; r++) skipId(decoder); // clock and length, read as an ID is
		}
		return decoder.pos <= update.length ? decoder.pos : undefined;
	} catch {
		return undefined;
	}
}
