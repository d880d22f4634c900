import { describe, expect, it, vi } from 'vitest';
import { showBadge } from '../../../src/lib/state/notify/badge.js';
import { isMessageTarget, messageLinkHash, parseMessageLink } from '../../../src/lib/state/notify/messageLink.js';

describe('message links', () => {
	it('round-trip a message and a thread reply', () => {
		const message = { workspaceId: 'w1', channelId: 'c1', messageId: 'm1' };
		const reply = { ...message, parent: 'p1' };
		expect(messageLinkHash(message)).toBe('#/m/w1/c1/m1');
		expect(parseMessageLink(messageLinkHash(message))).toEqual(message);
		expect(parseMessageLink(messageLinkHash(reply))).toEqual(reply);
	});

	it('refuse other hashes and malformed links', () => {
		expect(parseMessageLink('#/c/c1')).toBeUndefined();
		expect(parseMessageLink('#/m/w1/c1')).toBeUndefined();
		expect(parseMessageLink('#/m/w1//m1')).toBeUndefined();
		expect(parseMessageLink('#/m/w1/c1/m1/p1/extra')).toBeUndefined();
		expect(parseMessageLink('#/m/%E0%A4%A/c1/m1')).toBeUndefined();
	});

	it('tell a posted target from anything else', () => {
		expect(isMessageTarget({ workspaceId: 'w', channelId: 'c', messageId: 'm' })).toBe(true);
		expect(isMessageTarget({ workspaceId: 'w', channelId: 'c' })).toBe(false);
		expect(isMessageTarget({ workspaceId: 'w', channelId: 'c', messageId: 'm', parent: 3 })).toBe(false);
		expect(isMessageTarget(null)).toBe(false);
	});
});

describe('showBadge', () => {
	it('sets the count, clears at zero, and does nothing without the API', () => {
		const nav = { setAppBadge: vi.fn(() => Promise.resolve()), clearAppBadge: vi.fn(() => Promise.resolve()) };
		showBadge(3, nav);
		showBadge(0, nav);
		expect(nav.setAppBadge).toHaveBeenCalledWith(3);
		expect(nav.clearAppBadge).toHaveBeenCalledTimes(1);
		expect(() => showBadge(2, {})).not.toThrow();
	});

	it('swallows a refusal (an app that is not installed)', async () => {
		const nav = { setAppBadge: vi.fn(() => Promise.reject(new Error('NotAllowedError'))) };
		showBadge(1, nav);
		await new Promise((r) => setTimeout(r, 0));
		expect(nav.setAppBadge).toHaveBeenCalledWith(1);
	});
});
