/**
 * One decoding of a remote update, shared by the checks that read it before and after it is
 * applied. A live update is decoded by the update check (mesh/updateCheck.ts), then by the
 * document's write policy (updateStructs.ts), then by what reads the records it added
 * (addedMessages.ts): three decodings of the same few bytes on every keystroke or message.
 *
 * The last small update decoded is kept with a copy of its bytes, and handed out again only for
 * bytes equal to that copy, so a buffer reused or changed in between is decoded afresh. What
 * is handed out is shared: callers read the structs and records and never change them (as
 * with the records a Y.Doc holds).
 */
import type * as Y from 'yjs';
import { decodeWithLength } from './decodeUpdateV1.js';
import * as decoding from 'lib0/decoding';

/** A Yjs update, decoded (`Y.decodeUpdate`). */
export type DecodedUpdate = ReturnType<typeof Y.decodeUpdate>;

/** Largest update kept for the next caller: live edits are far smaller, and comparing a copy costs time in proportion. */
export const MAX_SHARED_BYTES = 4096;

/** A copy of the last small update decoded (its first `keptSize` bytes; -1: none), its decoding and length. */
const kept = new Uint8Array(MAX_SHARED_BYTES);
let keptSize = -1;
let keptDecoded: DecodedUpdate | undefined;
let keptLength: number | undefined;

/** Whether `update` holds the bytes kept (compared, as a buffer may be reused or changed in between). */
function isKept(update: Uint8Array): boolean {
	if (update.length !== keptSize) return false;
	for (let i = 0; i < keptSize; i++) if (kept[i] !== update[i]) return false;
	return true;
}

/**
 * `Y.decodeUpdate(update)` (read by decodeUpdateV1.ts), from the last decoding when it was of
 * the same bytes. Throws as it does.
 */
export function decodeUpdateShared(update: Uint8Array): DecodedUpdate {
	if (keptDecoded !== undefined && isKept(update)) return keptDecoded;
	const { decoded, length } = decodeWithLength(update);
	if (update.length <= MAX_SHARED_BYTES) {
		kept.set(update);
		keptSize = update.length;
		keptDecoded = decoded;
		keptLength = length;
	}
	return decoded;
}

/**
 * How many bytes of `update` its structure takes (Yjs ignores what follows), from the last
 * decoding when it was of the same bytes and the one-loop reader read them (decodeUpdateV1.ts);
 * undefined otherwise: an update larger than {@link MAX_SHARED_BYTES} or of contents that reader
 * leaves to Yjs. Whoever hands on an update's own bytes (emitChecked.ts) then lets Yjs encode.
 */
export function updateEnd(update: Uint8Array): number | undefined {
	return keptDecoded !== undefined && isKept(update) ? keptLength : undefined;
}

/**
 * Whether a decoded update is laid out as every honest encoder lays one out (Yjs's transaction
 * and state encoders, `mergeUpdates` and `diffUpdate`): each client in one section of structs
 * (the header counts exactly those sections), and no struct of length 0. Yjs applies an update
 * with a client in two sections by keeping the last, so a check that reads every section reads
 * structs Yjs never applies (a neighbour in a section dropped places an item elsewhere than it
 * lands); and a struct of length 0 integrates without moving any clock, so nothing marks it as
 * held and peers handing it on would pass it round for ever (both found in review).
 */
export function laidOutHonestly(update: Uint8Array, decoded: DecodedUpdate): boolean {
	const { structs } = decoded;
	let sections = 0;
	for (let i = 0; i < structs.length; i++) {
		const struct = structs[i]!;
		if (struct.length <= 0) return false;
		const client = struct.id.client;
		if (i > 0 && structs[i - 1]!.id.client === client) continue;
		sections++;
		// A client seen in an earlier section (sections are few: a scan, no set).
		for (let j = 0; j < i; j++) if (structs[j]!.id.client === client) return false;
	}
	return sectionCount(update) === sections;
}

/** The number of client sections an update's header announces (-1 when it does not read). */
function sectionCount(update: Uint8Array): number {
	try {
		return decoding.readVarUint(decoding.createDecoder(update));
	} catch {
		return -1;
	}
}
