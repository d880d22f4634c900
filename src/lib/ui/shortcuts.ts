/**
 * The app's keyboard shortcuts: which key press means what, and where "next unread" goes.
 * Pure functions over a KeyboardEvent's fields, so the components that own each action
 * (the search box, the channel list) decide the same way and the rules are unit-tested.
 */

/** A key press, as far as the shortcuts care. */
export interface KeyPress {
	key: string;
	ctrlKey: boolean;
	metaKey: boolean;
	altKey: boolean;
	shiftKey: boolean;
	defaultPrevented?: boolean;
	/** Where the key was pressed (typing "/" in a text box is just a slash). */
	target: EventTarget | null;
}

export const Shortcut = {
	search: 'search',
	nextUnread: 'next-unread'
} as const;
export type Shortcut = (typeof Shortcut)[keyof typeof Shortcut];

/** The shortcuts in `aria-keyshortcuts` syntax, for the elements they act on. */
export const KEYS: Record<Shortcut, string> = {
	[Shortcut.search]: 'Control+K Meta+K /',
	[Shortcut.nextUnread]: 'Alt+Shift+ArrowDown'
};

/** Whether the key went to something the user types into (where "/" is text). */
function typing(target: EventTarget | null): boolean {
	if (typeof HTMLElement === 'undefined' || !(target instanceof HTMLElement)) return false;
	if (target.isContentEditable || target.closest('[contenteditable]:not([contenteditable="false"])')) return true;
	if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
	return target instanceof HTMLInputElement && !['checkbox', 'radio', 'button', 'submit', 'reset', 'range', 'color', 'file'].includes(target.type);
}

/**
 * The shortcut a key press means, if any: Ctrl+K or ⌘K (anywhere) and "/" (outside text
 * boxes) focus search; Alt+Shift+↓ (⌥⇧↓) opens the next channel with unread messages.
 * Presses an editor already handled (CodeMirror's own Alt+Shift+↓) mean nothing.
 */
export function shortcutOf(e: KeyPress): Shortcut | undefined {
	if (e.defaultPrevented) return undefined;
	const key = e.key.toLowerCase();
	if (key === 'k' && (e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey) return Shortcut.search;
	if (e.key === '/' && !e.ctrlKey && !e.metaKey && !e.altKey && !typing(e.target)) return Shortcut.search;
	if (e.key === 'ArrowDown' && e.altKey && e.shiftKey && !e.ctrlKey && !e.metaKey) return Shortcut.nextUnread;
	return undefined;
}

/**
 * The channel to open for "next unread": the first after `current` in list order that has
 * unread messages, wrapping around; undefined when no other channel has any.
 */
export function nextUnread(ids: readonly string[], unread: Readonly<Record<string, number>>, current: string | undefined): string | undefined {
	const start = current === undefined ? -1 : ids.indexOf(current);
	for (let step = 1; step <= ids.length; step++) {
		const id = ids[(start + step + ids.length) % ids.length];
		if (id !== current && (unread[id] ?? 0) > 0) return id;
	}
	return undefined;
}
