/** The Simplified Chinese of shortcuts.ts (spread into zh-CN.ts, which loads only when chosen). */
import type { shortcutsEn } from './shortcuts.js';

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
