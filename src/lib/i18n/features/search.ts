/** UI text of the search feature, English and Simplified Chinese (spread into en.ts and zh-CN.ts). */
export const searchEn = {
	'search.label': 'Search',
	'search.placeholder': 'Search messages, notes and AI chats',
	'search.results': 'Search results',
	'search.count': '{count, plural, one {# result} other {# results}}',
	'search.none': 'No results for “{query}”',
	'search.hint': 'Press Enter to search; ↑ and ↓ move through the results, Esc clears.',
	'search.indexing': 'Building the search index… {done} of {total}',
	'search.searching': 'Searching…',
	'search.failed': 'Search is unavailable: {error}. Reload the page to try again.',
	'search.inChannel': '# {channel}',
	'search.inThread': '# {channel} · thread reply',
	'search.inChat': 'AI chat · {title}',
	'search.inNote': 'Note · {title}',
	'search.untitled': 'Untitled'
} as const;

export const searchZh: Record<keyof typeof searchEn, string> = {
	'search.label': '搜索',
	'search.placeholder': '搜索消息、笔记和 AI 对话',
	'search.results': '搜索结果',
	'search.count': '{count} 条结果',
	'search.none': '没有找到“{query}”的结果',
	'search.hint': '按回车搜索；↑ 和 ↓ 在结果间移动，Esc 清除。',
	'search.indexing': '正在建立搜索索引… {done} / {total}',
	'search.searching': '正在搜索…',
	'search.failed': '搜索不可用：{error}。请重新加载页面再试。',
	'search.inChannel': '# {channel}',
	'search.inThread': '# {channel} · 话题回复',
	'search.inChat': 'AI 对话 · {title}',
	'search.inNote': '笔记 · {title}',
	'search.untitled': '无标题'
};
