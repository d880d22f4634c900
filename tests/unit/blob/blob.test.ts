/**
 * Blobs without a network: chunking and the id (the same bytes give the same id, one changed
 * byte another), a chunk checked against its manifest (a corrupted or cut chunk is caught), a
 * manifest checked against its id, the same file stored once, and the wire messages of
 * `/outpost/blob/1` with their bounds.
 */
import { describe, expect, it } from 'vitest';
import { BadManifestError, CHUNK_BYTES, chunkOf, decodeManifest, encodeManifest, manifestOf, verifyChunk } from '../../../src/lib/blob/blobManifest';
import { BlobMessageType, decodeBlobFrame, decodeBlobMessage, type BlobMessage, encodeBlobMessage, encodeChunk, MalformedBlobMessageError, MAX_INDICES } from '../../../src/lib/blob/blobMessages';
import { MemoryBlobStore, readBlob, storeBlob } from '../../../src/lib/blob/BlobStore';
import { Uint8ArrayList } from 'uint8arraylist';
import { mulberry32 } from '../../fixtures/random';

function bytesOf(size: number, seed = 1): Uint8Array {
	const random = mulberry32(seed);
	return Uint8Array.from({ length: size }, () => Math.floor(random() * 256));
}

describe('blob manifests', () => {
	it('cuts a blob in chunks and names it by the hash of its manifest', async () => {
		const bytes = bytesOf(2 * CHUNK_BYTES + 1000);
		const manifest = await manifestOf(bytes);
		expect(manifest.size).toBe(bytes.byteLength);
		expect(manifest.hashes).toHaveLength(3);
		expect(manifest.id).toMatch(/^[0-9a-f]{64}$/);
		expect((await manifestOf(bytes.slice())).id).toBe(manifest.id);
		const changed = bytes.slice();
		changed[CHUNK_BYTES + 5]! ^= 1;
		const other = await manifestOf(changed);
		expect(other.id).not.toBe(manifest.id);
		expect(other.hashes[0]).toEqual(manifest.hashes[0]);
		expect((await manifestOf(new Uint8Array(0))).hashes).toHaveLength(0);
	});

	it('accepts a chunk only when it is the one the manifest names', async () => {
		const bytes = bytesOf(CHUNK_BYTES + 300);
		const manifest = await manifestOf(bytes);
		expect(await verifyChunk(manifest, 0, chunkOf(bytes, 0))).toBe(true);
		expect(await verifyChunk(manifest, 1, chunkOf(bytes, 1))).toBe(true);
		const corrupted = chunkOf(bytes, 1).slice();
		corrupted[7]! ^= 0x80;
		expect(await verifyChunk(manifest, 1, corrupted)).toBe(false);
		expect(await verifyChunk(manifest, 1, chunkOf(bytes, 1).subarray(0, 299))).toBe(false);
		expect(await verifyChunk(manifest, 0, chunkOf(bytes, 1))).toBe(false);
		expect(await verifyChunk(manifest, 2, chunkOf(bytes, 1))).toBe(false);
	});

	it('takes a manifest only when it hashes to the id it is fetched for', async () => {
		const manifest = await manifestOf(bytesOf(3 * CHUNK_BYTES));
		const encoded = encodeManifest(manifest);
		expect(await decodeManifest(manifest.id, encoded)).toEqual(manifest);
		const forged = encoded.slice();
		forged[forged.length - 1]! ^= 1;
		await expect(decodeManifest(manifest.id, forged)).rejects.toBeInstanceOf(BadManifestError);
		const other = await manifestOf(bytesOf(10, 2));
		await expect(decodeManifest(other.id, encoded)).rejects.toBeInstanceOf(BadManifestError);
	});

	it('takes only manifests of 256 KiB chunks (found in review: 1-byte chunks made a 16 KiB file a 512 KiB manifest and 16,384 chunk requests)', async () => {
		const tiny = await manifestOf(bytesOf(16 * 1024), 1);
		expect(tiny.hashes).toHaveLength(16 * 1024);
		const encoded = encodeManifest(tiny);
		await expect(decodeManifest(tiny.id, encoded)).rejects.toThrow(/chunks of 1 bytes, not 262144/);
		const half = await manifestOf(bytesOf(CHUNK_BYTES), CHUNK_BYTES / 2);
		await expect(decodeManifest(half.id, encodeManifest(half))).rejects.toBeInstanceOf(BadManifestError);
	});

	it('stores the same file once, and reads it back whole', async () => {
		const store = new MemoryBlobStore();
		const bytes = bytesOf(CHUNK_BYTES * 2 + 17);
		const first = await storeBlob(store, bytes);
		const second = await storeBlob(store, bytes.slice());
		expect(second.id).toBe(first.id);
		expect(store.bytesHeld).toBe(bytes.byteLength);
		expect(await readBlob(store, first.id)).toEqual(bytes);
		expect(await store.missing('0'.repeat(64))).toBeUndefined();
	});
});

