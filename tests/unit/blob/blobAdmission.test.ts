/**
 * What a blob must be to be the one a reference names (blob/blobAdmission.ts): its size, or for
 * a private space's file the size of the blob the sealing code really makes of it.
 */
import { describe, expect, it } from 'vitest';
import { admitReferenced, NOT_THE_REFERENCED_SIZE, referencedBlobSize } from '../../../src/lib/blob/blobAdmission.js';
import { manifestOf } from '../../../src/lib/blob/blobManifest.js';
import { newBlobKey, SEALED_PIECE_BYTES, sealBlob } from '../../../src/lib/blob/blobSeal.js';

const bytesOf = (n: number) => new Uint8Array(n).map((_, i) => (i * 31 + 5) % 256);

describe('blob admission', () => {
	it('expects a sealed file’s blob to be the size sealing really makes, at every chunk boundary', async () => {
		for (const size of [0, 1, SEALED_PIECE_BYTES - 1, SEALED_PIECE_BYTES, SEALED_PIECE_BYTES + 1, 3 * SEALED_PIECE_BYTES + 5]) {
			const key = newBlobKey();
			const manifest = await manifestOf(await sealBlob(bytesOf(size), key));
			expect(referencedBlobSize({ size, key })).toBe(manifest.size);
			expect(admitReferenced({ size, key })(manifest)).toBe(true);
			// The plaintext size is not the sealed blob's (but for an empty file).
			if (size > 0) expect(admitReferenced({ size })(manifest)).toContain(NOT_THE_REFERENCED_SIZE);
		}
	});

	it('takes a plain file’s blob of exactly the size its reference says, and no other', async () => {
		const manifest = await manifestOf(bytesOf(300_000));
		expect(admitReferenced({ size: 300_000 })(manifest)).toBe(true);
		for (const size of [1000, 299_999, 300_001]) expect(admitReferenced({ size })(manifest)).toBe(`${NOT_THE_REFERENCED_SIZE} (${size} bytes; the blob has 300000)`);
	});
});
