/** UI text of private channels and direct messages in English (spread into en.ts; the Chinese is in spaces.zh.ts, loaded only when chosen). */
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
	'spaces.confirmLeaveTitle': 'Leave {name}?',
	'spaces.confirmLeave': 'You will get nothing new from this channel from now on, and only someone who manages it can add you back. What this device already holds stays on it.',
	'spaces.confirmRemoveTitle': '{count, plural, one {Remove # person from this channel?} other {Remove # people from this channel?}}',
	'spaces.confirmRemove': '{names} will get nothing new from this channel from now on. What their devices already hold cannot be recalled.',
	'spaces.removeAndSave': 'Remove and save',
	'spaces.error': 'Could not change who is in this channel: {error}'
} as const;
