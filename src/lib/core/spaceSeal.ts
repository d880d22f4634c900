/**
 * Sealed updates of a private space's documents: what a relay that archives the workspace but
 * is not in the space stores and serves without reading (sealedSync.ts, relay/archive/SealedLog.ts).
 * An envelope is one Yjs update sealed with the space's key of one generation
 * (spaceKeys.ts), bound to its document:
 *
 * ```
 * envelope = 0x01 ‖ u8 length ‖ generation id (UTF-8) ‖ nonce (12) ‖ AES-GCM-256(update)
 * key      = HKDF-SHA256(space key, salt = nonce, info = "outpost/space-seal/1\n" doc id, 32)
 * aad      = 0x01 ‖ u8 length ‖ generation id
 * ```
 *
 * A fresh random nonce per envelope also salts the derived key, so no key and IV pair repeats.
 * An envelope moved to another document, or given another generation's id, does not open.
 * Synchronous (@noble), as the team layer's key boxes are.
 */
import { gcm } from '@noble/ciphers/aes.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';

/** First byte of an envelope: its format version. */
const SEAL_VERSION = 1;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** Longest generation id an envelope carries. */
const MAX_GEN_BYTES = 64;
/** Domain label of the derived key. */
export const SPACE_SEAL_LABEL = 'outpost/space-seal/1';

/** An envelope that does not open: malformed, tampered, another document or generation, or a key this device lacks. */
export class SealError extends Error {
	override name = 'SealError';
}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

function envelopeKey(spaceKey: Uint8Array, nonce: Uint8Array, docId: string): Uint8Array {
	return hkdf(sha256, spaceKey, nonce, utf8.encode(`${SPACE_SEAL_LABEL}\n${docId}`), 32);
}

/** Seals `update` of document `docId` with generation `gen`'s key. */
export function sealSpaceUpdate(spaceKey: Uint8Array, gen: string, docId: string, update: Uint8Array): Uint8Array {
	const genBytes = utf8.encode(gen);
	if (genBytes.length === 0 || genBytes.length > MAX_GEN_BYTES) throw new SealError('bad generation id');
	const head = new Uint8Array(2 + genBytes.length);
	head[0] = SEAL_VERSION;
	head[1] = genBytes.length;
	head.set(genBytes, 2);
	const nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
	const sealed = gcm(envelopeKey(spaceKey, nonce, docId), nonce, head).encrypt(update);
	const out = new Uint8Array(head.length + NONCE_BYTES + sealed.length);
	out.set(head);
	out.set(nonce, head.length);
	out.set(sealed, head.length + NONCE_BYTES);
	return out;
}

/** The generation an envelope names (to find its key), or a {@link SealError} for a malformed one. */
export function envelopeGeneration(envelope: Uint8Array): string {
	if (envelope.length < 2 || envelope[0] !== SEAL_VERSION) throw new SealError('not a sealed update');
	const length = envelope[1]!;
	if (length === 0 || length > MAX_GEN_BYTES || envelope.length < 2 + length + NONCE_BYTES + TAG_BYTES) throw new SealError('malformed sealed update');
	try {
		return utf8Decoder.decode(envelope.subarray(2, 2 + length));
	} catch {
		throw new SealError('malformed generation id');
	}
}

/**
 * Opens an envelope of document `docId` with the keys this device holds (generation id → key).
 * @throws {SealError} when it is malformed, names a generation without a key here, or does not open.
 */
export function openSpaceUpdate(keys: ReadonlyMap<string, Uint8Array>, docId: string, envelope: Uint8Array): Uint8Array {
	const gen = envelopeGeneration(envelope);
	const key = keys.get(gen);
	if (key === undefined) throw new SealError(`no key of generation ${gen} here`);
	const headLength = 2 + envelope[1]!;
	const head = envelope.subarray(0, headLength);
	const nonce = envelope.subarray(headLength, headLength + NONCE_BYTES);
	try {
		return gcm(envelopeKey(key, nonce, docId), nonce, head).decrypt(envelope.subarray(headLength + NONCE_BYTES));
	} catch {
		throw new SealError('sealed update does not open (tampered, or of another document or generation)');
	}
}