describe('blob messages', () => {
	it('round-trip', () => {
		const messages: BlobMessage[] = [
			{ type: BlobMessageType.get, workspaceId: 'ws1', docId: 'doc1', blobId: 'ab'.repeat(32), manifest: true, indices: [0, 5, 70_000] },
			{ type: BlobMessageType.manifest, bytes: new Uint8Array([1, 2, 3]) },
			{ type: BlobMessageType.chunk, index: 9, bytes: bytesOf(1000) },
			{ type: BlobMessageType.end },
			{ type: BlobMessageType.denied, reason: 1 }
		];
		for (const m of messages) expect(decodeBlobMessage(encodeBlobMessage(m))).toEqual(m);
	});

	it('send a chunk as its header and its bytes, uncopied, the same frame as the whole message', () => {
		const bytes = bytesOf(CHUNK_BYTES);
		const parts = encodeChunk(300, bytes);
		expect(parts.subarray()).toEqual(encodeBlobMessage({ type: BlobMessageType.chunk, index: 300, bytes }));
		expect(decodeBlobMessage(parts.subarray())).toEqual({ type: BlobMessageType.chunk, index: 300, bytes });
		expect([...parts].at(-1)).toBe(bytes); // the chunk itself, not a copy
	});

	it('refuse what is malformed or over its bounds, with one error type', () => {
		const get = encodeBlobMessage({ type: BlobMessageType.get, workspaceId: 'ws', docId: 'd', blobId: '00'.repeat(32), manifest: false, indices: [] });
		const bad = [
			new Uint8Array([]),
			new Uint8Array([99]),
			get.subarray(0, get.length - 1),
			new Uint8Array([...get, 0]),
			encodeBlobMessage({ type: BlobMessageType.get, workspaceId: 'ws', docId: 'd', blobId: '00'.repeat(32), manifest: false, indices: Array.from({ length: MAX_INDICES + 1 }, (_, i) => i) }),
			new Uint8Array([BlobMessageType.chunk, 0, 0xff, 0xff, 0xff, 0xff, 0x0f]),
			new Uint8Array([BlobMessageType.denied, 7])
		];
		for (const bytes of bad) expect(() => decodeBlobMessage(bytes)).toThrow(MalformedBlobMessageError);
		const random = mulberry32(3);
		for (let i = 0; i < 2000; i++) {
			const fuzz = Uint8Array.from({ length: 1 + Math.floor(random() * 60) }, () => Math.floor(random() * 256));
			try {
				decodeBlobMessage(fuzz);
			} catch (error) {
				expect(error).toBeInstanceOf(MalformedBlobMessageError);
			}
		}
	});

	/** `bytes` cut into pieces at `cuts` (as a transport delivers a frame). */
	function piecesOf(bytes: Uint8Array, cuts: number[]): Uint8ArrayList {
		const list = new Uint8ArrayList();
		let from = 0;
		for (const cut of [...cuts.filter((c) => c > 0 && c < bytes.length), bytes.length]) {
			list.append(bytes.slice(from, cut));
			from = cut;
		}
		return list;
	}

	it('decode a frame read as pieces as the joined frame decodes, a chunk copied once into the buffer given', () => {
		const random = mulberry32(11);
		const chunk = bytesOf(CHUNK_BYTES);
		const messages: BlobMessage[] = [
			{ type: BlobMessageType.get, workspaceId: 'ws1', docId: 'doc1', blobId: 'ab'.repeat(32), manifest: true, indices: [0, 5, 70_000] },
			{ type: BlobMessageType.manifest, bytes: new Uint8Array([1, 2, 3]) },
			{ type: BlobMessageType.chunk, index: 300, bytes: chunk },
			{ type: BlobMessageType.chunk, index: 2, bytes: bytesOf(1000) },
			{ type: BlobMessageType.end }
		];
		for (const m of messages) {
			const bytes = encodeBlobMessage(m);
			// Cut anywhere, the header too: one byte, then at random.
			const cuts = [1, ...Array.from({ length: 20 }, () => Math.floor(random() * bytes.length))].sort((a, b) => a - b);
			const given: Uint8Array[] = [];
			const decoded = decodeBlobFrame(piecesOf(bytes, cuts), (length) => {
				const buffer = new Uint8Array(length);
				given.push(buffer);
				return buffer;
			});
			expect(decoded).toEqual(m);
			if (m.type === BlobMessageType.chunk) expect(decoded.type === BlobMessageType.chunk && decoded.bytes).toBe(given[0]);
			else expect(given).toEqual([]);
		}
	});

	it('refuse a malformed frame read as pieces with the same error type', () => {
		const header = [BlobMessageType.chunk, 0x05, 0x04];
		const bad = [
			new Uint8Array([BlobMessageType.chunk]), // no index
			new Uint8Array([BlobMessageType.chunk, 0x05]), // no length
			new Uint8Array([...header, 1, 2, 3]), // shorter than it says
			new Uint8Array([...header, 1, 2, 3, 4, 5]), // trailing bytes
			new Uint8Array([BlobMessageType.chunk, 0, 0xff, 0xff, 0xff, 0xff, 0x0f]), // over the chunk size
			new Uint8Array([BlobMessageType.chunk, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]) // an index that never ends
		];
		for (const bytes of bad) expect(() => decodeBlobFrame(piecesOf(bytes, [1, 2]), (length) => new Uint8Array(length))).toThrow(MalformedBlobMessageError);
		const random = mulberry32(5);
		for (let i = 0; i < 2000; i++) {
			const fuzz = Uint8Array.from({ length: 1 + Math.floor(random() * 60) }, (_, k) => (k === 0 && random() < 0.7 ? BlobMessageType.chunk : Math.floor(random() * 256)));
			try {
				decodeBlobFrame(piecesOf(fuzz, [Math.floor(random() * fuzz.length)]), (length) => new Uint8Array(length));
			} catch (error) {
				expect(error).toBeInstanceOf(MalformedBlobMessageError);
			}
		}
	});
});
