/** The Simplified Chinese of aiTools.ts (spread into zh-CN.ts, which loads only when chosen). */
import type { aiToolsEn } from './aiTools.js';

export const aiToolsZh: Record<keyof typeof aiToolsEn, string> = {
	'aiTools.mode': '工具',
	'aiTools.off': '关闭',
	'aiTools.auto': '自动（由模型选择）',
	'aiTools.use': '使用 {name}',
	'aiTools.useAsks': '使用 {name}（先征求同意）',
	'aiTools.knowledge': '使用工作区知识',
	'aiTools.searching': '正在搜索工作区…',
	'aiTools.steps': '工具调用',
	'aiTools.step': '工具调用：{name} — {status}',
	'aiTools.status.running': '运行中…',
	'aiTools.status.approval': '等待你批准',
	'aiTools.status.approvalOther': '等待提问者批准',
	'aiTools.status.done': '已完成',
	'aiTools.status.doneIn': '已完成，用时 {ms} 毫秒',
	'aiTools.status.error': '失败',
	'aiTools.status.denied': '已拒绝',
	'aiTools.arguments': '参数',
	'aiTools.result': '结果',
	'aiTools.wantsToUse': '模型想要使用 {name}',
	'aiTools.approvalHint': '在你批准之前不会执行任何操作。按 Esc 键拒绝。',
	'aiTools.approve': '批准',
	'aiTools.deny': '拒绝',
	'aiTools.always': '在此对话中始终允许',
	'aiTools.sources': '来源',
	'aiTools.source': '[{n}] {title}',
	'aiTools.openSource': '打开来源 {n}：{title}',
	'aiTools.untitled': '无标题'
};
