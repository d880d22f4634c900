/**
 * Whole messages: {@link encodeMessage} and {@link decodeMessage} over the writeX/readX
 * pairs of membershipMessages.ts and syncMessages.ts. Decoding checks the size limit of the
 * message's type before reading a field, requires the message to be consumed exactly, and
 * turns every failure into a named error.
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { MessageType, type SyncLimits } from './constants.js';
import { MalformedMessageError, MessageTooLargeError } from './errors.js';
import { expectEnd, readBoundedUint } from './codec.js';
import * as mm from './membershipMessages.js';
import * as sm from './syncMessages.js';
import * as sealed from './sealedMessages.js';

export type * from './membershipMessages.js';
export type * from './syncMessages.js';
export type * from './sealedMessages.js';

/** Any protocol message. */
export type Message = mm.MembershipMessage | sm.SyncMessage | sealed.SealedMessage;

/** Encodes one message. */
export function encodeMessage(m: Message): Uint8Array {
	const encoder = encoding.createEncoder();
	switch (m.type) {
		case MessageType.hello:
			mm.writeHello(encoder, m);
			break;
		case MessageType.challenge:
			mm.writeChallenge(encoder, m);
			break;
		case MessageType.proof:
			mm.writeProof(encoder, m);
			break;
		case MessageType.ok:
			mm.writeOk(encoder);
			break;
		case MessageType.denied:
			mm.writeDenied(encoder, m);
			break;
		case MessageType.digest:
			sm.writeDigest(encoder, m);
			break;
		case MessageType.syncStep1:
			sm.writeSyncStep1(encoder, m);
			break;
		case MessageType.syncStep2:
			sm.writeSyncStep2(encoder, m);
			break;
		case MessageType.update:
			sm.writeUpdate(encoder, m);
			break;
		case MessageType.done:
			sm.writeDone(encoder, m);
			break;
		case MessageType.sealedPut:
			sealed.writeSealedPut(encoder, m);
			break;
		case MessageType.sealedWant:
			sealed.writeSealedWant(encoder, m);
			break;
		case MessageType.sealedBatch:
			sealed.writeSealedBatch(encoder, m);
			break;
	}
	return encoding.toUint8Array(encoder);
}

/** The largest message of a type allowed by `limits`. */
export function sizeLimit(type: MessageType, limits: SyncLimits): number {
	if (type === MessageType.syncStep2) return limits.maxStep2Bytes + 64;
	if (type === MessageType.update) return limits.maxUpdateBytes + 64;
	// Envelopes of at most maxUpdateBytes in all, each with its length's varint.
	if (type === MessageType.sealedPut || type === MessageType.sealedBatch) return limits.maxUpdateBytes + 64 + 8 * sealed.MAX_SEALED_PER_MESSAGE;
	return limits.maxControlBytes;
}

const types = new Set<number>(Object.values(MessageType));

/**
 * Decodes one message. Throws only {@link MalformedMessageError} or
 * {@link MessageTooLargeError}, never an error from lib0.
 */
export function decodeMessage(bytes: Uint8Array, limits: SyncLimits): Message {
	const hardLimit = Math.max(
		limits.maxControlBytes,
		sizeLimit(MessageType.update, limits),
		sizeLimit(MessageType.syncStep2, limits)
	);
	if (bytes.length > hardLimit) throw new MessageTooLargeError(bytes.length, hardLimit);
	try {
		const decoder = decoding.createDecoder(bytes);
		const type = readBoundedUint(decoder, 0x7f, 'message type');
		if (!types.has(type)) throw new MalformedMessageError(`unknown message type ${type}`);
		const limit = sizeLimit(type as MessageType, limits);
		if (bytes.length > limit) throw new MessageTooLargeError(bytes.length, limit);
		const m = readBody(type as MessageType, decoder, limits);
		expectEnd(decoder, `message type ${type}`);
		return m;
	} catch (error) {
		if (error instanceof MalformedMessageError || error instanceof MessageTooLargeError) throw error;
		throw new MalformedMessageError(`undecodable message (${error instanceof Error ? error.message : String(error)})`);
	}
}

function readBody(type: MessageType, decoder: decoding.Decoder, limits: SyncLimits): Message {
	switch (type) {
		case MessageType.hello:
			return mm.readHello(decoder);
		case MessageType.challenge:
			return mm.readChallenge(decoder);
		case MessageType.proof:
			return mm.readProof(decoder);
		case MessageType.ok:
			return { type };
		case MessageType.denied:
			return mm.readDenied(decoder);
		case MessageType.digest:
			return sm.readDigest(decoder, limits);
		case MessageType.syncStep1:
			return sm.readSyncStep1(decoder, limits);
		case MessageType.syncStep2:
			return sm.readSyncStep2(decoder, limits);
		case MessageType.update:
			return sm.readUpdate(decoder, limits);
		case MessageType.done:
			return sm.readDone(decoder, limits);
		case MessageType.sealedPut:
			return sealed.readSealedPut(decoder, limits);
		case MessageType.sealedWant:
			return sealed.readSealedWant(decoder);
		case MessageType.sealedBatch:
			return sealed.readSealedBatch(decoder, limits);
	}
}
