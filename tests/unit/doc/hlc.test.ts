import { describe, expect, it } from 'vitest';
import {
	HlcFormatError,
	HybridClock,
	MAX_DRIFT_MS,
	compareHlc,
	formatHlc,
	hlcWall,
	parseHlc,
	type Hlc
} from '../../../src/lib/doc/hlc.js';

const T0 = Date.UTC(2025, 5, 1, 12, 0, 0);

/** A clock whose wall time the test sets by hand. */
function manualClock(node: string, start = T0) {
	let now = start;
	const clock = new HybridClock(node, () => now);
	return {
		clock,
		set(ms: number) {
			now = ms;
		}
	};
}

describe('formatHlc / parseHlc', () => {
	it('round-trips', () => {
		const cases: Hlc[] = [
			{ wall: 0, counter: 0, node: 'a' },
			{ wall: T0, counter: 7, node: '12D3KooWabc' },
			{ wall: Date.UTC(4000, 0, 1), counter: 36 ** 5 - 1, node: 'node.with.dots' }
		];
		for (const hlc of cases) expect(parseHlc(formatHlc(hlc))).toEqual(hlc);
	});

	it('is fixed width, so string order is clock order', () => {
		const a = formatHlc({ wall: 9, counter: 0, node: 'z' });
		const b = formatHlc({ wall: 10, counter: 0, node: 'a' });
		const c = formatHlc({ wall: 10, counter: 1, node: 'a' });
		const d = formatHlc({ wall: 10, counter: 1, node: 'b' });
		expect(compareHlc(a, b)).toBe(-1);
		expect(compareHlc(b, c)).toBe(-1);
		expect(compareHlc(c, d)).toBe(-1);
		expect(compareHlc(d, d)).toBe(0);
		expect(compareHlc(d, a)).toBe(1);
		expect(hlcWall(c)).toBe(10);
	});

	it('rejects malformed strings', () => {
		for (const bad of ['', 'abc', '1.2.3', '00000000000.0000', 'zzzzzzzzzzz.zzzz.n', '00000000000.0000!.n']) {
			expect(() => parseHlc(bad), bad).toThrow(HlcFormatError);
		}
		expect(hlcWall('not a clock')).toBe(0);
	});

	it('sorting encoded strings equals sorting by (wall, counter, node)', () => {
		let seed = 42;
		const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
		const values: Hlc[] = Array.from({ length: 300 }, () => ({
			wall: Math.floor(rand() * 1e13),
			counter: Math.floor(rand() * 40),
			node: ['a', 'b', 'c'][Math.floor(rand() * 3)]
		}));
		const byFields = [...values].sort(
			(x, y) => x.wall - y.wall || x.counter - y.counter || (x.node < y.node ? -1 : x.node > y.node ? 1 : 0)
		);
		const byString = values.map(formatHlc).sort(compareHlc);
		expect(byString).toEqual(byFields.map(formatHlc));
	});
});

describe('HybridClock', () => {
	it('follows the wall clock when it moves forward', () => {
		const { clock, set } = manualClock('n1');
		expect(parseHlc(clock.tick())).toEqual({ wall: T0, counter: 0, node: 'n1' });
		set(T0 + 5);
		expect(parseHlc(clock.tick())).toEqual({ wall: T0 + 5, counter: 0, node: 'n1' });
	});

	it('counts within one millisecond', () => {
		const { clock } = manualClock('n1');
		const stamps = [clock.tick(), clock.tick(), clock.tick()];
		expect(stamps.map((s) => parseHlc(s).counter)).toEqual([0, 1, 2]);
		expect([...stamps].sort(compareHlc)).toEqual(stamps);
	});

	it('stays monotonic when the wall clock goes backwards', () => {
		const { clock, set } = manualClock('n1');
		const stamps = [clock.tick()];
		set(T0 - 60_000);
		stamps.push(clock.tick(), clock.tick());
		set(T0 - 120_000);
		stamps.push(clock.tick());
		set(T0 + 1);
		stamps.push(clock.tick());
		for (let i = 1; i < stamps.length; i++) expect(compareHlc(stamps[i - 1], stamps[i])).toBe(-1);
		expect(parseHlc(stamps[3]).wall).toBe(T0);
		expect(parseHlc(stamps[4])).toEqual({ wall: T0 + 1, counter: 0, node: 'n1' });
	});

	it('orders the next tick after a received timestamp from a clock that runs ahead', () => {
		const { clock } = manualClock('local');
		const remote = formatHlc({ wall: T0 + 5_000, counter: 3, node: 'remote' });
		clock.receive(remote);
		const next = clock.tick();
		expect(compareHlc(remote, next)).toBe(-1);
		expect(parseHlc(next)).toEqual({ wall: T0 + 5_000, counter: 4, node: 'local' });
	});

	it('orders after a received timestamp with the same wall time and a higher counter', () => {
		const { clock } = manualClock('a');
		clock.tick();
		const remote = formatHlc({ wall: T0, counter: 9, node: 'b' });
		clock.receive(remote);
		expect(compareHlc(remote, clock.tick())).toBe(-1);
	});

	it('ignores received timestamps that are older than its own', () => {
		const { clock } = manualClock('a');
		clock.tick();
		clock.tick();
		clock.receive(formatHlc({ wall: T0 - 10, counter: 50, node: 'b' }));
		expect(parseHlc(clock.tick())).toEqual({ wall: T0, counter: 2, node: 'a' });
	});

	it('ignores timestamps implausibly far in the future', () => {
		const { clock } = manualClock('a');
		clock.receive(formatHlc({ wall: T0 + MAX_DRIFT_MS + 1, counter: 0, node: 'liar' }));
		expect(parseHlc(clock.tick()).wall).toBe(T0);
		clock.receive(formatHlc({ wall: T0 + MAX_DRIFT_MS, counter: 0, node: 'fast' }));
		expect(parseHlc(clock.tick()).wall).toBe(T0 + MAX_DRIFT_MS);
	});

	it('ignores garbage', () => {
		const { clock } = manualClock('a');
		for (const bad of ['', 'garbage', 'zzzzzzzzzzz.zzzzz']) clock.receive(bad);
		expect(parseHlc(clock.tick())).toEqual({ wall: T0, counter: 0, node: 'a' });
	});

	it('stays monotonic and parseable when a peer sends the largest counter', () => {
		const { clock } = manualClock('a');
		const remote = formatHlc({ wall: T0, counter: 36 ** 5 - 1, node: 'b' });
		clock.receive(remote);
		const next = clock.tick();
		expect(() => parseHlc(next)).not.toThrow();
		expect(compareHlc(remote, next)).toBe(-1);
		expect(compareHlc(next, clock.tick())).toBe(-1);
	});

	it('keeps causality across three nodes exchanging messages with skewed clocks', () => {
		const a = manualClock('a', T0 + 1_000); // fast
		const b = manualClock('b', T0); // on time
		const c = manualClock('c', T0 - 1_000); // slow
		const history: string[] = [];
		let last = a.clock.tick();
		history.push(last);
		for (const node of [b, c, a, c, b, c]) {
			node.clock.receive(last);
			last = node.clock.tick();
			history.push(last);
		}
		expect([...history].sort(compareHlc)).toEqual(history);
	});
});
