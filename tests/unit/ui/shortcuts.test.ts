// @vitest-environment jsdom
/** The keyboard shortcuts: which presses mean what, and where "next unread" goes. */
import { describe, expect, it } from 'vitest';
import { nextUnread, Shortcut, shortcutOf, type KeyPress } from '../../../src/lib/ui/shortcuts';

const press = (key: string, mods: Partial<KeyPress> = {}): KeyPress => ({
	key,
	ctrlKey: false,
	metaKey: false,
	altKey: false,
	shiftKey: false,
	target: document.body,
	...mods
});

describe('shortcutOf', () => {
	it('Ctrl+K and ⌘K focus search, even while typing', () => {
		const box = document.createElement('textarea');
		expect(shortcutOf(press('k', { ctrlKey: true, target: box }))).toBe(Shortcut.search);
		expect(shortcutOf(press('K', { metaKey: true }))).toBe(Shortcut.search);
		expect(shortcutOf(press('k', { ctrlKey: true, shiftKey: true }))).toBeUndefined();
		expect(shortcutOf(press('k'))).toBeUndefined();
	});

	it('"/" focuses search only outside text boxes', () => {
		expect(shortcutOf(press('/'))).toBe(Shortcut.search);
		expect(shortcutOf(press('/', { target: document.createElement('button') }))).toBe(Shortcut.search);
		expect(shortcutOf(press('/', { target: document.createElement('input') }))).toBeUndefined();
		expect(shortcutOf(press('/', { target: document.createElement('textarea') }))).toBeUndefined();
		const editable = document.createElement('div');
		editable.setAttribute('contenteditable', 'true');
		document.body.append(editable);
		expect(shortcutOf(press('/', { target: editable }))).toBeUndefined();
		const check = document.createElement('input');
		check.type = 'checkbox';
		expect(shortcutOf(press('/', { target: check }))).toBe(Shortcut.search);
	});

	it('Alt+Shift+↓ means next unread, unless an editor already used the press', () => {
		expect(shortcutOf(press('ArrowDown', { altKey: true, shiftKey: true }))).toBe(Shortcut.nextUnread);
		expect(shortcutOf(press('ArrowDown', { altKey: true }))).toBeUndefined();
		expect(shortcutOf(press('ArrowDown', { altKey: true, shiftKey: true, defaultPrevented: true }))).toBeUndefined();
	});
});

describe('nextUnread', () => {
	const ids = ['a', 'b', 'c', 'd'];

	it('goes to the next channel with unread messages, wrapping around', () => {
		expect(nextUnread(ids, { c: 2, a: 1 }, 'a')).toBe('c');
		expect(nextUnread(ids, { c: 2, a: 1 }, 'c')).toBe('a');
		expect(nextUnread(ids, { b: 1 }, 'd')).toBe('b');
	});

	it('starts at the top without an open channel, and finds nothing when all is read', () => {
		expect(nextUnread(ids, { d: 4, b: 1 }, undefined)).toBe('b');
		expect(nextUnread(ids, { a: 0 }, 'b')).toBeUndefined();
		expect(nextUnread(ids, { b: 3 }, 'b')).toBeUndefined();
		expect(nextUnread([], {}, undefined)).toBeUndefined();
	});
});
