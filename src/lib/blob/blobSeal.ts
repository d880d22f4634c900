/**
 * Sealed blobs: the files of a private space (a private channel, a direct conversation) are
 * stored and sent as ciphertext, so a relay that keeps them for the space's members, without
 * being in the space, holds nothing it can read. Each file gets a random AES-256-GCM key,
 * carried in its reference inside the space's document (which only the space's members can
 * read: the relay keeps that document sealed too), signed with the message.
 *
 * The plaintext is cut into pieces of {@link SEALED_PIECE_BYTES}; piece i is encrypted under
 * the file's key with the 96-bit nonce `i` (big-endian; keys are never reused across files),
 * and its ciphertext with the 16-byte tag is exactly one 256 KiB chunk of the sealed blob, so
 * every chunk is opened on its own. The sealed blob is an ordinary blob (blobManifest.ts): its
 * id is the hash of its manifest, and every peer checks its chunks as they arrive.
 */
import { fromBase64url, toBase64url } from '../doc/deviceKey.js';
import { CHUNK_BYTES } from './blobManifest.js';

/** Bytes of the GCM tag each sealed chunk ends with. */
export const SEAL_TAG_BYTES = 16;
/** Plaintext bytes per sealed chunk. */
export const SEALED_PIECE_BYTES = CHUNK_BYTES - SEAL_TAG_BYTES;
/** Characters of a key in a reference: 32 bytes, base64url without padding. */
export const BLOB_KEY_LENGTH = 43;
/** A key in a reference. */
export const BLOB_KEY = /^[A-Za-z0-9_-]{43}$/;

/** A sealed blob does not open with its key (wrong key, or damaged bytes). */
export class SealedBlobError extends Error {
	override name = 'SealedBlobError';
}

/** A new random key for one file, as its reference carries it. */
export function newBlobKey(): string {
	return toBase64url(crypto.getRandomValues(new Uint8Array(32)));
}

/** Bytes of the sealed blob of a file of `size` bytes. */
export function sealedSize(size: number): number {
	return size + Math.ceil(size / SEALED_PIECE_BYTES) * SEAL_TAG_BYTES;
}

function nonce(index: number): Uint8Array<ArrayBuffer> {
	const iv = new Uint8Array(12);
	new DataView(iv.buffer).setUint32(8, index);
	return iv;
}

async function importKey(key: string, use: 'encrypt' | 'decrypt'): Promise<CryptoKey> {
	if (!BLOB_KEY.test(key)) throw new SealedBlobError('not a blob key');
	const raw = fromBase64url(key);
	if (raw.byteLength !== 32) throw new SealedBlobError('a blob key has 32 bytes');
	return crypto.subtle.importKey('raw', raw as Uint8Array<ArrayBuffer>, 'AES-GCM', false, [use]);
}

/** The sealed blob of `bytes` under `key`. */
export async function sealBlob(bytes: Uint8Array, key: string): Promise<Uint8Array> {
	const cryptoKey = await importKey(key, 'encrypt');
	const out = new Uint8Array(sealedSize(bytes.byteLength));
	for (let i = 0, at = 0; i * SEALED_PIECE_BYTES < bytes.byteLength; i++) {
		const piece = bytes.subarray(i * SEALED_PIECE_BYTES, Math.min(bytes.byteLength, (i + 1) * SEALED_PIECE_BYTES));
		const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv: nonce(i) }, cryptoKey, piece as Uint8Array<ArrayBuffer>));
		out.set(sealed, at);
		at += sealed.byteLength;
	}
	return out;
}

/**
 * The file a sealed blob holds.
 * @throws {SealedBlobError} when a chunk does not open (a wrong key, or bytes not the blob's).
 */
export async function openBlob(sealed: Uint8Array, key: string): Promise<Uint8Array> {
	const cryptoKey = await importKey(key, 'decrypt');
	const chunks = Math.ceil(sealed.byteLength / CHUNK_BYTES);
	const out = new Uint8Array(Math.max(0, sealed.byteLength - chunks * SEAL_TAG_BYTES));
	for (let i = 0; i < chunks; i++) {
		const chunk = sealed.subarray(i * CHUNK_BYTES, Math.min(sealed.byteLength, (i + 1) * CHUNK_BYTES));
		let piece: ArrayBuffer;
		try {
			piece = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: nonce(i) }, cryptoKey, chunk as Uint8Array<ArrayBuffer>);
		} catch {
			throw new SealedBlobError(`chunk ${i} does not open with the file's key`);
		}
		out.set(new Uint8Array(piece), i * SEALED_PIECE_BYTES);
	}
	return out;
}
