/** The Simplified Chinese of channelAi.ts (spread into zh-CN.ts, which loads only when chosen). */
import type { channelAiEn } from './channelAi.js';

export const channelAiZh: Record<keyof typeof channelAiEn, string> = {
	'channelAi.badge': 'AI',
	'channelAi.servedBy': '运行于 {name}',
	'channelAi.askedBy': '提问者 {name}',
	'channelAi.servedByAskedBy': '运行于 {name} · 提问者 {asker}',
	'channelAi.queued': '排队中：前面还有 {count} 个',
	'channelAi.writing': '正在撰写…',
	'channelAi.stop': '停止',
	'channelAi.stopped': '回答在结束前被停止。',
	'channelAi.failed': '回答中断：{error}',
	'channelAi.askFailed': '模型无法回答：{error}',
	'channelAi.stats': '{tokens} 个词元 · 每秒 {speed} 个',
	'channelAi.hint': '以 @ 加模型名称开头即可提问：{models}',
	'channelAi.tools': '@模型 可用的工具',
	'channelAi.toolsScope': '工具只能读取本频道所有成员都能读取的内容；工具循环在本设备上运行。',
	'channelAi.toolsAlways': '在本频道中始终允许',
	'channelAi.equivocated': '此回答的主机签署了不止一个结尾：显示的是最早的一个。',
	'channelAi.equivocatedLabel': '有多个结尾的回答'
};
