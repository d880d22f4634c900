/**
 * The team's operations inside the workspace's roster document: a Y.Map named `ops` from
 * operation id to encoded operation. The map only grows. Every replica checks each remote
 * update to this document with {@link checkTeamUpdate} before applying it, so nobody can
 * delete or overwrite an operation: a signature that covers a record is worth nothing if
 * the record can be made to vanish. (Other root types of a roster written before signed
 * teams are left alone and ignored.)
 *
 * Two replicas may add the same operation on their own (a relay seeds the roster with the
 * operations an admin sent it over HTTP, while the admin's own entries sync too): Yjs keeps
 * one entry per key and deletes the other. Such a deletion is allowed, because the key keeps
 * its bytes: an update that deletes anything in the map is applied to a copy first, and
 * refused when any operation present before is then missing or different.
 */
import * as Y from 'yjs';
import { decodeForCheck, overlapping, type AnyStruct } from '../updateStructs.js';
import { decodeOp, isRootPayload, opId, type TeamOp } from './ops.js';

/** The root type name of the operations map. */
export const TEAM_OPS = 'ops';

/** The operations map of a roster document. */
export function teamOps(doc: Y.Doc): Y.Map<Uint8Array> {
	return doc.getMap<Uint8Array>(TEAM_OPS);
}

/**
 * Adds an operation (a no-op when present, and for a second root operation, which no replica
 * takes: see {@link holdsRoot}; an archive request, for one, hands the relay operations).
 */
export function addTeamOp(doc: Y.Doc, op: TeamOp): void {
	const ops = teamOps(doc);
	if (ops.has(op.id) || (isRootPayload(op.payload) && holdsRoot(doc))) return;
	// A copy: Yjs stores only plain Uint8Arrays (bytes read off the wire may be a Node Buffer, or
	// a view into a larger frame).
	ops.set(op.id, new Uint8Array(op.bytes));
}

/** Every well-formed operation in the document (signatures not checked), and the ids of malformed ones. */
export function readTeamOps(doc: Y.Doc): { ops: TeamOp[]; malformed: string[] } {
	const ops: TeamOp[] = [];
	const malformed: string[] = [];
	for (const [id, bytes] of teamOps(doc).entries()) {
		try {
			if (!(bytes instanceof Uint8Array) || opId(bytes) !== id) throw new Error('id mismatch');
			ops.push(decodeOp(bytes));
		} catch {
			malformed.push(id);
		}
	}
	return { ops, malformed };
}

/** Why a remote update to a roster document is refused. */
export class TeamUpdateRejectedError extends Error {
	override name = 'TeamUpdateRejectedError';
}

/**
 * Refuses an update that would delete or overwrite an operation, or that adds anything to
 * the operations map but an operation stored under its own id. Returns the reason, or
 * undefined when the update may be applied. Pure: `doc` is only read.
 */
export function checkTeamUpdate(doc: Y.Doc, update: Uint8Array): string | undefined {
	const checked = decodeForCheck(doc, update);
	if (checked === undefined) return 'undecodable update';
	const { decoded, store, inUpdate } = checked;
	const ops = teamOps(doc);
	// An item sent with an origin carries no parent: it is placed next to its origin, so it
	// belongs to the operations map when its origin does (a map entry set over an old one).
	const inOps = (struct: AnyStruct | undefined, depth = 0): boolean => {
		if (!(struct instanceof Y.Item) || depth > 64) return false;
		// Decoded items name a root type by its name (a string), which Yjs's types leave out.
		const parent = struct.parent as unknown;
		if (parent === TEAM_OPS || parent === ops) return true;
		if (parent !== null) return false;
		const near = struct.origin ?? struct.rightOrigin;
		return near !== null && inOps(checked.find(near.client, near.clock), depth + 1);
	};
	/** Whether the update deletes an entry of the map: then applied to a copy first (see the module comment). */
	let deletes = false;
	/** Keys of entries that arrive already deleted: each must still have a live entry afterwards. */
	const deletedKeys = new Set<string>();
	/** Root operations (`create`) this update brings. */
	let roots = 0;
	for (const struct of decoded.structs) {
		if (!(struct instanceof Y.Item) || !inOps(struct)) continue;
		if ((struct.parent as unknown) !== TEAM_OPS) return 'an operation cannot be overwritten';
		const key = struct.parentSub;
		if (key === null) return 'the operations map takes keyed values only';
		const content = struct.content;
		if (content instanceof Y.ContentDeleted) {
			deletes = true;
			deletedKeys.add(key);
			continue;
		}
		if (!(content instanceof Y.ContentBinary)) return 'an operation is stored as bytes';
		if (opId(content.content) !== key) return 'an operation is stored under its own id';
		const existing = ops.get(key);
		if (existing !== undefined && !bytesEqual(existing, content.content)) return 'an operation cannot be overwritten';
		if (existing === undefined && isRoot(content.content)) {
			if (roots > 0 || holdsRoot(doc)) return 'a team has one root operation';
			roots++;
		}
	}
	// Deletions: none may touch an item of the operations map, present or in this update.
	for (const [client, ranges] of decoded.ds.clients) {
		for (const range of ranges) {
			for (const list of [store.get(client), inUpdate.get(client)]) {
				for (const struct of overlapping(list, range.clock, range.len)) if (inOps(struct)) deletes = true;
			}
		}
	}
	return deletes ? keepsEveryOp(doc, update, deletedKeys) : undefined;
}

/** Whether `bytes` hold a `create` with no parents (a team's root); malformed bytes are not one. */
function isRoot(bytes: Uint8Array): boolean {
	try {
		return isRootPayload(decodeOp(bytes).payload);
	} catch {
		return false;
	}
}

/** Rosters known to hold a root operation (a roster only grows, so once true, for good). */
const rooted = new WeakSet<Y.Doc>();

/**
 * Whether roster `doc` holds a root operation. A second one is refused by every replica that
 * holds the first: the creator's key could sign another `create` of the same workspace (its id
 * certifies the creator and nonce only) and, with a smaller id, take the team over as its only
 * owner (found in review).
 */
function holdsRoot(doc: Y.Doc): boolean {
	if (rooted.has(doc)) return true;
	for (const bytes of teamOps(doc).values()) {
		if (isRoot(bytes)) {
			rooted.add(doc);
			return true;
		}
	}
	return false;
}

/**
 * Refuses `update` when, applied to a copy of `doc`, it leaves an operation of `doc` missing
 * or changed, or delivers an entry already deleted whose operation has no live entry (an
 * operation this replica has not seen yet must not arrive deleted: a removed member could
 * otherwise hand a newcomer the team without its own removal).
 */
function keepsEveryOp(doc: Y.Doc, update: Uint8Array, deletedKeys: Set<string>): string | undefined {
	const copy = new Y.Doc({ gc: false });
	try {
		Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc));
		Y.applyUpdate(copy, update);
	} catch {
		return 'undecodable update';
	}
	const after = teamOps(copy);
	for (const [id, bytes] of teamOps(doc).entries()) {
		const now = after.get(id);
		if (!(now instanceof Uint8Array) || !bytesEqual(now, bytes)) return 'an operation cannot be deleted';
	}
	for (const key of deletedKeys) if (!(after.get(key) instanceof Uint8Array)) return 'an operation cannot be deleted';
	copy.destroy();
	return undefined;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
	return a.length === b.length && a.every((x, i) => x === b[i]);
}
