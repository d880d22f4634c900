/** The Simplified Chinese of spaces.ts (spread into zh-CN.ts, which loads only when chosen). */
import type { spacesEn } from './spaces.js';

export const spacesZh: Record<keyof typeof spacesEn, string> = {
	'spaces.pickMembers': '谁可以看到',
	'spaces.pickHint': '只有你选择的人（和你）会收到这个频道。其他人永远看不到它，连名字也看不到。',
	'spaces.noOthers': '这个工作区还没有其他人：请先邀请，或稍后再添加。',
	'spaces.memberNamed': '与 {name} 共享',
	'spaces.directs': '私信',
	'spaces.noDirects': '还没有对话。可在“成员”中点“发消息”开始。',
	'spaces.message': '发消息',
	'spaces.messageNamed': '给 {name} 发私信',
	'spaces.privateBadge': '私密',
	'spaces.members': '频道成员',
	'spaces.membersTitle': '{name} 的成员',
	'spaces.membersHint': '新加入的人会得到全部历史。被移除的人从此刻起收不到任何新内容；其设备上已有的内容无法收回。',
	'spaces.inSpace': '{name} 在此频道中',
	'spaces.save': '保存成员',
	'spaces.leave': '退出频道',
	'spaces.confirmLeaveTitle': '离开 {name}？',
	'spaces.confirmLeave': '从现在起您将不会再收到此频道的任何新内容，只有管理它的人才能把您重新加入。此设备上已有的内容会保留。',
	'spaces.confirmRemoveTitle': '要从此频道移除 {count} 人吗？',
	'spaces.confirmRemove': '从现在起 {names} 将不会再收到此频道的任何新内容。他们的设备上已有的内容无法收回。',
	'spaces.removeAndSave': '移除并保存',
	'spaces.error': '无法更改频道成员：{error}'
};
