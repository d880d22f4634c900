/** Reciprocal rank fusion, the full-text and vector rankings, and the stored form of vectors. */
import { describe, expect, it } from 'vitest';
import { chunkMessage } from '../../../src/lib/knowledge/chunker';
import { ChunkSearch, COMMON_MIN } from '../../../src/lib/knowledge/ChunkSearch';
import { reciprocalRankFusion } from '../../../src/lib/knowledge/rrf';
import { decodeVector, encodeVector, normalize, VectorFormat } from '../../../src/lib/knowledge/vectorCodec';
import { VectorLengthError, VectorMatrix } from '../../../src/lib/knowledge/VectorMatrix';
import { mulberry32 } from '../../fixtures/random';

describe('reciprocalRankFusion', () => {
	it('scores Σ 1/(k + rank) and ranks an item found by both above one found first by one', () => {
		const fused = reciprocalRankFusion([
			['a', 'b', 'c'],
			['c', 'd', 'b']
		]);
		const score = (id: string) => fused.find((f) => f.id === id)!.score;
		expect(score('a')).toBeCloseTo(1 / 61);
		expect(score('b')).toBeCloseTo(1 / 62 + 1 / 63);
		expect(score('c')).toBeCloseTo(1 / 63 + 1 / 61);
		expect(fused.map((f) => f.id)).toEqual(['c', 'b', 'a', 'd']);
		expect(fused[0]!.ranks).toEqual([3, 1]);
		expect(fused.find((f) => f.id === 'a')!.ranks).toEqual([1, undefined]);
	});

	it('uses k, breaks ties by the first ranking, counts a repeated id once', () => {
		expect(reciprocalRankFusion([['a']], 0)[0]!.score).toBe(1);
		// a and x tie (each first in one list): the first list's comes first.
		expect(reciprocalRankFusion([['a'], ['x']]).map((f) => f.id)).toEqual(['a', 'x']);
		expect(reciprocalRankFusion([['a', 'a']])[0]!.score).toBeCloseTo(1 / 61);
		expect(reciprocalRankFusion([[], []])).toEqual([]);
	});
});

function randomUnit(rand: () => number, dims: number): Float32Array {
	return normalize(Float32Array.from({ length: dims }, () => rand() * 2 - 1));
}

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);

describe('VectorMatrix', () => {
	it('finds the same nearest vectors as a full sort, skipping refused groups, asking once a group', () => {
		const rand = mulberry32(7);
		const matrix = new VectorMatrix();
		const all = new Map<string, Float32Array>();
		const groupOf = (id: string) => `doc${Number(id.slice(1)) % 7}`;
		for (let i = 0; i < 500; i++) {
			const v = randomUnit(rand, 32);
			all.set(`c${i}`, v);
			matrix.set(`c${i}`, `h${i}`, v, groupOf(`c${i}`));
		}
		const query = randomUnit(rand, 32);
		const asked: string[] = [];
		const accept = (group: string) => {
			asked.push(group);
			return group !== 'doc0' && group !== 'doc3';
		};
		const expected = [...all]
			.filter(([id]) => groupOf(id) !== 'doc0' && groupOf(id) !== 'doc3')
			.map(([id, v]) => ({ id, score: dot(v, query) }))
			.sort((a, b) => b.score - a.score)
			.slice(0, 10);
		const found = matrix.nearest(query, 10, accept);
		expect(found.map((n) => n.id)).toEqual(expected.map((n) => n.id));
		expect(asked.sort()).toEqual(['doc0', 'doc1', 'doc2', 'doc3', 'doc4', 'doc5', 'doc6']);
		for (let i = 0; i < 10; i++) expect(found[i]!.score).toBeCloseTo(expected[i]!.score, 5);
	});

	it('replaces, deletes and reuses rows; refuses another length', () => {
		const matrix = new VectorMatrix();
		matrix.set('a', 'h1', Float32Array.of(1, 0));
		matrix.set('b', 'h2', Float32Array.of(0, 1));
		matrix.set('a', 'h3', Float32Array.of(0, -1));
		expect(matrix.hashOf('a')).toBe('h3');
		expect(matrix.nearest(Float32Array.of(0, 1), 5, () => true).map((n) => n.id)).toEqual(['b', 'a']);
		matrix.delete('b');
		expect(matrix.size).toBe(1);
		expect(matrix.hashOf('b')).toBeUndefined();
		matrix.set('c', 'h4', Float32Array.of(1, 0));
		expect(matrix.nearest(Float32Array.of(1, 0), 5, () => true)).toEqual([
			{ id: 'c', score: 1 },
			{ id: 'a', score: 0 }
		]);
		expect(() => matrix.set('d', 'h', Float32Array.of(1, 0, 0))).toThrow(VectorLengthError);
	});
});

describe('vectorCodec', () => {
	it('stores int8 in 5 + d bytes and float32 in 1 + 4d, both giving unit vectors back', () => {
		const rand = mulberry32(3);
		const v = randomUnit(rand, 384);
		const small = encodeVector(v);
		expect(small.length).toBe(5 + 384);
		const exact = encodeVector(v, VectorFormat.float32);
		expect(exact.length).toBe(1 + 4 * 384);
		expect([...decodeVector(exact)!].map((x) => x.toFixed(6))).toEqual([...v].map((x) => x.toFixed(6)));
		const back = decodeVector(small)!;
		expect(dot(back, back)).toBeCloseTo(1, 5);
		expect(dot(back, v)).toBeGreaterThan(0.999);
		// Quantised cosines stay within 0.01 of the exact ones.
		for (let i = 0; i < 20; i++) {
			const w = randomUnit(rand, 384);
			expect(Math.abs(dot(decodeVector(encodeVector(w))!, back) - dot(w, v))).toBeLessThan(0.01);
		}
	});

	it('refuses bytes that are not a vector', () => {
		expect(decodeVector(new Uint8Array([9, 1, 2, 3]))).toBeUndefined();
		expect(decodeVector(new Uint8Array([1, 1, 2]))).toBeUndefined();
		expect(decodeVector(new Uint8Array([]))).toBeUndefined();
		expect(decodeVector('x' as unknown as Uint8Array)).toBeUndefined();
	});
});

describe('ChunkSearch', () => {
	it('leaves a question’s commonest terms out of the search, unless nothing else is left', () => {
		const search = new ChunkSearch();
		const filler = Array.from({ length: COMMON_MIN + 50 }, (_, i) => chunkMessage('c', { itemId: `f${i}`, text: `the log entry ${i} of the day` })[0]!);
		const harbour = chunkMessage('c', { itemId: 'h', text: 'the harbour opens at six' })[0]!;
		search.addAll([...filler, harbour]);
		const all = () => true;
		expect(search.search('What is the harbour schedule?', 5, all)).toEqual([harbour.id]);
		// Only common words: the rarest of them is searched.
		expect(search.search('the', 5, all)).toHaveLength(5);
		expect(search.search('nothing matches this', 5, all)).toEqual([]);
		// Counts follow changes: with the filler gone, "the" is rare again.
		for (const f of filler) search.remove(f);
		const moved = { ...harbour, text: 'the marina opens at six' };
		search.put(moved, harbour);
		expect(search.search('harbour', 5, all)).toEqual([]);
		expect(search.search('the marina', 5, all)).toEqual([harbour.id]);
	});
});
