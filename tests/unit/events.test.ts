/** Typed event handlers: removal, counting, and a throwing handler that stops nobody. */
import { describe, expect, it, vi } from 'vitest';
import { Listeners } from '../../src/lib/events';

describe('Listeners', () => {
	it('calls every handler of an event with its arguments, in order, until removed', () => {
		const events = new Listeners<{ value: (n: number, s: string) => void; other: () => void }>('test');
		const calls: string[] = [];
		const off = events.on('value', (n, s) => calls.push(`a${n}${s}`));
		events.on('value', (n) => calls.push(`b${n}`));
		events.on('other', () => calls.push('other'));
		events.emit('value', 1, 'x');
		expect(calls).toEqual(['a1x', 'b1']);
		expect(events.count('value')).toBe(2);
		off();
		events.emit('value', 2, 'y');
		expect(calls).toEqual(['a1x', 'b1', 'b2']);
		expect(events.count('value')).toBe(1);
	});

	it('reports a throwing handler and still calls the others', () => {
		const events = new Listeners<{ change: () => void }>('Owner');
		const report = vi.spyOn(console, 'error').mockImplementation(() => {});
		const second = vi.fn();
		events.on('change', () => {
			throw new Error('boom');
		});
		events.on('change', second);
		expect(() => events.emit('change')).not.toThrow();
		expect(second).toHaveBeenCalledOnce();
		expect(report).toHaveBeenCalledWith('Owner change handler threw', expect.any(Error));
		report.mockRestore();
	});

	it('lets a handler remove itself while the event is being emitted', () => {
		const events = new Listeners<{ once: () => void }>('test');
		const later = vi.fn();
		const off = events.on('once', () => off());
		events.on('once', later);
		events.emit('once');
		events.emit('once');
		expect(later).toHaveBeenCalledTimes(2);
		expect(events.count('once')).toBe(1);
	});
});
