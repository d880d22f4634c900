/** The Simplified Chinese of knowledgeEmbeddings.ts (spread into zh-CN.ts, which loads only when chosen). */
import type { knowledgeEmbeddingsEn } from './knowledgeEmbeddings.js';

export const knowledgeEmbeddingsZh: Record<keyof typeof knowledgeEmbeddingsEn, string> = {
	'knowledgeEmbeddings.label': '知识嵌入模型',
	'knowledgeEmbeddings.none': '无（仅全文检索）',
	'knowledgeEmbeddings.file': '{name}（{mb} MB）',
	'knowledgeEmbeddings.help': '嵌入模型除了按字词，还能按语义查找段落。它在此浏览器中运行；此选择保存在本设备上。',
	'knowledgeEmbeddings.loading': '正在加载 {name}…',
	'knowledgeEmbeddings.loadProgress': '正在加载嵌入模型',
	'knowledgeEmbeddings.ready': '{name} 已就绪；提问时会为段落生成向量。',
	'knowledgeEmbeddings.idle': '{name} 将在你下次提问时加载。',
	'knowledgeEmbeddings.embedding': '正在为段落生成向量：{done} / {total}…',
	'knowledgeEmbeddings.embedProgress': '正在为段落生成向量',
	'knowledgeEmbeddings.rankedByMeaning': '来源按语义和字词排序（{passages} 个段落中已有 {embedded} 个生成向量）。',
	'knowledgeEmbeddings.rankedByWords': '来源仅按字词排序。',
	'knowledgeEmbeddings.loadFailed': '无法加载嵌入模型 {name}：{error}。回答仅使用全文检索；请重试或选择其他模型。',
	'knowledgeEmbeddings.missing': '中继已不再提供 {name}。回答仅使用全文检索；请选择其他模型。',
	'knowledgeEmbeddings.embedFailed': '嵌入模型出错：{error}。回答仅使用全文检索；请重试或选择其他模型。',
	'knowledgeEmbeddings.listFailed': '无法列出中继的模型：{error}',
	'knowledgeEmbeddings.retry': '重试'
};
