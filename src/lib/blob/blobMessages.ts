/**
 * The messages of `/outpost/blob/1` (PROTOCOL.md "Blobs"): numeric types, `write`/`read` pairs
 * over lib0 encoding, every length and count bounded before anything is allocated. One
 * request per stream: GET names a workspace, the document that references the blob, the blob, whether the manifest is wanted and up to
 * {@link MAX_INDICES} distinct chunk indices (one named twice is malformed); the server answers DENIED, or MANIFEST (when asked), a
 * CHUNK for each requested chunk it holds, and END. PIN asks a relay to keep a sealed blob of
 * a private space it is not in (it fetches it from the asker); it answers END or DENIED. UNPIN
 * (the same fields) asks it to drop that sealed blob of that document again (its message was
 * deleted or hidden): END when it was dropped or is not kept, DENIED when the asker may not.
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { CHUNK_BYTES } from './blobManifest.js';
import { Uint8ArrayList } from 'uint8arraylist';

export const BLOB_PROTOCOL_ID = '/outpost/blob/1';

export const BlobMessageType = { get: 1, manifest: 2, chunk: 3, end: 4, denied: 5, pin: 6, unpin: 7 } as const;

/** Why a server refused a GET. */
export const BlobDenied = { notAllowed: 1, notHere: 2 } as const;
export type BlobDenied = (typeof BlobDenied)[keyof typeof BlobDenied];

/** Most chunk indices in one GET. */
export const MAX_INDICES = 64;
/** Largest manifest: a 4 GiB blob's 16,384 hashes and its two sizes. */
export const MAX_MANIFEST_BYTES = 16_384 * 32 + 20;
/** Largest GET frame. */
export const MAX_REQUEST_BYTES = 1024;
/** Largest answer frame (a manifest or a chunk, and its header). */
export const MAX_ANSWER_BYTES = Math.max(MAX_MANIFEST_BYTES, CHUNK_BYTES) + 16;

export type BlobMessage =
	| { type: typeof BlobMessageType.get; workspaceId: string; docId: string; blobId: string; manifest: boolean; indices: number[] }
	| { type: typeof BlobMessageType.manifest; bytes: Uint8Array }
	| { type: typeof BlobMessageType.chunk; index: number; bytes: Uint8Array }
	| { type: typeof BlobMessageType.end }
	| { type: typeof BlobMessageType.denied; reason: BlobDenied }
	| { type: typeof BlobMessageType.pin | typeof BlobMessageType.unpin; workspaceId: string; docId: string; blobId: string };

/** A blob message did not decode. */
export class MalformedBlobMessageError extends Error {
	override name = 'MalformedBlobMessageError';
}

const ID_HEX = /^[0-9a-f]{64}$/;

export function encodeBlobMessage(m: BlobMessage): Uint8Array {
	const e = encoding.createEncoder();
	encoding.writeUint8(e, m.type);
	switch (m.type) {
		case BlobMessageType.get:
			encoding.writeVarString(e, m.workspaceId);
			encoding.writeVarString(e, m.docId);
			for (let i = 0; i < 64; i += 2) encoding.writeUint8(e, parseInt(m.blobId.slice(i, i + 2), 16));
			encoding.writeUint8(e, m.manifest ? 1 : 0);
			encoding.writeVarUint(e, m.indices.length);
			for (const index of m.indices) encoding.writeVarUint(e, index);
			break;
		case BlobMessageType.pin:
		case BlobMessageType.unpin:
			encoding.writeVarString(e, m.workspaceId);
			encoding.writeVarString(e, m.docId);
			for (let i = 0; i < 64; i += 2) encoding.writeUint8(e, parseInt(m.blobId.slice(i, i + 2), 16));
			break;
		case BlobMessageType.manifest:
			encoding.writeVarUint8Array(e, m.bytes);
			break;
		case BlobMessageType.chunk:
			encoding.writeVarUint(e, m.index);
			encoding.writeVarUint8Array(e, m.bytes);
			break;
		case BlobMessageType.denied:
			encoding.writeUint8(e, m.reason);
			break;
		case BlobMessageType.end:
			break;
	}
	return encoding.toUint8Array(e);
}

/**
 * A CHUNK message as two parts, the header and the chunk itself, sent as one frame without
 * copying the chunk (`encodeBlobMessage` would copy it twice: 256 KiB a chunk). It decodes as
 * `encodeBlobMessage` of the same CHUNK.
 */
export function encodeChunk(index: number, bytes: Uint8Array): Uint8ArrayList {
	const header = encoding.createEncoder();
	encoding.writeUint8(header, BlobMessageType.chunk);
	encoding.writeVarUint(header, index);
	encoding.writeVarUint(header, bytes.byteLength);
	return new Uint8ArrayList(encoding.toUint8Array(header), bytes);
}

