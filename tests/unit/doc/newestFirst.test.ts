/** Mark lists kept newest first by their clock: ties in arrival order, duplicates by key dropped (doc/newestFirst.ts). */
import { describe, expect, it } from 'vitest';
import { addNewestFirst } from '../../../src/lib/doc/newestFirst.js';
import { compareHlc } from '../../../src/lib/doc/hlc.js';
import { at } from './helpers.js';
import { mulberry32 } from '../../fixtures/random.js';

describe('addNewestFirst', () => {
	it('keeps a list as a stable newest-first sort of what was added, each key once', () => {
		const random = mulberry32(7);
		const list: Array<{ hlc: string; n: number }> = [];
		const kept: Array<{ hlc: string; n: number }> = [];
		const keys = new Set<string>();
		for (let n = 0; n < 2000; n++) {
			const hlc = at(Math.floor(random() * 300), 'peer');
			const key = `${hlc}#${Math.floor(random() * 3)}`;
			const item = { hlc, n };
			expect(addNewestFirst(list, item, (i) => i.hlc, key)).toBe(!keys.has(key));
			if (!keys.has(key)) kept.push(item);
			keys.add(key);
		}
		const expected = [...kept].sort((a, b) => compareHlc(b.hlc, a.hlc) || a.n - b.n);
		expect(list).toEqual(expected);
	});
});
