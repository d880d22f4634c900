/** UI text of notifications, English and Simplified Chinese (spread into en.ts and zh-CN.ts). */
export const notificationsEn = {
	'notify.level': 'Notifications',
	'notify.level.all': 'All messages',
	'notify.level.mentions': 'Mentions and my threads',
	'notify.level.nothing': 'Nothing',
	'notify.offer': 'Get a notification for mentions, direct messages and replies to your threads while Outpost is in the background?',
	'notify.turnOn': 'Turn on notifications',
	'notify.notNow': 'Not now',
	'notify.title': 'Notifications',
	'notify.status.on': 'Notifications are on. Choose per channel what notifies in its header.',
	'notify.status.off': 'Notifications are off.',
	'notify.status.blocked': 'Notifications are blocked by the browser: allow them in this site’s settings, then reload.',
	'notify.status.unsupported': 'This browser cannot show notifications.'
} as const;

export const notificationsZh: Record<keyof typeof notificationsEn, string> = {
	'notify.level': '通知',
	'notify.level.all': '所有消息',
	'notify.level.mentions': '提及我和我参与的话题',
	'notify.level.nothing': '不通知',
	'notify.offer': 'Outpost 在后台时，是否在有人提及你、给你发私信或回复你参与的话题时通知你？',
	'notify.turnOn': '开启通知',
	'notify.notNow': '暂不',
	'notify.title': '通知',
	'notify.status.on': '通知已开启。可在每个频道的标题栏选择哪些消息会通知你。',
	'notify.status.off': '通知已关闭。',
	'notify.status.blocked': '浏览器已阻止通知：请在本网站的设置中允许通知，然后重新加载。',
	'notify.status.unsupported': '此浏览器无法显示通知。'
};
