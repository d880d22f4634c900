/** The Simplified Chinese of exchange.ts (spread into zh-CN.ts, which loads only when chosen). */
import type { exchangeEn } from './exchange.js';

export const exchangeZh: Record<keyof typeof exchangeEn, string> = {
	'exchange.noSecretInvite': '此工作区从导出文件恢复，导出文件不含工作区密钥。在你用成员的邀请链接加入之前，它只保存在本设备上；加入后即与所有人同步。',
	'exchange.title': '导出与导入',
	'exchange.intro': '一个 .zip 文件，包含所有频道、笔记和 AI 对话：可读的 Markdown 和 JSON，以及可在任何设备上恢复的完整数据。',
	'exchange.export': '导出工作区',
	'exchange.exportHint': '导出“{name}”。',
	'exchange.noWorkspace': '请先打开一个工作区再导出。',
	'exchange.import': '导入',
	'exchange.importFile': '工作区导出文件',
	'exchange.importHint': '将导出文件恢复为新工作区；如果同一工作区已在本设备上，则合并进去。同一文件导入两次不会有任何改变。',
	'exchange.progress': '进度',
	'exchange.exporting': '正在导出… 第 {done} / {total} 个文档',
	'exchange.importing': '正在检查并导入… 第 {done} / {total} 步',
	'exchange.exported': '已将“{name}”导出为 {file}。',
	'exchange.exportedFiles': '附件：已包含 {included} 个；{missing} 个不在此设备上，仅列出。',
	'exchange.importedFiles': '附件：已恢复 {restored} 个；{missing} 个不在文件中或已损坏（持有它们的成员仍可发送）。',
	'exchange.restored': '已恢复“{name}”（{documents} 个文档）。在你用成员的邀请链接加入之前，它只保存在本设备上；加入后会与其他人同步。',
	'exchange.merged': '已合并到“{name}”：{documents} 个文档中有 {changed} 个有更新。',
	'exchange.unchanged': '“{name}”已是最新：没有任何改变。',
	'exchange.exportFailed': '导出失败：{error}',
	'exchange.importFailed': '导入失败：{error}。没有任何改变。',
	'exchange.error.NotAnExportError': '此文件不是 Outpost 工作区导出文件。请选择用“导出工作区”生成的 .zip 文件。没有任何改变。',
	'exchange.error.CorruptArchiveError': '此文件已损坏或不完整（可能复制时被截断），无法读取。没有任何改变；请重新导出工作区。',
	'exchange.error.MissingManifestError': '此 zip 文件不是 Outpost 工作区导出文件：缺少清单。没有任何改变。',
	'exchange.error.InvalidManifestError': '此导出文件的清单已损坏或前后不一致。没有任何改变；请重新导出工作区。',
	'exchange.error.UnsupportedVersionError': '此导出文件的格式版本无法被本应用读取。请更新 Outpost 后重试。没有任何改变。',
	'exchange.error.ChecksumMismatchError': '此文件中有文档与其校验和不符：文件已损坏。没有任何改变；请重新导出工作区。',
	'exchange.error.CorruptDocumentError': '此文件中有文档无法解码：文件已损坏。没有任何改变；请重新导出工作区。',
	'exchange.error.ExportTooLargeError': '此文件（或其解压后的内容）超过了导入的大小上限。没有任何改变。',
	'exchange.channelExport': '导出为 Markdown'
};
