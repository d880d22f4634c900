/** The Simplified Chinese of notifications.ts (spread into zh-CN.ts, which loads only when chosen). */
import type { notificationsEn } from './notifications.js';

export const notificationsZh: Record<keyof typeof notificationsEn, string> = {
	'notify.level': '通知',
	'notify.levelChoice': '通知：{level}',
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
	'notify.status.unsupported': '此浏览器无法显示通知。',
	'notify.body': '{name}：{text}',
	'notify.bodyFiles': '{name} 发送了 {count} 个文件',
};
