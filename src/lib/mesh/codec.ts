/**
 * Bounded readers over lib0 decoding. Every length and count is checked against what is
 * left in the message and against a limit before anything is allocated or sliced, so a
 * hostile length field costs nothing; every failure is a {@link MalformedMessageError}.
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { isId } from '../doc/ids.js';
import { MalformedMessageError } from './errors.js';

/** Length of a document or workspace id on the wire (see ids.ts). */
export const ID_LENGTH = 26;

/** Reads a varuint no larger than `max`. */
export function readBoundedUint(decoder: decoding.Decoder, max: number, what: string): number {
	if (!decoding.hasContent(decoder)) throw new MalformedMessageError(`${what}: message ends early`);
	const start = decoder.pos;
	let value: number;
	try {
		value = decoding.readVarUint(decoder);
	} catch {
		throw new MalformedMessageError(`${what}: bad varuint`);
	}
	if (decoder.pos - start > 8 || value > max) throw new MalformedMessageError(`${what}: ${value} exceeds ${max}`);
	return value;
}

/**
 * Reads a varuint8array of at most `max` bytes (exactly `max` when `exact`), copied out of
 * the message buffer.
 */
export function readBoundedBytes(decoder: decoding.Decoder, max: number, what: string, exact = false): Uint8Array {
	const length = readBoundedUint(decoder, max, `${what} length`);
	if (exact && length !== max) throw new MalformedMessageError(`${what}: ${length} bytes, expected ${max}`);
	if (length > decoder.arr.length - decoder.pos) throw new MalformedMessageError(`${what}: message ends early`);
	const bytes = decoder.arr.slice(decoder.pos, decoder.pos + length);
	decoder.pos += length;
	return bytes;
}

/** Reads a varstring that must be an id made by `newId` (26 base32 characters). */
export function readId(decoder: decoding.Decoder, what: string): string {
	const bytes = readBoundedBytes(decoder, ID_LENGTH, what, true);
	const id = String.fromCharCode(...bytes);
	if (!isId(id)) throw new MalformedMessageError(`${what}: not an id`);
	return id;
}

/** Writes an id as a varstring (ASCII, so one byte per character). */
export function writeId(encoder: encoding.Encoder, id: string): void {
	encoding.writeVarString(encoder, id);
}

/** Fails unless the whole message was consumed. */
export function expectEnd(decoder: decoding.Decoder, what: string): void {
	if (decoding.hasContent(decoder)) throw new MalformedMessageError(`${what}: trailing bytes`);
}
