/**
 * Membership messages (HELLO, CHALLENGE, PROOF, OK, DENIED): writeX/readX pairs over lib0
 * encoding, y-protocols style. The message type varuint is written by writeX and has
 * already been read when readX is called. Wire format: PROTOCOL.md "Membership".
 */
import type * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { DeniedReason, MAX_ADMISSION_BYTES, MessageType, NONCE_BYTES, PROOF_BYTES } from './constants.js';
import { MalformedMessageError } from './errors.js';
import { readBoundedBytes, readBoundedUint, readId, writeId } from './codec.js';

/** Opener → responder: first message of a session. */
export interface Hello {
	type: typeof MessageType.hello;
	version: number;
	workspaceId: string;
	nonce: Uint8Array;
	/**
	 * The team operation that makes the opener a member device (its admission), for a
	 * responder that has not seen it yet; empty when the opener has none to show.
	 */
	admission: Uint8Array;
}
/** Responder → opener: the responder's nonce and its proof. */
export interface Challenge {
	type: typeof MessageType.challenge;
	nonce: Uint8Array;
	proof: Uint8Array;
}
/** Opener → responder: the opener's proof. */
export interface Proof {
	type: typeof MessageType.proof;
	proof: Uint8Array;
}
/** Responder → opener: both sides are proven; sync messages may follow. */
export interface Ok {
	type: typeof MessageType.ok;
}
/** Either way: membership refused; the sender closes. */
export interface Denied {
	type: typeof MessageType.denied;
	reason: DeniedReason;
}

/** Any membership message. */
export type MembershipMessage = Hello | Challenge | Proof | Ok | Denied;

const reasons = new Set<number>(Object.values(DeniedReason));

/** Writes HELLO. */
export function writeHello(encoder: encoding.Encoder, m: Omit<Hello, 'type'>): void {
	encoding.writeVarUint(encoder, MessageType.hello);
	encoding.writeVarUint(encoder, m.version);
	writeId(encoder, m.workspaceId);
	encoding.writeVarUint8Array(encoder, m.nonce);
	encoding.writeVarUint8Array(encoder, m.admission);
}

/** Reads HELLO's fields. Any version number is accepted here; the session checks it. */
export function readHello(decoder: decoding.Decoder): Hello {
	const version = readBoundedUint(decoder, 0xffff, 'HELLO version');
	const workspaceId = readId(decoder, 'HELLO workspace id');
	const nonce = readBoundedBytes(decoder, NONCE_BYTES, 'HELLO nonce', true);
	// Version 1 ended here; the session refuses it by its version.
	const admission = version >= 2 ? readBoundedBytes(decoder, MAX_ADMISSION_BYTES, 'HELLO admission', false) : new Uint8Array(0);
	return { type: MessageType.hello, version, workspaceId, nonce, admission };
}

/** Writes CHALLENGE. */
export function writeChallenge(encoder: encoding.Encoder, m: Omit<Challenge, 'type'>): void {
	encoding.writeVarUint(encoder, MessageType.challenge);
	encoding.writeVarUint8Array(encoder, m.nonce);
	encoding.writeVarUint8Array(encoder, m.proof);
}

/** Reads CHALLENGE's fields. */
export function readChallenge(decoder: decoding.Decoder): Challenge {
	const nonce = readBoundedBytes(decoder, NONCE_BYTES, 'CHALLENGE nonce', true);
	const proof = readBoundedBytes(decoder, PROOF_BYTES, 'CHALLENGE proof', true);
	return { type: MessageType.challenge, nonce, proof };
}

/** Writes PROOF. */
export function writeProof(encoder: encoding.Encoder, m: Omit<Proof, 'type'>): void {
	encoding.writeVarUint(encoder, MessageType.proof);
	encoding.writeVarUint8Array(encoder, m.proof);
}

/** Reads PROOF's fields. */
export function readProof(decoder: decoding.Decoder): Proof {
	return { type: MessageType.proof, proof: readBoundedBytes(decoder, PROOF_BYTES, 'PROOF proof', true) };
}

/** Writes OK. */
export function writeOk(encoder: encoding.Encoder): void {
	encoding.writeVarUint(encoder, MessageType.ok);
}

/** Writes DENIED. */
export function writeDenied(encoder: encoding.Encoder, m: Omit<Denied, 'type'>): void {
	encoding.writeVarUint(encoder, MessageType.denied);
	encoding.writeVarUint(encoder, m.reason);
}

/** Reads DENIED's fields; an unknown reason code is malformed. */
export function readDenied(decoder: decoding.Decoder): Denied {
	const reason = readBoundedUint(decoder, 0xff, 'DENIED reason');
	if (!reasons.has(reason)) throw new MalformedMessageError(`DENIED: unknown reason ${reason}`);
	return { type: MessageType.denied, reason: reason as DeniedReason };
}
