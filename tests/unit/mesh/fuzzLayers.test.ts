/**
 * 100,000 mutated frames, updates and envelopes across every protocol stage and document type
 * (tests/fuzz/layerFuzz.ts; `npm run bench:fuzz` runs 1,000,000): no crash, nothing over
 * 1 s, and the honest documents keep taking honest updates with their content whole.
 */
import { describe, expect, it } from 'vitest';
import { fuzzLayers, fuzzReport } from '../../fuzz/layerFuzz';

describe('fuzz across the layers a peer feeds', () => {
	it('100,000 mutated inputs: no crash, no case over 1 s, honest documents intact', async () => {
		const figures = await fuzzLayers(Number(process.env.FUZZ_CASES ?? 100_000), 7);
		console.info(fuzzReport(figures));
		expect(figures.crashes.slice(0, 5)).toEqual([]);
		expect(figures.hangs).toBe(0);
		expect(figures.honestIntact).toBe(true);
		// Every layer was reached, and mutations were refused as well as (some) accepted.
		expect(Object.keys(figures.byLayer).sort()).toEqual(['envelope', 'update:aiThread', 'update:channel', 'update:plain', 'update:root', 'wire']);
		expect(figures.accepted['wire'] ?? 0).toBeLessThan(figures.byLayer['wire']!);
	}, 300_000);
});
