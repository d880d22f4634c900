/** The per-peer bound on huddle calls taken (joinBucket.ts): a burst, then one per a while, reported once. */
import { describe, expect, it } from 'vitest';
import { JoinBucket } from '../../../src/lib/huddle/joinBucket.js';

describe('JoinBucket', () => {
	it('takes a burst of calls of one peer, then one per period; says the first refusal apart; counts each peer alone', () => {
		let now = 0;
		const bucket = new JoinBucket(3, 1000, () => now);
		for (let i = 0; i < 3; i++) {
			expect(bucket.check('a')).toBe('ok');
			bucket.take('a');
		}
		expect(bucket.check('a')).toBe('over-first');
		expect(bucket.check('a')).toBe('over');
		expect(bucket.check('b')).toBe('ok');
		now += 999;
		expect(bucket.check('a')).toBe('over');
		now += 1;
		expect(bucket.check('a')).toBe('ok');
		bucket.take('a');
		expect(bucket.check('a')).toBe('over-first'); // a new episode is reported again
		now += 3000;
		for (let i = 0; i < 3; i++) {
			expect(bucket.check('a')).toBe('ok');
			bucket.take('a');
		}
		expect(bucket.check('a')).toBe('over-first');
	});
});
