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
import { v1UpdateLength } from './updateLength.js';

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
 * How many bytes of `update` its structure takes (updateLength.ts `v1UpdateLength`), from the
 * last decoding when it was of the same bytes and read them to the end.
 */
export function updateEnd(update: Uint8Array): number | undefined {
	if (keptDecoded !== undefined && keptLength !== undefined && isKept(update)) return keptLength;
	return v1UpdateLength(update);
}
