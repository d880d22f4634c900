/**
 * Content-addressed blobs (attachments): a blob is cut into fixed-size chunks, each hashed
 * with SHA-256 (WebCrypto, in browsers and Node alike); its manifest is its size, its chunk
 * size and the chunk hashes, and its id is the SHA-256 of the manifest's encoding. The same
 * bytes always give the same id, so a file is stored once however often it is attached, and a
 * chunk can be checked the moment it arrives, from any peer, against the manifest the id
 * proves. See PROTOCOL.md "Blobs".
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';

/** Bytes of a chunk (the last one may be shorter). */
export const CHUNK_BYTES = 256 * 1024;
/** Largest blob: 4 GiB. */
export const MAX_BLOB_BYTES = 4 * 1024 ** 3;
/** Bytes of a SHA-256 hash. */
const HASH_BYTES = 32;

/** A blob's manifest: what its id stands for. */
export interface BlobManifest {
	/** Lower-case hex SHA-256 of {@link encodeManifest}. */
	id: string;
	size: number;
	chunkBytes: number;
	/** SHA-256 of each chunk, in order. */
	hashes: Uint8Array[];
}

/** A manifest's bytes are not a manifest, or not the one its id names. */
export class BadManifestError extends Error {
	override name = 'BadManifestError';
}

/** Number of chunks of a blob of `size` bytes in chunks of `chunkBytes` (an empty blob has none). */
export function chunkCount(size: number, chunkBytes: number): number {
	return Math.ceil(size / chunkBytes);
}

/** The bytes of chunk `index` of `bytes`. */
export function chunkOf(bytes: Uint8Array, index: number, chunkBytes = CHUNK_BYTES): Uint8Array {
	return bytes.subarray(index * chunkBytes, Math.min(bytes.byteLength, (index + 1) * chunkBytes));
}

async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
	return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
}

function toHex(bytes: Uint8Array): string {
	let hex = '';
	for (const byte of bytes) hex += byte.toString(16).padStart(2, '0');
	return hex;
}

/** The manifest of `bytes`, cut in chunks of `chunkBytes`. */
export async function manifestOf(bytes: Uint8Array, chunkBytes = CHUNK_BYTES): Promise<BlobManifest> {
	if (bytes.byteLength > MAX_BLOB_BYTES) throw new RangeError(`a blob holds at most ${MAX_BLOB_BYTES} bytes`);
	const hashes: Uint8Array[] = [];
	for (let i = 0; i < chunkCount(bytes.byteLength, chunkBytes); i++) hashes.push(await sha256(chunkOf(bytes, i, chunkBytes)));
	const partial = { size: bytes.byteLength, chunkBytes, hashes };
	return { id: toHex(await sha256(encodeManifest(partial))), ...partial };
}

/** The manifest's bytes (the id is their hash, so it is not in them). */
export function encodeManifest(manifest: Omit<BlobManifest, 'id'>): Uint8Array {
	const encoder = encoding.createEncoder();
	encoding.writeVarUint(encoder, manifest.size);
	encoding.writeVarUint(encoder, manifest.chunkBytes);
	for (const hash of manifest.hashes) encoding.writeUint8Array(encoder, hash);
	return encoding.toUint8Array(encoder);
}

/**
 * The manifest in `bytes`, when they decode and hash to `id`.
 * @throws {BadManifestError} otherwise.
 */
export async function decodeManifest(id: string, bytes: Uint8Array): Promise<BlobManifest> {
	if (toHex(await sha256(bytes)) !== id) throw new BadManifestError('the manifest is not the one its id names');
	try {
		const decoder = decoding.createDecoder(bytes);
		const size = decoding.readVarUint(decoder);
		const chunkBytes = decoding.readVarUint(decoder);
		if (size > MAX_BLOB_BYTES) throw new BadManifestError('a size out of bounds');
		// Every manifest Outpost makes cuts 256 KiB chunks. Found in review: one of 1-byte chunks
		// made a 16 KiB "file" a 512 KiB manifest (stored by a relay outside its quota) and 16,384
		// chunk requests (a pin queue stalled behind a few of them).
		if (chunkBytes !== CHUNK_BYTES) throw new BadManifestError(`chunks of ${chunkBytes} bytes, not ${CHUNK_BYTES}`);
		const count = chunkCount(size, chunkBytes);
		if (bytes.byteLength - decoder.pos !== count * HASH_BYTES) throw new BadManifestError('the hashes do not match the size');
		const hashes: Uint8Array[] = [];
		for (let i = 0; i < count; i++) hashes.push(decoding.readUint8Array(decoder, HASH_BYTES).slice());
		return { id, size, chunkBytes, hashes };
	} catch (error) {
		throw error instanceof BadManifestError ? error : new BadManifestError(`the manifest does not decode: ${String(error)}`);
	}
}

/** Bytes of chunk `index` of the blob `manifest` describes (the last may be shorter). */
export function chunkLength(manifest: Pick<BlobManifest, 'size' | 'chunkBytes'>, index: number): number {
	return Math.min(manifest.chunkBytes, manifest.size - index * manifest.chunkBytes);
}

/** Whether `bytes` are chunk `index` of the blob `manifest` describes (its length and its hash). */
export async function verifyChunk(manifest: BlobManifest, index: number, bytes: Uint8Array): Promise<boolean> {
	const expected = manifest.hashes[index];
	if (expected === undefined) return false;
	if (bytes.byteLength !== chunkLength(manifest, index)) return false;
	const hash = await sha256(bytes);
	return hash.every((byte, i) => byte === expected[i]);
}
