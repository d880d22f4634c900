/** The Simplified Chinese of toolAccess.ts (spread into zh-CN.ts, which loads only when chosen). */
import type { toolAccessEn } from './toolAccess.js';

export const toolAccessZh: Record<keyof typeof toolAccessEn, string> = {
	'toolAccess.title': '工具',
	'toolAccess.help': '设置中继通过其 MCP 服务器共享的每个工具允许哪些角色使用。中继在每次调用前都会检查，并拒绝其他角色；没有规则的工具向所有者、管理员和成员开放。',
	'toolAccess.tool': '工具',
	'toolAccess.loading': '正在向中继获取工具列表…',
	'toolAccess.none': '中继没有提供任何工具。中继的运营者可以用 --mcp 添加 MCP 服务器。',
	'toolAccess.default': '（默认）',
	'toolAccess.notListed': '中继当前未提供',
	'toolAccess.allow': '{role}可使用 {tool}',
	'toolAccess.notArchived': '中继没有保存本工作区的副本，因此不会向它共享工具。请先在“邀请”对话框中把工作区添加到中继。',
	'toolAccess.unreachable': '无法连接中继（或者本应用不是从中继打开的），因此无法列出其工具。请连接中继后重试。',
	'toolAccess.listFailed': '无法列出中继的工具：{error}',
	'toolAccess.retry': '重新获取中继的工具',
	'toolAccess.failed': '无法更改工具权限：{error}'
};
