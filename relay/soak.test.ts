/**
 * A short soak (bench/soakRun.ts; `npm run bench:soak` runs an hour): four member devices in
 * Node and one in a Chromium page (where /usr/bin/chromium is) post through a relay in its own
 * process for 15 s; none of the messages is lost. Then the relay is
 * killed with SIGKILL up to ten times while three devices write: they converge, and its
 * database holds every message.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { soak } from '../bench/soakRun.ts';

describe('soak, short', () => {
	it('four member devices and a page posting through a relay for 15 s lose nothing', async () => {
		const lines: string[] = [];
		const browsers = existsSync('/usr/bin/chromium') ? 1 : 0;
		const figures = await soak({ peers: 4, browsers, durationMs: 15_000, sampleMs: 5_000, periodMs: 250, log: (line) => lines.push(line) });
		console.info(`soak (short): sent ${figures.sent}, lost ${figures.lost}, settled ${figures.settleMs} ms after the last write\n${lines.join('\n')}`);
		expect(figures.sent).toBeGreaterThan(100);
		expect(figures.lost).toBe(0);
		// Not asserted empty: now and then a replica refuses a roster update that would "delete"
		// an operation (a known, open problem: identical operations written by two replicas;
		// README "Known problems"); the next session repairs it, and nothing is lost.
		if (figures.errors.length > 0) console.info(`soak (short) mesh errors: ${figures.errors.join('; ')}`);
		expect(figures.samples.every((s) => Number.isFinite(s.relayRssMiB))).toBe(true);
		// The page posted too, and its heap was read.
		expect(figures.samples.at(-1)!.pageHeapsMiB).toHaveLength(browsers);
		if (browsers > 0) expect(figures.samples.at(-1)!.pageHeapsMiB[0]).toBeGreaterThan(0);
	}, 200_000);
});

describe('the relay killed while peers write', () => {
	it('kill -9 at random moments: the peers redial the restarted relay, converge, and its database holds every message', async () => {
		const lines: string[] = [];
		// Up to 10 kills (`npm run bench:fault-kill` makes 100); a restart takes 1.5–2 s, longer on a busy machine.
		const figures = await soak({ peers: 3, durationMs: 40_000, sampleMs: 10_000, periodMs: 250, killEveryMs: 2_000, maxKills: 10, log: (line) => lines.push(line) });
		console.info(`relay kill -9 × ${figures.kills}: sent ${figures.sent}, lost ${figures.lost}, in the relay's database ${figures.archived}; settled ${figures.settleMs} ms after the last write`);
		expect(figures.kills).toBeGreaterThanOrEqual(4);
		expect(figures.lost).toBe(0);
		expect(figures.archived).toBe(figures.sent);
	}, 240_000);
});
