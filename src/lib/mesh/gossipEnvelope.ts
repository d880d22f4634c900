/**
 * Sealed envelopes for the workspace's gossip topic (PROTOCOL.md "Gossip envelope"): live
 * document updates, awareness (presence) updates and model adverts (PROTOCOL.md "Model
 * adverts"). AES-GCM-256 with a gossip key of the workspace's keyring (keyring.ts: the
 * team's current key generation, or the legacy key derived from the secret) and a random
 * 96-bit IV per message. The key's generation id travels in clear so the receiver knows
 * which key to open with, and is authenticated as associated data; the document id travels
 * inside the ciphertext, and the workspace id is authenticated as associated data, so a
 * relay that forwards the topic learns neither, and an envelope of another workspace, of a
 * generation this device does not hold, a tampered one or garbage fails with an
 * {@link EnvelopeError}. The kinds are domain-separated twice: by the envelope's first
 * varuint ({@link EnvelopeKind}) and by the label that starts the associated data, so an
 * envelope of one kind never opens as another.
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { IV_BYTES, MAX_ADVERT_ENVELOPE_BYTES, MAX_AWARENESS_ENVELOPE_BYTES, MAX_ENVELOPE_BYTES } from './constants.js';
import { expectEnd, ID_LENGTH, readBoundedBytes, readBoundedUint, readId, writeId } from './codec.js';
import { isId } from '../doc/ids.js';
import { EnvelopeError } from './errors.js';
import { GossipKeyring } from './keyring.js';
import type { WorkspaceKeys } from './workspaceKeys.js';

/** Envelope kinds (first varuint of an envelope); each kind's layout is at version 2 (its label's suffix). */
export const EnvelopeKind = {
	/** One live Yjs update of one document. */
	update: 1,
	/** One y-protocols awareness update (presence, typing). */
	awareness: 2,
	/** One peer's model advert (src/lib/ai/adverts.ts): the models it serves to members. */
	advert: 3
} as const;

/** One of {@link EnvelopeKind}'s values. */
export type EnvelopeKind = (typeof EnvelopeKind)[keyof typeof EnvelopeKind];

/** Envelope format version of document updates (= {@link EnvelopeKind.update}). */
export const ENVELOPE_VERSION = EnvelopeKind.update;

/** Label at the start of the associated data of a document update envelope. */
export const ENVELOPE_LABEL = 'outpost/gossip-envelope/2';

/** Label at the start of the associated data of an awareness envelope. */
export const AWARENESS_ENVELOPE_LABEL = 'outpost/gossip-awareness/2';

/** Label at the start of the associated data of a model advert envelope. */
export const ADVERT_ENVELOPE_LABEL = 'outpost/gossip-advert/2';

const LABELS: Record<EnvelopeKind, string> = {
	[EnvelopeKind.update]: ENVELOPE_LABEL,
	[EnvelopeKind.awareness]: AWARENESS_ENVELOPE_LABEL,
	[EnvelopeKind.advert]: ADVERT_ENVELOPE_LABEL
};

/** An opened envelope: one live update of one document. */
export interface GossipUpdate {
	docId: string;
	update: Uint8Array;
}

/**
 * The kind an envelope claims to be (its first varuint), without opening it; undefined when
 * not even that decodes. Only for routing: the claim is authenticated when the envelope is opened.
 */
export function envelopeKind(bytes: Uint8Array): number | undefined {
	try {
		return readBoundedUint(decoding.createDecoder(bytes), 0xffff, 'envelope kind');
	} catch {
		return undefined;
	}
}

/** Seals one document update: varuint kind 1, varstring key id, varuint8array iv, varuint8array ciphertext. */
export async function sealEnvelope(keys: WorkspaceKeys, docId: string, update: Uint8Array): Promise<Uint8Array> {
	const plain = encoding.createEncoder();
	writeId(plain, docId);
	encoding.writeVarUint8Array(plain, update);
	return seal(keys, EnvelopeKind.update, encoding.toUint8Array(plain));
}

/**
 * Opens an envelope sealed by {@link sealEnvelope} with the same workspace's keys (the key of
 * the generation it names). Throws only {@link EnvelopeError}. The update is not checked as
 * a Yjs update here.
 */
