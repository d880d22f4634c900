/** The Simplified Chinese of search.ts (spread into zh-CN.ts, which loads only when chosen). */
import type { searchEn } from './search.js';

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
