/**
 * Found in review: a notification's title is a channel's name and its body starts with the
 * author's name, both any member's to choose. Bidi controls turned the line around, and a long
 * or multi-line name filled the notification, pushing out who wrote it.
 */
import { get } from 'svelte/store';
import { beforeAll, describe, expect, it } from 'vitest';
import { ChannelKind } from '../../../src/lib/doc/notifyRules.js';
import { _, setLanguage, setupI18n } from '../../../src/lib/i18n/index.js';
import { MAX_LABEL, notificationBody, notificationTitle } from '../../../src/lib/state/notify/WorkspaceNotifier.svelte.js';

const BIDI = /[\u202A-\u202E\u2066-\u2069\u200B\u200E\u200F\uFEFF]/;

beforeAll(async () => {
	setupI18n('en');
	await setLanguage('en');
});

describe('notification text from other members', () => {
	it('drops bidi controls and invisible characters from the channel name in the title', () => {
		const title = notificationTitle(ChannelKind.channel, 'general\u202E\u2066 nimda\u200B');
		expect(title).not.toMatch(BIDI);
		expect(title).toBe('# general nimda');
	});

	it('puts a channel name on one line and cuts it', () => {
		expect(notificationTitle(ChannelKind.private, 'team\n\nUrgent: reset your key')).toBe('🔒 team Urgent: reset your key');
		const long = notificationTitle(ChannelKind.direct, 'x'.repeat(10_000));
		expect([...long].length).toBe(MAX_LABEL);
		expect(long.endsWith('…')).toBe(true);
	});

	it('keeps an ordinary name as it is (passes before the fix too)', () => {
		expect(notificationTitle(ChannelKind.channel, '设计 team')).toBe('# 设计 team');
		expect(notificationTitle(ChannelKind.direct, 'Ana Lima')).toBe('Ana Lima');
	});

	it('drops bidi controls from the author and the text in the body', () => {
		const t = get(_);
		const body = notificationBody('Mallory\u202E', { text: '\u2067hello\u2069 there\u200B' }, t);
		expect(body).not.toMatch(BIDI);
		expect(body).toBe('Mallory: hello there');
	});

	it('keeps an author name to one short line, so the text still shows who wrote it', () => {
		const t = get(_);
		const body = notificationBody(`Ana\nAdmin: ${'x'.repeat(500)}`, { text: 'hi' }, t);
		expect(body.startsWith('Ana Admin: ')).toBe(true);
		expect(body.endsWith(': hi')).toBe(true);
		expect(body).not.toContain('\n');
	});
});
