/** UI text of private channels and direct messages, English and Simplified Chinese (spread into en.ts and zh-CN.ts). */
export const spacesEn = {
	'spaces.pickMembers': 'Who can see it',
	'spaces.pickHint': 'Only the people you pick (and you) receive this channel. Others never see it, not even its name.',
	'spaces.noOthers': 'Nobody else is in this workspace yet: invite someone first, or add them later.',
	'spaces.memberNamed': 'Share with {name}',
	'spaces.directs': 'Direct messages',
	'spaces.noDirects': 'No conversations yet. Start one from Members → Message.',
	'spaces.message': 'Message',
	'spaces.messageNamed': 'Send {name} a direct message',
	'spaces.privateBadge': 'Private',
	'spaces.members': 'Channel members',
	'spaces.membersTitle': 'Members of {name}',
	'spaces.membersHint': 'Someone added gets the whole history. Someone removed gets nothing new from that moment; what their devices already hold cannot be recalled.',
	'spaces.inSpace': '{name} is in this channel',
	'spaces.save': 'Save members',
	'spaces.leave': 'Leave channel',
	'spaces.error': 'Could not change who is in this channel: {error}'
} as const;

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
	'spaces.error': '无法更改频道成员：{error}'
};
