/** The update log's record format: CRC-checked records; a torn tail is cut, a damaged record in the middle skipped and kept aside. */
import { describe, expect, it } from 'vitest';
import { crc32, crc32Portable, decodeLog, encodeRecord } from './updateLog.ts';

const concat = (...parts: Uint8Array[]): Uint8Array => {
	const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
	let at = 0;
	for (const part of parts) {
		out.set(part, at);
		at += part.length;
	}
	return out;
};

describe('update log records', () => {
	it('gives the same CRC-32 from Node and from the portable table', () => {
		for (const length of [0, 1, 7, 100, 4096]) {
			const bytes = Uint8Array.from({ length }, (_, i) => (i * 131 + length) & 0xff);
			expect(crc32(bytes)).toBe(crc32Portable(bytes));
		}
	});

	it('computes the standard CRC-32', () => {
		expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
	});

	it('reads back every record, including empty ones', () => {
		const updates = [new Uint8Array([1, 2, 3]), new Uint8Array(), new Uint8Array(300).fill(7)];
		const bytes = concat(...updates.map(encodeRecord));
		expect(decodeLog(bytes)).toEqual({ updates, validBytes: bytes.length, droppedBytes: 0, damaged: [] });
	});

	it('cuts a torn or damaged tail: a torn header, a torn body, a flipped bit, an absurd length', () => {
		const good = encodeRecord(new Uint8Array([1, 2, 3]));
		const next = encodeRecord(new Uint8Array([4, 5, 6, 7]));
		const flipped = next.slice();
		flipped[10]! ^= 1;
		const absurd = next.slice();
		absurd[3] = 0xff;
		for (const tail of [next.subarray(0, 5), next.subarray(0, 10), flipped, absurd]) {
			expect(decodeLog(concat(good, tail))).toEqual({
				updates: [new Uint8Array([1, 2, 3])],
				validBytes: good.length,
				droppedBytes: tail.length,
				damaged: []
			});
		}
	});

	it('a damaged record in the middle costs only itself: reading resumes at the next intact record', () => {
		const good = encodeRecord(new Uint8Array([1, 2, 3]));
		const next = encodeRecord(new Uint8Array([4, 5, 6, 7]));
		const later = encodeRecord(new Uint8Array(500).fill(9));
		const flipped = next.slice();
		flipped[10]! ^= 1;
		const absurd = next.slice();
		absurd[3] = 0xff;
		for (const bad of [flipped, absurd, next.subarray(0, 6)]) {
			const bytes = concat(good, bad, later, good);
			expect(decodeLog(bytes)).toEqual({
				updates: [new Uint8Array([1, 2, 3]), new Uint8Array(500).fill(9), new Uint8Array([1, 2, 3])],
				validBytes: bytes.length,
				droppedBytes: 0,
				damaged: [bad]
			});
		}
	});
});
