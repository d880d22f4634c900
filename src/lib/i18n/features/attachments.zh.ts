/** The Simplified Chinese of attachments.ts (spread into zh-CN.ts, which loads only when chosen). */
import type { attachmentsEn } from './attachments.js';

export const attachmentsZh: Record<keyof typeof attachmentsEn, string> = {
	'attachments.attach': '添加附件',
	'attachments.chooseFiles': '要附加的文件',
	'attachments.pending': '待发送的文件',
	'attachments.adding': '正在添加 {name}',
	'attachments.remove': '移除 {name}',
	'attachments.tooMany': '一条消息最多只能附带 {max} 个文件。请先发送这些文件，再把其余文件附加到另一条消息。',
	'attachments.tooLarge': '{name} 的大小为 {size}，超过了单个文件 {limit} 的上限。请分享较小的文件，或将其拆分。',
	'attachments.addFailed': '无法添加 {name}：{error}。请重新附加该文件。',
	'attachments.list': '附件',
	'attachments.open': '打开 {name}',
	'attachments.load': '加载图片（{size}）',
	'attachments.fetching': '正在获取 {name}',
	'attachments.progress': '{held} / {size}',
	'attachments.failed': '无法获取 {name}：{error}',
	'attachments.reason.offline': '当前没有连接到工作区的任何设备。持有该文件的设备上线后即可加载。',
	'attachments.reason.unavailable': '已连接的设备都没有完整的文件（或无权与你共享）。',
	'attachments.reason.other': '传输失败。',
	'attachments.retry': '重试',
	'attachments.retryNamed': '重试 {name}',
	'attachments.download': '下载',
	'attachments.downloadNamed': '下载 {name}',
	'attachments.downloadFailed': '无法下载 {name}：{error}',
	'attachments.unknownType': '文件'
};
