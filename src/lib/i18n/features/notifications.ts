/** UI text of notifications in English (spread into en.ts; the Chinese is in notifications.zh.ts, loaded only when chosen). */
export const notificationsEn = {
	'notify.level': 'Notifications',
	'notify.levelChoice': 'Notifications: {level}',
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
	'notify.status.unsupported': 'This browser cannot show notifications.',
	'notify.body': '{name}: {text}',
	'notify.bodyFiles': '{count, plural, one {{name} sent a file} other {{name} sent # files}}',
} as const;
