/**
 * Found in review: a huddle calls the first few peers awareness lists, and one member's many
 * tabs (a device may hold 16) could take every place. Each person now comes once before anyone
 * comes twice.
 */
import { describe, expect, it } from 'vitest';
import { fairOrder } from '../../../src/lib/huddle/fairOrder.js';
import { MAX_HUDDLE_PEOPLE } from '../../../src/lib/huddle/huddleMessages.js';

describe('who a huddle calls first', () => {
	it('puts each person before anyone’s second tab', () => {
		const person = new Map([
			['m1', 'mallory'], ['m2', 'mallory'], ['m3', 'mallory'], ['m4', 'mallory'], ['m5', 'mallory'], ['m6', 'mallory'],
			['ann', 'ann'], ['bob-laptop', 'bob'], ['bob-phone', 'bob']
		]);
		const listed = ['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'ann', 'bob-laptop', 'bob-phone', 'stranger'];
		const order = fairOrder(listed, (p) => person.get(p));
		expect(order).toEqual(['m1', 'ann', 'bob-laptop', 'stranger', 'm2', 'bob-phone', 'm3', 'm4', 'm5', 'm6']);
		// The places a huddle fills: every person is called.
		expect(order.slice(0, MAX_HUDDLE_PEOPLE - 1)).toEqual(expect.arrayContaining(['m1', 'ann', 'bob-laptop', 'stranger']));
		expect(fairOrder([], () => undefined)).toEqual([]);
	});
});
