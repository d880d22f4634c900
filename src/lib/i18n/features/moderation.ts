/** UI text of moderation (an admin hiding a message), English and Simplified Chinese (spread into en.ts and zh-CN.ts). */
export const moderationEn = {
	'moderation.hide': 'Hide for everyone',
	'moderation.show': 'Show again',
	'moderation.hidden': 'Hidden by an admin ({name}, {time})',
	'moderation.withheld': 'Not shown: posted where its author may not post (a read-only channel, or a guest)'
} as const;

export const moderationZh: Record<keyof typeof moderationEn, string> = {
	'moderation.hide': '对所有人隐藏',
	'moderation.show': '重新显示',
	'moderation.hidden': '已被管理员隐藏（{name}，{time}）',
	'moderation.withheld': '未显示：作者无权在此发言（只读频道或访客）'
};
