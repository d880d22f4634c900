/**
 * Sync messages (DIGEST, SYNC_STEP1, SYNC_STEP2, UPDATE, DONE), sent only after membership:
 * writeX/readX pairs over lib0 encoding, y-protocols style, with the document id in every
 * message (y-protocols leaves routing to the outer layer; here the outer layer is one
 * workspace). Wire format: PROTOCOL.md "Sync messages".
 */
import type * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { DIGEST_BYTES, MessageType, type SyncLimits } from './constants.js';
import { readBoundedBytes, readBoundedUint, readId, writeId } from './codec.js';

/** One document in a digest: its id and the SHA-256 of its state (see docDigest.ts). */
export interface DigestEntry {
	docId: string;
	digest: Uint8Array;
}
/** Part of a peer's list of documents; `more` is true on every part but the last. */
export interface Digest {
	type: typeof MessageType.digest;
	more: boolean;
	entries: DigestEntry[];
}
/** "Send me what I lack of this document": the sender's state vector. */
export interface SyncStep1 {
	type: typeof MessageType.syncStep1;
	docId: string;
	stateVector: Uint8Array;
}
/** The answer to SYNC_STEP1: an update with everything the asker lacked. */
export interface SyncStep2 {
	type: typeof MessageType.syncStep2;
	docId: string;
	update: Uint8Array;
}
/** A live update of one document. */
export interface Update {
	type: typeof MessageType.update;
	docId: string;
	update: Uint8Array;
}
/** The sender received every SYNC_STEP2 it asked for; `received` says how many. */
export interface Done {
	type: typeof MessageType.done;
	received: number;
}

/** Any sync message. */
export type SyncMessage = Digest | SyncStep1 | SyncStep2 | Update | Done;

/** Writes DIGEST. */
export function writeDigest(encoder: encoding.Encoder, m: Omit<Digest, 'type'>): void {
	encoding.writeVarUint(encoder, MessageType.digest);
	encoding.writeVarUint(encoder, m.more ? 1 : 0);
	encoding.writeVarUint(encoder, m.entries.length);
	for (const entry of m.entries) {
		writeId(encoder, entry.docId);
		encoding.writeVarUint8Array(encoder, entry.digest);
	}
}

/** Reads DIGEST's fields; at most `limits.maxDigestEntries` entries. */
export function readDigest(decoder: decoding.Decoder, limits: SyncLimits): Digest {
	const more = readBoundedUint(decoder, 1, 'DIGEST more') === 1;
	const count = readBoundedUint(decoder, limits.maxDigestEntries, 'DIGEST count');
	const entries: DigestEntry[] = [];
	for (let i = 0; i < count; i++) {
		const docId = readId(decoder, 'DIGEST doc id');
		entries.push({ docId, digest: readBoundedBytes(decoder, DIGEST_BYTES, 'DIGEST digest', true) });
	}
	return { type: MessageType.digest, more, entries };
}

/** Writes SYNC_STEP1. */
export function writeSyncStep1(encoder: encoding.Encoder, m: Omit<SyncStep1, 'type'>): void {
	encoding.writeVarUint(encoder, MessageType.syncStep1);
	writeId(encoder, m.docId);
	encoding.writeVarUint8Array(encoder, m.stateVector);
}

/** Reads SYNC_STEP1's fields. */
export function readSyncStep1(decoder: decoding.Decoder, limits: SyncLimits): SyncStep1 {
	const docId = readId(decoder, 'SYNC_STEP1 doc id');
	const stateVector = readBoundedBytes(decoder, limits.maxControlBytes, 'SYNC_STEP1 state vector');
	return { type: MessageType.syncStep1, docId, stateVector };
}

/** Writes SYNC_STEP2. */
export function writeSyncStep2(encoder: encoding.Encoder, m: Omit<SyncStep2, 'type'>): void {
	encoding.writeVarUint(encoder, MessageType.syncStep2);
	writeId(encoder, m.docId);
	encoding.writeVarUint8Array(encoder, m.update);
}

/** Reads SYNC_STEP2's fields. */
export function readSyncStep2(decoder: decoding.Decoder, limits: SyncLimits): SyncStep2 {
	const docId = readId(decoder, 'SYNC_STEP2 doc id');
	const update = readBoundedBytes(decoder, limits.maxStep2Bytes, 'SYNC_STEP2 update');
	return { type: MessageType.syncStep2, docId, update };
}

/** Writes UPDATE. */
export function writeUpdate(encoder: encoding.Encoder, m: Omit<Update, 'type'>): void {
	encoding.writeVarUint(encoder, MessageType.update);
	writeId(encoder, m.docId);
	encoding.writeVarUint8Array(encoder, m.update);
}

/** Reads UPDATE's fields. */
export function readUpdate(decoder: decoding.Decoder, limits: SyncLimits): Update {
	const docId = readId(decoder, 'UPDATE doc id');
	const update = readBoundedBytes(decoder, limits.maxUpdateBytes, 'UPDATE update');
	return { type: MessageType.update, docId, update };
}

/** Writes DONE. */
export function writeDone(encoder: encoding.Encoder, m: Omit<Done, 'type'>): void {
	encoding.writeVarUint(encoder, MessageType.done);
	encoding.writeVarUint(encoder, m.received);
}

/** Reads DONE's fields. */
export function readDone(decoder: decoding.Decoder, limits: SyncLimits): Done {
	return { type: MessageType.done, received: readBoundedUint(decoder, limits.maxDocs, 'DONE received') };
}
