/** UI text of the search feature in English (spread into en.ts; the Chinese is in search.zh.ts, loaded only when chosen). */
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
