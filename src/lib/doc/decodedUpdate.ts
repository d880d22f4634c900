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
import { decodeUpdateV1 } from './decodeUpdateV1.js';

/** A Yjs update, decoded (`Y.decodeUpdate`). */
export type DecodedUpdate = ReturnType<typeof Y.decodeUpdate>;

/** Largest update kept for the next caller: live edits are far smaller, and comparing a copy costs time in proportion. */
export const MAX_SHARED_BYTES = 4096;

let last: { bytes: Uint8Array; decoded: DecodedUpdate } | undefined;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
	if (a.length !== b.length) return false;
	for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
	return true;
}

/**
 * `Y.decodeUpdate(update)` (read by decodeUpdateV1.ts), from the last decoding when it was of
 * the same bytes. Throws as it does.
 */
export function decodeUpdateShared(update: Uint8Array): DecodedUpdate {
	if (last !== undefined && sameBytes(last.bytes, update)) return last.decoded;
	const decoded = decodeUpdateV1(update);
	if (update.byteLength <= MAX_SHARED_BYTES) last = { bytes: update.slice(), decoded };
	return decoded;
}
