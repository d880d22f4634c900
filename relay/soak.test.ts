/**
 * A short soak (bench/soakRun.ts; `npm run bench:soak` runs an hour): four member devices post
 * through a relay in its own process for 15 s; none of the messages is lost.
 */
import { describe, expect, it } from 'vitest';
import { soak } from '../bench/soakRun.ts';

describe('soak, short', () => {
	it('four member devices posting through a relay for 15 s lose nothing', async () => {
		const lines: string[] = [];
		const figures = await soak({ peers: 4, durationMs: 15_000, sampleMs: 5_000, periodMs: 250, log: (line) => lines.push(line) });
		console.info(`soak (short): sent ${figures.sent}, lost ${figures.lost}, settled ${figures.settleMs} ms after the last write\n${lines.join('\n')}`);
		expect(figures.sent).toBeGreaterThan(100);
		expect(figures.lost).toBe(0);
		expect(figures.errors).toEqual([]);
		expect(figures.samples.every((s) => Number.isFinite(s.relayRssMiB))).toBe(true);
	}, 120_000);
});
