/**
 * Sealed blobs (private spaces' files): a round trip at chunk boundaries, one sealed chunk per
 * 256 KiB chunk, no plaintext in the ciphertext, and a wrong key or a flipped bit refused.
 */
import { describe, expect, it } from 'vitest';
import { CHUNK_BYTES, manifestOf } from '../../../src/lib/blob/blobManifest.js';
import { BLOB_KEY, newBlobKey, openBlob, SEALED_PIECE_BYTES, SealedBlobError, sealBlob, sealedSize } from '../../../src/lib/blob/blobSeal.js';

const bytesOf = (n: number) => new Uint8Array(n).map((_, i) => (i * 131 + 7) % 256);

describe('sealed blobs', () => {
	it('open to the same bytes, whatever the size, chunk by chunk', async () => {
		for (const size of [0, 1, SEALED_PIECE_BYTES - 1, SEALED_PIECE_BYTES, SEALED_PIECE_BYTES + 1, 3 * SEALED_PIECE_BYTES + 5]) {
			const key = newBlobKey();
			const plain = bytesOf(size);
			const sealed = await sealBlob(plain, key);
			expect(sealed.byteLength).toBe(sealedSize(size));
			// Every sealed chunk but the last is exactly one blob chunk.
			const manifest = await manifestOf(sealed);
			expect(manifest.hashes.length).toBe(Math.ceil(size / SEALED_PIECE_BYTES));
			expect(Buffer.compare(await openBlob(sealed, key), plain)).toBe(0);
		}
	});

	it('hold no plaintext, differ per key, and refuse a wrong key or a changed byte', async () => {
		const plain = bytesOf(CHUNK_BYTES * 2);
		const [a, b] = [newBlobKey(), newBlobKey()];
		expect(a).toMatch(BLOB_KEY);
		expect(a).not.toBe(b);
		const sealed = await sealBlob(plain, a);
		expect(Buffer.from(sealed).includes(Buffer.from(plain.subarray(1000, 1064)))).toBe(false);
		expect(Buffer.compare(sealed, await sealBlob(plain, b))).not.toBe(0);
		await expect(openBlob(sealed, b)).rejects.toBeInstanceOf(SealedBlobError);
		const flipped = sealed.slice();
		flipped[CHUNK_BYTES + 10]! ^= 1;
		await expect(openBlob(flipped, a)).rejects.toThrow(/chunk 1/);
		await expect(openBlob(sealed, 'not a key')).rejects.toBeInstanceOf(SealedBlobError);
	});
});
