/**
 * Sealed live updates for the workspace's gossip topic (PROTOCOL.md "Gossip envelope").
 * AES-GCM-256 with the workspace's gossip key and a random 96-bit IV per message; the
 * document id travels inside the ciphertext, and the workspace id is authenticated as
 * associated data, so a relay that forwards the topic learns neither, and an envelope of
 * another workspace, a tampered one or garbage fails with an {@link EnvelopeError}.
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { IV_BYTES, MAX_ENVELOPE_BYTES } from './constants.js';
import { expectEnd, readBoundedBytes, readBoundedUint, readId, writeId } from './codec.js';
import { EnvelopeError } from './errors.js';
import type { WorkspaceKeys } from './workspaceKeys.js';

/** Envelope format version (first varuint of an envelope). */
export const ENVELOPE_VERSION = 1;

/** Label at the start of the associated data. */
export const ENVELOPE_LABEL = 'outpost/gossip-envelope/1';

/** An opened envelope: one live update of one document. */
export interface GossipUpdate {
	docId: string;
	update: Uint8Array;
}

/** Associated data: varstring label, varstring workspace id. */
function associatedData(workspaceId: string): Uint8Array<ArrayBuffer> {
	const encoder = encoding.createEncoder();
	encoding.writeVarString(encoder, ENVELOPE_LABEL);
	encoding.writeVarString(encoder, workspaceId);
	return encoding.toUint8Array(encoder) as Uint8Array<ArrayBuffer>;
}

/** Seals one update: varuint version, varuint8array iv, varuint8array ciphertext. */
export async function sealEnvelope(keys: WorkspaceKeys, docId: string, update: Uint8Array): Promise<Uint8Array> {
	const plain = encoding.createEncoder();
	writeId(plain, docId);
	encoding.writeVarUint8Array(plain, update);
	const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
	const params = { name: 'AES-GCM', iv, additionalData: associatedData(keys.workspaceId) };
	const sealed = await crypto.subtle.encrypt(params, keys.gossip, encoding.toUint8Array(plain) as Uint8Array<ArrayBuffer>);
	const out = encoding.createEncoder();
	encoding.writeVarUint(out, ENVELOPE_VERSION);
	encoding.writeVarUint8Array(out, iv);
	encoding.writeVarUint8Array(out, new Uint8Array(sealed));
	return encoding.toUint8Array(out);
}

/**
 * Opens an envelope sealed by {@link sealEnvelope} with the same workspace's keys. Throws
 * only {@link EnvelopeError}. The update is not checked as a Yjs update here.
 */
export async function openEnvelope(keys: WorkspaceKeys, bytes: Uint8Array, maxBytes = MAX_ENVELOPE_BYTES): Promise<GossipUpdate> {
	if (bytes.length > maxBytes) throw new EnvelopeError(`envelope of ${bytes.length} bytes exceeds ${maxBytes}`);
	let iv: Uint8Array<ArrayBuffer>;
	let sealed: Uint8Array<ArrayBuffer>;
	try {
		const decoder = decoding.createDecoder(bytes);
		const version = readBoundedUint(decoder, 0xffff, 'envelope version');
		if (version !== ENVELOPE_VERSION) throw new EnvelopeError(`envelope version ${version}`);
		iv = readBoundedBytes(decoder, IV_BYTES, 'envelope iv', true) as Uint8Array<ArrayBuffer>;
		sealed = readBoundedBytes(decoder, maxBytes, 'envelope ciphertext') as Uint8Array<ArrayBuffer>;
		expectEnd(decoder, 'envelope');
	} catch (error) {
		throw error instanceof EnvelopeError ? error : new EnvelopeError(`malformed envelope (${(error as Error).message})`);
	}
	let plain: Uint8Array;
	try {
		const params = { name: 'AES-GCM', iv, additionalData: associatedData(keys.workspaceId) };
		plain = new Uint8Array(await crypto.subtle.decrypt(params, keys.gossip, sealed));
	} catch {
		throw new EnvelopeError('envelope does not open with this workspace key (tampered, or another workspace)');
	}
	try {
		const decoder = decoding.createDecoder(plain);
		const docId = readId(decoder, 'envelope doc id');
		const update = readBoundedBytes(decoder, maxBytes, 'envelope update');
		expectEnd(decoder, 'envelope plaintext');
		return { docId, update };
	} catch (error) {
		throw new EnvelopeError(`malformed envelope plaintext (${(error as Error).message})`);
	}
}