export async function openEnvelope(keys: WorkspaceKeys, bytes: Uint8Array, maxBytes = MAX_ENVELOPE_BYTES): Promise<GossipUpdate> {
	const plain = await open(keys, EnvelopeKind.update, bytes, maxBytes);
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

/** Seals `payload` as one varuint8array in an envelope of `kind`. */
async function sealPayload(keys: WorkspaceKeys, kind: EnvelopeKind, payload: Uint8Array): Promise<Uint8Array> {
	const plain = encoding.createEncoder();
	encoding.writeVarUint8Array(plain, payload);
	return seal(keys, kind, encoding.toUint8Array(plain));
}

/** Opens an envelope of `kind` sealed by {@link sealPayload}; throws only {@link EnvelopeError}. */
async function openPayload(keys: WorkspaceKeys, kind: EnvelopeKind, bytes: Uint8Array, maxBytes: number, what: string): Promise<Uint8Array> {
	const plain = await open(keys, kind, bytes, maxBytes);
	try {
		const decoder = decoding.createDecoder(plain);
		const payload = readBoundedBytes(decoder, maxBytes, what);
		expectEnd(decoder, `${what} envelope plaintext`);
		return payload;
	} catch (error) {
		throw new EnvelopeError(`malformed ${what} envelope plaintext (${(error as Error).message})`);
	}
}

/**
 * Seals one awareness update (`encodeAwarenessUpdate` of y-protocols): varuint kind 2,
 * varstring key id, varuint8array iv, varuint8array ciphertext of varuint8array update.
 */
export function sealAwarenessEnvelope(keys: WorkspaceKeys, update: Uint8Array): Promise<Uint8Array> {
	return sealPayload(keys, EnvelopeKind.awareness, update);
}

/**
 * Opens an envelope sealed by {@link sealAwarenessEnvelope}; returns the awareness update,
 * not checked as one here. Throws only {@link EnvelopeError}, also for a document update
 * envelope and for one over `maxBytes` (default {@link MAX_AWARENESS_ENVELOPE_BYTES}).
 */
export function openAwarenessEnvelope(keys: WorkspaceKeys, bytes: Uint8Array, maxBytes = MAX_AWARENESS_ENVELOPE_BYTES): Promise<Uint8Array> {
	return openPayload(keys, EnvelopeKind.awareness, bytes, maxBytes, 'awareness');
}

/**
 * Seals one model advert (the bytes `encodeAdvert` of src/lib/ai/adverts.ts writes):
 * varuint kind 3, varstring key id, varuint8array iv, varuint8array ciphertext of
 * varuint8array advert.
 */
export function sealAdvertEnvelope(keys: WorkspaceKeys, advert: Uint8Array): Promise<Uint8Array> {
	return sealPayload(keys, EnvelopeKind.advert, advert);
}

/**
 * Opens an envelope sealed by {@link sealAdvertEnvelope}; returns the advert, not decoded
 * here. Throws only {@link EnvelopeError}, also for another kind and for one over
 * `maxBytes` (default {@link MAX_ADVERT_ENVELOPE_BYTES}).
 */
export function openAdvertEnvelope(keys: WorkspaceKeys, bytes: Uint8Array, maxBytes = MAX_ADVERT_ENVELOPE_BYTES): Promise<Uint8Array> {
	return openPayload(keys, EnvelopeKind.advert, bytes, maxBytes, 'advert');
}

/** The keyring of `keys`: its own, or one holding only the legacy key. */
function keyringOf(keys: WorkspaceKeys): GossipKeyring {
	return keys.keyring ?? GossipKeyring.legacyOnly(keys);
}

/** Associated data: varstring label of the kind, varstring workspace id, varstring key id. */
function associatedData(kind: EnvelopeKind, workspaceId: string, keyId: string): Uint8Array<ArrayBuffer> {
	const encoder = encoding.createEncoder();
	encoding.writeVarString(encoder, LABELS[kind]);
	encoding.writeVarString(encoder, workspaceId);
	encoding.writeVarString(encoder, keyId);
	return encoding.toUint8Array(encoder) as Uint8Array<ArrayBuffer>;
}

/** Seals with the keyring's current key. @throws {GossipKeyUnavailableError} when this device cannot seal yet. */
async function seal(keys: WorkspaceKeys, kind: EnvelopeKind, plaintext: Uint8Array): Promise<Uint8Array> {
	const { id, key } = keyringOf(keys).current();
	const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
	const params = { name: 'AES-GCM', iv, additionalData: associatedData(kind, keys.workspaceId, id) };
	const sealed = await crypto.subtle.encrypt(params, key, plaintext as Uint8Array<ArrayBuffer>);
	const out = encoding.createEncoder();
	encoding.writeVarUint(out, kind);
	encoding.writeVarString(out, id);
	encoding.writeVarUint8Array(out, iv);
	encoding.writeVarUint8Array(out, new Uint8Array(sealed));
	return encoding.toUint8Array(out);
}

/** Reads a key id: '' (the legacy key) or a generation id. */
function readKeyId(decoder: decoding.Decoder): string {
	const id = String.fromCharCode(...readBoundedBytes(decoder, ID_LENGTH, 'envelope key id'));
	if (id !== '' && !isId(id)) throw new EnvelopeError('envelope key id: not a key generation id');
	return id;
}

/** Checks the size, the kind, the layout, the key and the tag of an envelope; returns its plaintext. */
async function open(keys: WorkspaceKeys, kind: EnvelopeKind, bytes: Uint8Array, maxBytes: number): Promise<Uint8Array> {
	if (bytes.length > maxBytes) throw new EnvelopeError(`envelope of ${bytes.length} bytes exceeds ${maxBytes}`);
	let keyId: string;
	let iv: Uint8Array<ArrayBuffer>;
	let sealed: Uint8Array<ArrayBuffer>;
	try {
		const decoder = decoding.createDecoder(bytes);
		const version = readBoundedUint(decoder, 0xffff, 'envelope kind');
		if (version !== kind) throw new EnvelopeError(`envelope kind ${version}, expected ${kind}`);
		keyId = readKeyId(decoder);
		iv = readBoundedBytes(decoder, IV_BYTES, 'envelope iv', true) as Uint8Array<ArrayBuffer>;
		sealed = readBoundedBytes(decoder, maxBytes, 'envelope ciphertext') as Uint8Array<ArrayBuffer>;
		expectEnd(decoder, 'envelope');
	} catch (error) {
		throw error instanceof EnvelopeError ? error : new EnvelopeError(`malformed envelope (${(error as Error).message})`);
	}
	const key = keyringOf(keys).get(keyId);
	if (key === undefined) {
		throw new EnvelopeError(keyId === '' ? 'envelope sealed with the legacy key, which this workspace no longer accepts' : `envelope of key generation ${keyId}, which this device does not hold`);
	}
	try {
		const params = { name: 'AES-GCM', iv, additionalData: associatedData(kind, keys.workspaceId, keyId) };
		return new Uint8Array(await crypto.subtle.decrypt(params, key, sealed));
	} catch {
		throw new EnvelopeError('envelope does not open with this workspace key (tampered, or another workspace)');
	}
}
