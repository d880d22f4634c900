/** UI text of moderation (an admin hiding a message) in English (spread into en.ts; the Chinese is in moderation.zh.ts, loaded only when chosen). */
export const moderationEn = {
	'moderation.hide': 'Hide for everyone',
	'moderation.show': 'Show again',
	'moderation.hidden': 'Hidden by an admin ({name}, {time})',
	'moderation.withheld': 'Not shown: posted where its author may not post (a read-only channel, or a guest)'
} as const;
