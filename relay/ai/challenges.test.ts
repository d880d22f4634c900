/** Single-use, expiring, bounded challenges of signed relay requests (challenges.ts). */
import { describe, expect, it } from 'vitest';
import { Challenges } from './challenges.ts';

describe('Challenges', () => {
	it('takes each challenge once, and never one it did not issue', () => {
		const challenges = new Challenges();
		const a = challenges.issue();
		const b = challenges.issue();
		expect(a).not.toBe(b);
		expect(challenges.spend('forged')).toBe(false);
		expect(challenges.spend(a)).toBe(true);
		expect(challenges.spend(a)).toBe(false);
		expect(challenges.spend(b)).toBe(true);
	});

	it('refuses an expired challenge', () => {
		let now = 1000;
		const challenges = new Challenges({ ttlMs: 100, now: () => now });
		const late = challenges.issue();
		const early = challenges.issue();
		expect(challenges.spend(early)).toBe(true);
		now += 101;
		expect(challenges.spend(late)).toBe(false);
	});

	it('forgets the oldest beyond its bound', () => {
		const challenges = new Challenges({ max: 2 });
		const [first, second, third] = [challenges.issue(), challenges.issue(), challenges.issue()];
		expect(challenges.spend(first)).toBe(false);
		expect(challenges.spend(second)).toBe(true);
		expect(challenges.spend(third)).toBe(true);
	});

	it('a stranger asking in a loop flushes only its own challenges, never an honest client’s', () => {
		const challenges = new Challenges({ max: 64, perAsker: 16 });
		const honest = challenges.issue('10.0.0.5');
		const floods: string[] = [];
		for (let i = 0; i < 10_000; i++) floods.push(challenges.issue(`10.0.0.${66 + (i % 3)}`));
		expect(challenges.spend(honest)).toBe(true);
		expect(challenges.spend(floods[0]!)).toBe(false); // the flooder's oldest went first
		expect(challenges.spend(floods.at(-1)!)).toBe(true);
	});
});
