/** UI text of the keyboard shortcuts, English and Simplified Chinese (spread into en.ts and zh-CN.ts). */
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

export const shortcutsZh: Record<keyof typeof shortcutsEn, string> = {
	'shortcuts.title': '键盘快捷键',
	'shortcuts.search': '搜索',
	'shortcuts.searchKeys': 'Ctrl+K、⌘K 或 /',
	'shortcuts.searchHint': '搜索（Ctrl+K 或 /）',
	'shortcuts.nextUnread': '下一个有未读消息的频道',
	'shortcuts.nextUnreadKeys': 'Alt+Shift+↓（⌥⇧↓）',
	'shortcuts.nextUnreadHint': 'Alt+Shift+↓ 打开下一个有未读消息的频道',
	'shortcuts.close': '关闭对话框、面板或搜索结果',
	'shortcuts.closeKeys': 'Esc'
};
