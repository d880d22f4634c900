/**
 * The documents a {@link SyncSession} syncs, as a small interface over bytes. The store layer
 * implements it over DocStore (opening documents on demand, keeping each document's digest
 * in Dexie so a digest costs no document load); tests implement it over plain Y.Docs
 * (tests/unit/mesh/memoryDocs.ts). Also the digest function both sides must agree on.
 */
import * as encoding from 'lib0/encoding';
import * as Y from 'yjs';
import type { TargetClocks } from './updateCheck.js';
import { toHex } from './workspaceKeys.js';

/** Called with every change to any document: the update and its transaction origin. */
export type UpdateListener = (docId: string, update: Uint8Array, origin: unknown) => void;

/** Maybe a promise. */
export type Awaitable<T> = T | Promise<T>;

/**
 * The documents of one workspace on this peer. Methods may be synchronous or async; none is
 * ever given bytes that did not decode (the session checks state vectors first, and updates
 * with updateCheck.ts's dry run).
 */
export interface SyncDocs {
	/** Ids of every document of the workspace this peer holds. */
	list(): Awaitable<string[]>;
	/** {@link docDigest} of a document, or undefined when this peer does not hold it. */
	digest(docId: string): Awaitable<string | undefined>;
	/** `Y.encodeStateVector` of a document, or undefined when this peer does not hold it. */
	stateVector(docId: string): Awaitable<Uint8Array | undefined>;
	/**
	 * A lookup of a document's clock per client (`Y.getState`), or undefined when this peer does
	 * not hold it: what the update check reads ({@link targetClocks}). Optional; it spares the
	 * check encoding and decoding the whole state vector, which grows with every session that
	 * ever wrote the document.
	 */
	clocks?(docId: string): Awaitable<((client: number) => number) | undefined>;
	/** `Y.encodeStateAsUpdate(doc, stateVector)`, or undefined when this peer does not hold it. */
	diff(docId: string, stateVector: Uint8Array): Awaitable<Uint8Array | undefined>;
	/**
	 * Applies a remote update with `origin` as the transaction origin, creating the document
	 * when this peer does not hold it yet. `from`: the peer id it came from (a session's peer,
	 * gossip's signed publisher), which the write policy asks about (writePolicy.ts
	 * `updateContext`). Throws (or rejects) when the update is refused.
	 */
	apply(docId: string, update: Uint8Array, origin: unknown, from?: string): Awaitable<void>;
	/** Subscribes to every update of every document (local edits and remote ones); returns an unsubscribe. */
	onLocalUpdate(listener: UpdateListener): () => void;
	/**
	 * Whether the workspace names document `docId` to every member (its root, its roster, and
	 * what the root lists). Under a team (teamGate.ts), a document it does not name (one that
	 * arrived before the root change that lists it, or a private space's) is offered to nobody
	 * unless the team says who may hold it. Without this method every document is named.
	 */
	isListed?(docId: string): boolean;
	/** Whether the workspace root lists document `docId` as a note (teamGate.ts `mayShare`). */
	isNote?(docId: string): boolean;
}

/** The state vector of a document this peer does not hold. */
export const EMPTY_STATE_VECTOR = Y.encodeStateVector(new Y.Doc());

/** The update of a document this peer does not hold. */
export const EMPTY_UPDATE = Y.encodeStateAsUpdate(new Y.Doc());

/** What the update check (updateCheck.ts) reads of document `docId`: its clock lookup where `docs` has one, else its state vector. */
export async function targetClocks(docs: SyncDocs, docId: string): Promise<TargetClocks> {
	if (docs.clocks !== undefined) return (await docs.clocks(docId)) ?? EMPTY_STATE_VECTOR;
	return (await docs.stateVector(docId)) ?? EMPTY_STATE_VECTOR;
}

/**
 * The digest of a document's state: lower-case hex SHA-256 over lib0 varuint8array of
 * `Y.encodeStateVector(doc)` followed by varuint8array of the document's delete set
 * (`Y.encodeStateAsUpdate(doc, ownStateVector)`: no structs, the whole delete set). The
 * delete set is included because a deletion does not advance the state vector.
 */
export async function docDigest(doc: Y.Doc): Promise<string> {
	const stateVector = Y.encodeStateVector(doc);
	const encoder = encoding.createEncoder();
	encoding.writeVarUint8Array(encoder, stateVector);
	encoding.writeVarUint8Array(encoder, Y.encodeStateAsUpdate(doc, stateVector));
	const bytes = encoding.toUint8Array(encoder) as Uint8Array<ArrayBuffer>;
	return toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)));
}

/** True when `stateVector` decodes completely as a Yjs state vector. Never throws. */
export function isDecodableStateVector(stateVector: Uint8Array): boolean {
	try {
		Y.decodeStateVector(stateVector);
		return true;
	} catch {
		return false;
	}
}