/**
 * Decodes a frame read as the pieces it arrived in (`FrameStream.readPieces`, frameStream.ts). A CHUNK's
 * bytes are copied once, into `buffer(length)` (a reused buffer: chunkBuffers.ts), not joined
 * and then copied again; any other message is decoded as {@link decodeBlobMessage} does.
 * @throws {MalformedBlobMessageError} as {@link decodeBlobMessage} does.
 */
export function decodeBlobFrame(frame: Uint8ArrayList, buffer: (length: number) => Uint8Array): BlobMessage {
	if (frame.byteLength === 0 || frame.get(0) !== BlobMessageType.chunk) return decodeBlobMessage(frame.subarray());
	// The header: the type, then the index and the length as varints (at most 5 bytes each here).
	const head = frame.subarray(0, Math.min(frame.byteLength, 11));
	let index: number;
	let length: number;
	let at: number;
	try {
		const d = decoding.createDecoder(head);
		decoding.readUint8(d);
		index = decoding.readVarUint(d);
		length = decoding.readVarUint(d);
		at = d.pos;
	} catch (error) {
		throw new MalformedBlobMessageError(String(error));
	}
	if (length > CHUNK_BYTES || length > frame.byteLength - at) throw new MalformedBlobMessageError(`CHUNK: ${length} bytes`);
	if (at + length !== frame.byteLength) throw new MalformedBlobMessageError('trailing bytes');
	const bytes = buffer(length);
	let written = 0;
	for (const piece of frame.sublist(at)) {
		bytes.set(piece, written);
		written += piece.byteLength;
	}
	return { type: BlobMessageType.chunk, index, bytes };
}

/** Reads a varuint8array of at most `max` bytes (the length is checked before any copy). */
function readBounded(d: decoding.Decoder, max: number, what: string): Uint8Array {
	const length = decoding.readVarUint(d);
	if (length > max || length > d.arr.length - d.pos) throw new MalformedBlobMessageError(`${what}: ${length} bytes`);
	return decoding.readUint8Array(d, length);
}

/** @throws {MalformedBlobMessageError} for anything but one whole, well-formed message. */
export function decodeBlobMessage(bytes: Uint8Array): BlobMessage {
	try {
		const d = decoding.createDecoder(bytes);
		const type = decoding.readUint8(d);
		let m: BlobMessage;
		switch (type) {
			case BlobMessageType.get: {
				const workspaceId = new TextDecoder().decode(readBounded(d, 64, 'workspace id'));
				const docId = new TextDecoder().decode(readBounded(d, 64, 'document id'));
				let blobId = '';
				for (let i = 0; i < 32; i++) blobId += decoding.readUint8(d).toString(16).padStart(2, '0');
				const flag = decoding.readUint8(d);
				if (flag > 1) throw new MalformedBlobMessageError('GET: a bad flag');
				const count = decoding.readVarUint(d);
				if (count > MAX_INDICES) throw new MalformedBlobMessageError(`GET: ${count} indices`);
				const indices: number[] = [];
				// Each chunk once: a GET repeating one index would be answered with that chunk again and again.
				const seen = new Set<number>();
				for (let i = 0; i < count; i++) {
					const index = decoding.readVarUint(d);
					if (seen.has(index)) throw new MalformedBlobMessageError(`GET: chunk ${index} twice`);
					seen.add(index);
					indices.push(index);
				}
				m = { type, workspaceId, docId, blobId, manifest: flag === 1, indices };
				break;
			}
			case BlobMessageType.pin:
			case BlobMessageType.unpin: {
				const workspaceId = new TextDecoder().decode(readBounded(d, 64, 'workspace id'));
				const docId = new TextDecoder().decode(readBounded(d, 64, 'document id'));
				let blobId = '';
				for (let i = 0; i < 32; i++) blobId += decoding.readUint8(d).toString(16).padStart(2, '0');
				m = { type, workspaceId, docId, blobId };
				break;
			}
			case BlobMessageType.manifest:
				m = { type, bytes: readBounded(d, MAX_MANIFEST_BYTES, 'MANIFEST') };
				break;
			case BlobMessageType.chunk: {
				const index = decoding.readVarUint(d);
				m = { type, index, bytes: readBounded(d, CHUNK_BYTES, 'CHUNK') };
				break;
			}
			case BlobMessageType.end:
				m = { type };
				break;
			case BlobMessageType.denied: {
				const reason = decoding.readUint8(d);
				if (reason !== BlobDenied.notAllowed && reason !== BlobDenied.notHere) throw new MalformedBlobMessageError(`DENIED: reason ${reason}`);
				m = { type, reason };
				break;
			}
			default:
				throw new MalformedBlobMessageError(`unknown type ${type}`);
		}
		if (d.pos !== bytes.length) throw new MalformedBlobMessageError('trailing bytes');
		if (m.type === BlobMessageType.get && !ID_HEX.test(m.blobId)) throw new MalformedBlobMessageError('GET: a bad blob id');
		return m;
	} catch (error) {
		throw error instanceof MalformedBlobMessageError ? error : new MalformedBlobMessageError(String(error));
	}
}
