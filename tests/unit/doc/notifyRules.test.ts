import { describe, expect, it } from 'vitest';
import { formatHlc } from '../../../src/lib/doc/hlc.js';
import { decideNotify, defaultLevel, isNotifyLevel, mentionsName, type NotifyInput } from '../../../src/lib/doc/notifyRules.js';

const SINCE = Date.UTC(2025, 0, 1, 12);
const me = { peerId: 'peer-me', name: 'Ada' };

/** A channel message by Bea, written a second after the notifier started, unless overridden. */
function input(over: Partial<NotifyInput> & { text?: string; parent?: string; author?: string; at?: number } = {}): NotifyInput {
	const { text = 'hello', parent, author = 'peer-bea', at = SINCE + 1000, ...rest } = over;
	return {
		message: { author, text, parent, hlc: formatHlc({ wall: at, counter: 0, node: author }) },
		me,
		kind: 'channel',
		level: undefined,
		tookPart: false,
		shown: true,
		since: SINCE,
		...rest
	};
}

describe('mentionsName', () => {
	it('finds @name without regard to case, as a whole word', () => {
		expect(mentionsName('hi @Ada, look', 'Ada')).toBe(true);
		expect(mentionsName('@ada look', 'Ada')).toBe(true);
		expect(mentionsName('ping @ADA', 'Ada')).toBe(true);
		expect(mentionsName('hi @Adam', 'Ada')).toBe(false);
		expect(mentionsName('write to ada@ada.org', 'Ada')).toBe(false);
		expect(mentionsName('Ada without an at sign', 'Ada')).toBe(false);
	});

	it('matches names with spaces, and never an empty name', () => {
		expect(mentionsName('thanks @Ada Lovelace!', 'Ada Lovelace')).toBe(true);
		expect(mentionsName('thanks @Ada', 'Ada Lovelace')).toBe(false);
		expect(mentionsName('@ everyone', '')).toBe(false);
		expect(mentionsName('@', '  ')).toBe(false);
	});

	it('matches Chinese names, with or without a space after them', () => {
		expect(mentionsName('@小明 请看一下', '小明')).toBe(true);
		expect(mentionsName('@小明请看一下', '小明')).toBe(true);
		expect(mentionsName('你好，@小明。', '小明')).toBe(true);
		expect(mentionsName('小明 without the at sign', '小明')).toBe(false);
		expect(mentionsName('@小红 请看一下', '小明')).toBe(false);
	});
});

describe('decideNotify', () => {
	it('never notifies for the reader’s own messages', () => {
		expect(decideNotify(input({ author: me.peerId, text: '@Ada note to self', level: 'all' }))).toEqual({ notify: false, why: 'own' });
	});

	it('never notifies for a message nobody is shown', () => {
		expect(decideNotify(input({ text: '@Ada', shown: false }))).toEqual({ notify: false, why: 'unseen' });
	});

	it('never notifies for history written before the notifier started', () => {
		expect(decideNotify(input({ text: '@Ada old news', at: SINCE - 1 }))).toEqual({ notify: false, why: 'history' });
		expect(decideNotify(input({ text: '@Ada fresh', at: SINCE }))).toEqual({ notify: true, reason: 'mention' });
	});

	it('in a channel, by default only mentions and replies in the reader’s threads notify', () => {
		expect(defaultLevel('channel')).toBe('mentions');
		expect(defaultLevel('private')).toBe('mentions');
		expect(decideNotify(input({ text: 'plain chatter' }))).toEqual({ notify: false, why: 'muted' });
		expect(decideNotify(input({ text: 'hey @ada' }))).toEqual({ notify: true, reason: 'mention' });
		expect(decideNotify(input({ text: 'a reply', parent: 'm1', tookPart: true }))).toEqual({ notify: true, reason: 'reply' });
		expect(decideNotify(input({ text: 'a reply', parent: 'm1', tookPart: false }))).toEqual({ notify: false, why: 'muted' });
		expect(decideNotify(input({ kind: 'private', text: 'plain' }))).toEqual({ notify: false, why: 'muted' });
	});

	it('level all notifies every message', () => {
		expect(decideNotify(input({ level: 'all' }))).toEqual({ notify: true, reason: 'all' });
		expect(decideNotify(input({ level: 'all', text: '@Ada' }))).toEqual({ notify: true, reason: 'mention' });
	});

	it('level nothing silences even mentions and replies', () => {
		expect(decideNotify(input({ level: 'nothing', text: '@Ada urgent' }))).toEqual({ notify: false, why: 'muted' });
		expect(decideNotify(input({ level: 'nothing', parent: 'm1', tookPart: true }))).toEqual({ notify: false, why: 'muted' });
	});

	it('direct conversations notify every message by default; mentions-only when set so', () => {
		expect(defaultLevel('direct')).toBe('all');
		expect(decideNotify(input({ kind: 'direct' }))).toEqual({ notify: true, reason: 'direct' });
		expect(decideNotify(input({ kind: 'direct', level: 'mentions' }))).toEqual({ notify: false, why: 'muted' });
		expect(decideNotify(input({ kind: 'direct', level: 'nothing' }))).toEqual({ notify: false, why: 'muted' });
	});

	it('mentions a reader with a Chinese display name', () => {
		const zh = { peerId: 'peer-me', name: '王小明' };
		expect(decideNotify(input({ me: zh, text: '@王小明请看这个' }))).toEqual({ notify: true, reason: 'mention' });
		expect(decideNotify(input({ me: zh, text: '王小明请看这个' }))).toEqual({ notify: false, why: 'muted' });
	});

	it('tells stored levels from anything else', () => {
		expect(['all', 'mentions', 'nothing'].every(isNotifyLevel)).toBe(true);
		expect(isNotifyLevel('loud')).toBe(false);
		expect(isNotifyLevel(undefined)).toBe(false);
	});
});
