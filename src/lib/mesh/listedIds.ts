/**
 * The documents a change of the workspace root lists: the keys it sets in the root's indexes
 * (channels, notes, AI chats). A session asks on every root update whether it lists a document
 * it withheld (SyncSession.ts), so the answer costs time in proportion to the update, never to
 * the documents withheld (found in review: every root update, which any member can make for a
 * few bytes, re-checked every withheld document in every session). An honest listing is a new
 * key, written without neighbours, so it names its index; one written otherwise is found by
 * the next team change's rescan or the next session's digest instead.
 */
import * as Y from 'yjs';
import { ROOT_INDEXES } from '../doc/rootPolicy.js';
import { decodeUpdateShared } from '../doc/decodedUpdate.js';

const NONE: ReadonlySet<string> = new Set();

/** Answers by update: every session of the workspace is told of the same bytes. */
const answers = new WeakMap<Uint8Array, ReadonlySet<string>>();

/** The ids root update `update` sets in the root's indexes; empty when it does not decode. */
export function idsListedBy(update: Uint8Array): ReadonlySet<string> {
	let ids = answers.get(update);
	if (ids !== undefined) return ids;
	ids = NONE;
	try {
		for (const struct of decodeUpdateShared(update).structs) {
			if (!(struct instanceof Y.Item) || struct.parentSub === null) continue;
			// A decoded top-level item names its root by a string (Yjs's types say otherwise).
			const index = struct.parent as unknown;
			if (typeof index !== 'string' || !(ROOT_INDEXES as readonly string[]).includes(index)) continue;
			if (ids === NONE) ids = new Set<string>();
			(ids as Set<string>).add(struct.parentSub);
		}
	} catch {
		ids = NONE;
	}
	answers.set(update, ids);
	return ids;
}
