/** Mark lists kept newest first by their clock: ties by their signatures, never by arrival; duplicates by key dropped (doc/newestFirst.ts). */
import { describe, expect, it } from 'vitest';
import { addNewestFirst, byNewest } from '../../../src/lib/doc/newestFirst.js';
import { compareHlc } from '../../../src/lib/doc/hlc.js';
import { at } from './helpers.js';
import { mulberry32 } from '../../fixtures/random.js';

describe('addNewestFirst', () => {
	it('keeps a list as a stable newest-first sort of what was added, ties by their tie, each key once', () => {
		const random = mulberry32(7);
		type Item = { hlc: string; tie: string; n: number };
		const list: Item[] = [];
		const kept: Item[] = [];
		const keys = new Set<string>();
		for (let n = 0; n < 2000; n++) {
			const hlc = at(Math.floor(random() * 300), 'peer');
			const tie = `t${Math.floor(random() * 4)}`;
			const key = `${hlc}#${tie}#${Math.floor(random() * 3)}`;
			const item = { hlc, tie, n };
			expect(addNewestFirst(list, item, (i) => i.hlc, (i) => i.tie, key)).toBe(!keys.has(key));
			if (!keys.has(key)) kept.push(item);
			keys.add(key);
		}
		const expected = [...kept].sort((a, b) => compareHlc(b.hlc, a.hlc) || (a.tie < b.tie ? -1 : a.tie > b.tie ? 1 : 0) || a.n - b.n);
		expect(list).toEqual(expected);
	});

	it('orders items of one clock alike whatever order they are added in', () => {
		const random = mulberry32(11);
		const items = Array.from({ length: 200 }, (_, n) => ({ hlc: at(Math.floor(random() * 20), 'peer'), tie: `sig${n}` }));
		const forwards: typeof items = [];
		const backwards: typeof items = [];
		for (const item of items) addNewestFirst(forwards, item, (i) => i.hlc, (i) => i.tie, item.tie);
		for (const item of [...items].reverse()) addNewestFirst(backwards, item, (i) => i.hlc, (i) => i.tie, item.tie);
		expect(backwards).toEqual(forwards);
		expect(forwards).toEqual([...items].sort((a, b) => byNewest(a.hlc, a.tie, b.hlc, b.tie)));
	});
});
