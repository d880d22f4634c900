/** The Simplified Chinese of huddle.ts (spread into zh-CN.ts, which loads only when chosen). */
import type { huddleEn } from './huddle.js';

export const huddleZh: Record<keyof typeof huddleEn, string> = {
	'huddle.start': '发起语音通话',
	'huddle.join': '加入语音通话（{count}）',
	'huddle.region': '语音通话',
	'huddle.people': '通话中的成员',
	'huddle.you': '{name}（你）',
	'huddle.muted': '已静音',
	'huddle.talkingNote': '，正在说话',
	'huddle.mutedNote': '，已静音',
	'huddle.connecting': '正在连接…',
	'huddle.mute': '静音',
	'huddle.unmute': '取消静音',
	'huddle.leave': '离开语音通话',
	'huddle.full': '此语音通话已满（{max} 人）。请等有人离开后再试。',
	'huddle.microphone': 'Outpost 无法使用你的麦克风（{error}）。请允许此网站访问麦克风，然后重试。',
	'huddle.unavailable': '语音通话暂不可用：请等待此设备连接到网络后再试。'
};
