/** The gossip receive queue: bounded in envelopes, bytes and per publisher; work runs in order; a flood is reported once. */
import { describe, expect, it } from 'vitest';
import { ReceiveQueue } from '../../../src/lib/mesh/receiveQueue.js';

describe('ReceiveQueue', () => {
	it('holds at most its bounds while work waits, runs what it took in order, and reports a flood once', async () => {
		const queue = new ReceiveQueue({ maxItems: 4, maxBytes: 100, maxPerPublisher: 2 });
		let release: () => void = () => {};
		const gate = new Promise<void>((resolve) => (release = resolve));
		const ran: string[] = [];
		const errors: unknown[] = [];
		let drops = 0;
		const push = (name: string, size: number, publisher: string | undefined) =>
			queue.push(size, publisher, async () => {
				await gate;
				ran.push(name);
				if (name === 'b2') throw new Error('b2 failed');
			}, (error) => errors.push(error), () => drops++);

		expect(push('a1', 10, 'a')).toBe(true);
		expect(push('a2', 10, 'a')).toBe(true);
		expect(push('a3', 10, 'a')).toBe(false); // a's share is 2
		expect(push('b1', 10, 'b')).toBe(true);
		expect(push('big', 80, 'c')).toBe(false); // 110 bytes would wait
		expect(push('b2', 10, 'b')).toBe(true);
		expect(push('u', 1, undefined)).toBe(false); // 4 wait already
		expect(queue.pending).toBe(4);
		expect(drops).toBe(1); // one report for the flood, not one per envelope

		release();
		await queue.idle();
		expect(ran).toEqual(['a1', 'a2', 'b1', 'b2']);
		expect(errors.map(String)).toEqual(['Error: b2 failed']);
		expect(queue.pending).toBe(0);
		expect(queue.peak).toBe(4);

		// Empty again: room for all, and the next flood is reported again.
		expect(push('a4', 10, 'a')).toBe(true);
		expect(push('a5', 10, 'a')).toBe(true);
		expect(push('a6', 10, 'a')).toBe(false);
		expect(drops).toBe(2);
		await queue.idle();
	});
});
