/** The Simplified Chinese of apiKeys.ts (spread into zh-CN.ts, which loads only when chosen). */
import type { apiKeysEn } from './apiKeys.js';

export const apiKeysZh: Record<keyof typeof apiKeysEn, string> = {
	'apiKeys.open': 'API 密钥',
	'apiKeys.title': 'API 密钥',
	'apiKeys.help':
		'支持 OpenAI API 的程序（编辑器、脚本、SDK）可以用这里的密钥，通过中继的 {url}/v1 使用本工作区的模型。只有所有者和管理员可以创建或吊销密钥；创建者不再是所有者或管理员时，其密钥即失效。',
	'apiKeys.list': '本工作区的 API 密钥',
	'apiKeys.none': '还没有 API 密钥。',
	'apiKeys.created': '创建于 {date}',
	'apiKeys.revoke': '吊销',
	'apiKeys.revokeNamed': '吊销 {name}',
	'apiKeys.confirmTitle': '吊销 {name}？',
	'apiKeys.confirmRevoke': '从现在起使用此密钥的程序都会被拒绝，且无法撤销：如果它们仍需要，请新建一个密钥。',
	'apiKeys.name': '密钥名称',
	'apiKeys.namePlaceholder': '密钥的用途，例如“编辑器插件”',
	'apiKeys.create': '创建 API 密钥',
	'apiKeys.newKey': '新的 API 密钥',
	'apiKeys.newKeyHelp': '请现在复制此密钥：它不会再次显示。在您吊销之前一直有效。',
	'apiKeys.copy': '复制',
	'apiKeys.copied': '已复制',
	'apiKeys.done': '我已复制',
	'apiKeys.notArchived': '中继没有保存本工作区的副本，因此无法确认谁是所有者和管理员。请先在“邀请”对话框中把工作区添加到中继。',
	'apiKeys.unreachable': '无法连接中继（或者本应用不是从中继打开的）。请连接中继后重试。',
	'apiKeys.retry': '重试',
	'apiKeys.emptyName': '请给密钥起一个说明用途的名称。',
	'apiKeys.tooLong': '密钥名称太长：最多 100 个字符。',
	'apiKeys.failed': '中继拒绝了请求：{error}'
};
