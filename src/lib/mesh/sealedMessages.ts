/**
 * Sealed-storage messages: a member device stores sealed updates of a private
 * space's document on a relay that is not in the space (SEALED_PUT), asks for those stored
 * from an index on (SEALED_WANT), and gets them back in order (SEALED_BATCH). The envelopes are
 * opaque here (core/spaceSeal.ts seals them); the relay only checks who may store and fetch.
 * Sent only after membership, like the sync messages.
 */
import type * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { MessageType, type SyncLimits } from './constants.js';
import { MalformedMessageError } from './errors.js';
import { readBoundedBytes, readBoundedUint, readId, writeId } from './codec.js';

/** Most envelopes in one SEALED_PUT or SEALED_BATCH. */
export const MAX_SEALED_PER_MESSAGE = 256;
/** Largest index a WANT or BATCH names (a stored log never grows this long). */
const MAX_SEALED_INDEX = 2 ** 40;

/** "Store these sealed updates of this document." */
export interface SealedPut {
	type: typeof MessageType.sealedPut;
	docId: string;
	envelopes: Uint8Array[];
}
/** "Send me the sealed updates of this document from index `from` on." */
export interface SealedWant {
	type: typeof MessageType.sealedWant;
	docId: string;
	from: number;
}
/** Stored sealed updates of a document, from index `from`; `more` when the store holds more after them. */
export interface SealedBatch {
	type: typeof MessageType.sealedBatch;
	docId: string;
	from: number;
	more: boolean;
	envelopes: Uint8Array[];
}

/** Any sealed-storage message. */
export type SealedMessage = SealedPut | SealedWant | SealedBatch;

function writeEnvelopes(encoder: encoding.Encoder, envelopes: Uint8Array[]): void {
	encoding.writeVarUint(encoder, envelopes.length);
	for (const envelope of envelopes) encoding.writeVarUint8Array(encoder, envelope);
}

function readEnvelopes(decoder: decoding.Decoder, limits: SyncLimits, what: string): Uint8Array[] {
	const count = readBoundedUint(decoder, MAX_SEALED_PER_MESSAGE, `${what} count`);
	const envelopes: Uint8Array[] = [];
	let total = 0;
	for (let i = 0; i < count; i++) {
		const envelope = readBoundedBytes(decoder, limits.maxUpdateBytes - total, `${what} envelope`);
		if (envelope.length === 0) throw new MalformedMessageError(`${what}: an empty envelope`);
		total += envelope.length;
		envelopes.push(envelope);
	}
	return envelopes;
}

/** Writes SEALED_PUT. */
export function writeSealedPut(encoder: encoding.Encoder, m: Omit<SealedPut, 'type'>): void {
	encoding.writeVarUint(encoder, MessageType.sealedPut);
	writeId(encoder, m.docId);
	writeEnvelopes(encoder, m.envelopes);
}

/** Reads SEALED_PUT's fields: at most {@link MAX_SEALED_PER_MESSAGE} envelopes, `limits.maxUpdateBytes` in all. */
export function readSealedPut(decoder: decoding.Decoder, limits: SyncLimits): SealedPut {
	const docId = readId(decoder, 'SEALED_PUT doc id');
	return { type: MessageType.sealedPut, docId, envelopes: readEnvelopes(decoder, limits, 'SEALED_PUT') };
}

/** Writes SEALED_WANT. */
export function writeSealedWant(encoder: encoding.Encoder, m: Omit<SealedWant, 'type'>): void {
	encoding.writeVarUint(encoder, MessageType.sealedWant);
	writeId(encoder, m.docId);
	encoding.writeVarUint(encoder, m.from);
}

/** Reads SEALED_WANT's fields. */
export function readSealedWant(decoder: decoding.Decoder): SealedWant {
	const docId = readId(decoder, 'SEALED_WANT doc id');
	return { type: MessageType.sealedWant, docId, from: readBoundedUint(decoder, MAX_SEALED_INDEX, 'SEALED_WANT from') };
}

/** Writes SEALED_BATCH. */
export function writeSealedBatch(encoder: encoding.Encoder, m: Omit<SealedBatch, 'type'>): void {
	encoding.writeVarUint(encoder, MessageType.sealedBatch);
	writeId(encoder, m.docId);
	encoding.writeVarUint(encoder, m.from);
	encoding.writeVarUint(encoder, m.more ? 1 : 0);
	writeEnvelopes(encoder, m.envelopes);
}

/** Reads SEALED_BATCH's fields. */
export function readSealedBatch(decoder: decoding.Decoder, limits: SyncLimits): SealedBatch {
	const docId = readId(decoder, 'SEALED_BATCH doc id');
	const from = readBoundedUint(decoder, MAX_SEALED_INDEX, 'SEALED_BATCH from');
	const more = readBoundedUint(decoder, 1, 'SEALED_BATCH more') === 1;
	return { type: MessageType.sealedBatch, docId, from, more, envelopes: readEnvelopes(decoder, limits, 'SEALED_BATCH') };
}
