/** The Simplified Chinese of moderation.ts (spread into zh-CN.ts, which loads only when chosen). */
import type { moderationEn } from './moderation.js';

export const moderationZh: Record<keyof typeof moderationEn, string> = {
	'moderation.hide': '对所有人隐藏',
	'moderation.show': '重新显示',
	'moderation.hidden': '已被管理员隐藏（{name}，{time}）',
	'moderation.withheld': '未显示：作者无权在此发言（只读频道或访客）'
};
