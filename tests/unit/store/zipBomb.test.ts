/**
 * A zip entry whose central directory declares a small size but whose deflate stream expands
 * about 1000 times further (found in review: fflate's unzipSync, given an output buffer of the
 * declared size, inflated the whole stream on the page's thread, dropping what did not fit, and
 * the entry was then accepted). `unpack` (importWorkspace.ts) now stops an entry as soon as it
 * passes its declared size and refuses the file as damaged.
 */
import { strToU8, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { newId } from '../../../src/lib/doc/ids';
import { teamRosterId } from '../../../src/lib/doc/team/teamId';
import { readExport } from '../../../src/lib/store/exchange';
import { sha256Hex } from '../../../src/lib/store/exchange/format';

/** A raw deflate stream (fixed Huffman) of one zero then `matches` copies of 258 zeros. */
function zeroBomb(matches: number): Uint8Array {
	const out = new Uint8Array(Math.ceil((3 + 8 + matches * 13 + 7) / 8) + 1);
	let bit = 0;
	const put = (value: number, n: number) => {
		for (let i = 0; i < n; i++, bit++) if ((value >> i) & 1) out[bit >> 3]! |= 1 << (bit & 7);
	};
	const huff = (code: number, n: number) => {
		for (let i = n - 1; i >= 0; i--, bit++) if ((code >> i) & 1) out[bit >> 3]! |= 1 << (bit & 7);
	};
	put(1, 1); // final block
	put(1, 2); // fixed Huffman
	huff(0x30, 8); // literal 0
	for (let i = 0; i < matches; i++) {
		huff(0xc5, 8); // length 258 (symbol 285)
		huff(0, 5); // distance 1
	}
	huff(0, 7); // end of block
	return out;
}

/** Replaces entry `name`'s stored bytes by `deflated`, declared as deflate of `declared` bytes. */
function lyingEntry(zip: Uint8Array, name: string, deflated: Uint8Array, declared: number): Uint8Array {
	// Rebuild with the stream stored under the name, then patch the central directory.
	const dv = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
	let e = zip.length - 22;
	while (dv.getUint32(e, true) !== 0x06054b50) e--;
	let at = dv.getUint32(e + 16, true);
	const count = dv.getUint16(e + 10, true);
	for (let i = 0; i < count; i++) {
		const nameLen = dv.getUint16(at + 28, true);
		const entry = new TextDecoder().decode(zip.subarray(at + 46, at + 46 + nameLen));
		if (entry === name) {
			expect(dv.getUint32(at + 20, true)).toBe(deflated.length);
			dv.setUint16(at + 10, 8, true); // deflate
			dv.setUint32(at + 24, declared, true); // uncompressed size: a lie
			return zip;
		}
		at += 46 + nameLen + dv.getUint16(at + 30, true) + dv.getUint16(at + 32, true);
	}
	throw new Error('entry not found');
}

describe('import: an entry that inflates past its declared size', () => {
	it('is refused as damaged, stopped where it passes its declared size', async () => {
		const workspaceId = newId();
		const rosterId = teamRosterId(workspaceId);
		const empty = Y.encodeStateAsUpdate(new Y.Doc());
		const bomb = zeroBomb(1_000_000); // 1.6 MB of deflate, 258 MB of zeros
		const doc = async (id: string, kind: string) => ({ id, kind, title: '', state: `yjs/${id}.bin`, bytes: empty.length, sha256: await sha256Hex(empty), files: [] });
		const manifest = {
			format: 'outpost-workspace-export',
			formatVersion: 1,
			workspace: { id: workspaceId, name: 'w', color: '', rosterId },
			documents: [await doc(workspaceId, 'workspace'), await doc(rosterId, 'roster')]
		};
		const zip = zipSync({ 'manifest.json': strToU8(JSON.stringify(manifest)), [`yjs/${workspaceId}.bin`]: bomb, [`yjs/${rosterId}.bin`]: empty }, { level: 0 });
		const file = lyingEntry(zip, `yjs/${workspaceId}.bin`, bomb, empty.length);
		const error = await readExport(file).then(() => undefined, (e: unknown) => e as Error);
		// The zip lies about the entry, so the file is damaged (before: accepted, since the first
		// two bytes of the zeros happen to be the empty state the manifest names).
		expect(error?.name ?? 'accepted').toBe('CorruptArchiveError');
		expect(error?.message).toBe(`yjs/${workspaceId}.bin unpacks to more than the ${empty.length} bytes the zip file declares`);
	});
});
