/** UI text of the keyboard shortcuts in English (spread into en.ts; the Chinese is in shortcuts.zh.ts, loaded only when chosen). */
export const shortcutsEn = {
	'shortcuts.title': 'Keyboard shortcuts',
	'shortcuts.search': 'Search',
	'shortcuts.searchKeys': 'Ctrl+K, ⌘K or /',
	'shortcuts.searchHint': 'Search (Ctrl+K or /)',
	'shortcuts.nextUnread': 'Next channel with unread messages',
	'shortcuts.nextUnreadKeys': 'Alt+Shift+↓ (⌥⇧↓)',
	'shortcuts.nextUnreadHint': 'Alt+Shift+↓ opens the next channel with unread messages',
	'shortcuts.close': 'Close a dialog, a panel or the search results',
	'shortcuts.closeKeys': 'Esc'
} as const;
