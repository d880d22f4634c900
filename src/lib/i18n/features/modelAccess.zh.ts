/** The Simplified Chinese of modelAccess.ts (spread into zh-CN.ts, which loads only when chosen). */
import type { modelAccessEn } from './modelAccess.js';

export const modelAccessZh: Record<keyof typeof modelAccessEn, string> = {
	'modelAccess.title': '模型权限',
	'modelAccess.help': '设置每个共享模型允许哪些角色使用。每个运行模型的节点都会自行检查，并拒绝其他角色。中继：允许中继为其 /v1 接口调用成员设备上的模型。',
	'modelAccess.model': '模型',
	'modelAccess.none': '此工作区还没有共享的模型。',
	'modelAccess.default': '（默认）',
	'modelAccess.allow': '{role}可使用 {model}',
	'modelAccess.failed': '无法更改模型权限：{error}',
	'modelAccess.optionBlocked': '{option}（你的角色无权使用）',
	'modelAccess.noneForYourRole': '你的角色无权使用此处共享的任何模型。所有者或管理员可在“模型 → 模型权限”中开放。'
};
