/**
 * Benchmark: retrieval over 10,000 note chunks (issue 15's "Knowledge").
 *
 *   npm run bench:knowledge
 *
 * Notes are made of sections (a heading, then a few paragraphs) of English sentences cut from
 * a real paper (`../shared/data/automerge-paper.json.gz`) and, one note in five, Chinese text
 * drawn from a vocabulary of everyday and technical words; notes are added until they cut
 * into BENCH_CHUNKS chunks (chunker.ts). Everything runs in Node over fake-indexeddb, slower
 * than a browser's IndexedDB, so the Dexie figures are pessimistic. The chunks are indexed
 * (KnowledgeIndex over IdbVectorStore, int8 vectors, in batches of 20 notes as the indexer
 * gives them) twice:
 *
 * - with a real embedding model: the tiny generated test GGUF (random weights, 64 dimensions,
 *   256-token context) through node-llama-cpp on one CPU thread: time, embedding's share,
 *   bytes;
 * - with a DETERMINISTIC BASELINE EMBEDDER (feature hashing of the search tokenizer's terms
 *   into 384 dimensions, tests/unit/knowledge/hashEmbedder.ts; NOT a model) for vectors as
 *   wide as a small real embedding model's (MiniLM, bge-small): its vectors cost
 *   microseconds, so the time, bytes and ranking cost are the retrieval code's own.
 *
 * Then: a second pass over every note (nothing re-embedded), one note edited (one chunk
 * re-embedded), opening again from Dexie, and query latency p50/p95 over BENCH_QUERIES
 * questions (English and Chinese, one in three with a read-rights predicate refusing a fifth of
 * the notes): hybrid (BM25 + vectors, fused) on the 384-dimension index, where embedding the
 * question costs microseconds ("without the model call"), against baselines in the same run:
 * full text alone, vectors alone, a linear scan of the texts for the question's longest word;
 * and hybrid on the model's index, the model call included. Last, embedding throughput of a
 * MiniLM-sized generated model (384 dimensions, 6 blocks) on a sample of the chunks.
 *
 * Writes bench/results/knowledge.json. Figures only: never asserts.
 *
 * Environment: BENCH_CHUNKS (default 10000), BENCH_QUERIES (default 200), BENCH_EMBED_SAMPLE
 * (chunks for the MiniLM-sized model, default 40), BENCH_THREADS (model threads, default 1).
 */
import 'fake-indexeddb/auto';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chunkNote, embeddingText, type Chunk } from '../src/lib/knowledge/chunker.ts';
import type { Embedder } from '../src/lib/knowledge/Embedder.ts';
import { IdbVectorStore } from '../src/lib/knowledge/IdbVectorStore.ts';
import { KnowledgeIndex, type KnowledgeQuery } from '../src/lib/knowledge/KnowledgeIndex.ts';
import { encodeVector, VectorFormat } from '../src/lib/knowledge/vectorCodec.ts';
import { MemoryVectorStore } from '../src/lib/knowledge/VectorStore.ts';
import { OutpostDb } from '../src/lib/store/db.ts';
import { NodeLlamaEmbedder } from '../relay/ai/nodeLlamaEmbedder.ts';
import { llamaGgufPath } from '../tests/fixtures/gguf.ts';
import { mulberry32 } from '../tests/fixtures/random.ts';
import { HashEmbedder } from '../tests/unit/knowledge/hashEmbedder.ts';
import { benchEnvironment, positiveInt } from './env.ts';
import { englishSentences, percentile } from './corpus.ts';

const CHUNKS = positiveInt('BENCH_CHUNKS', 10_000);
const QUERIES = positiveInt('BENCH_QUERIES', 200);
const SAMPLE = positiveInt('BENCH_EMBED_SAMPLE', 40);
const THREADS = positiveInt('BENCH_THREADS', 1);
/** Notes per update, as the indexer batches a debounce's worth of changed documents. */
const NOTES_PER_UPDATE = 20;
const BASELINE_DIMS = 384;
const here = dirname(fileURLToPath(import.meta.url));

const ZH_WORDS = (
	'我们 你们 他们 今天 明天 昨天 会议 讨论 数据 主权 安全 网络 离线 同步 文档 消息 频道 笔记 模型 服务器 ' +
	'设备 手机 电脑 船员 港口 航行 天气 计划 报告 问题 方案 需要 已经 可以 应该 不会 完成 更新 备份 恢复 ' +
	'加密 密钥 成员 邀请 工作区 搜索 索引 中文 英文 翻译 测试 版本 发布 错误 修复 性能 延迟 带宽 存储 ' +
	'本地 优先 协作 编辑 冲突 合并 历史 快照 导出 导入 文件 图片 附件 链接 时间 地点 食物 午饭 晚饭 ' +
	'发动机 燃料 检查 维护 记录 日志 温度 风速 海浪 雷达 卫星 电力 电池 充电 信号 天线 频率 通信'
).split(' ');

interface Note {
	docId: string;
	title: string;
	body: string;
}

/** Notes until they cut into `target` chunks; deterministic. */
function makeNotes(english: string[], target: number): { notes: Note[]; chunks: number } {
	const rand = mulberry32(15);
	const pick = <T>(list: T[]): T => list[Math.floor(rand() * list.length)]!;
	const chinese = () => Array.from({ length: 8 + Math.floor(rand() * 20) }, () => pick(ZH_WORDS)).join('') + '。';
	const notes: Note[] = [];
	let chunks = 0;
	for (let n = 0; chunks < target; n++) {
		const zh = n % 5 === 4;
		const sentence = zh ? chinese : () => pick(english);
		const sections = Array.from({ length: 3 + Math.floor(rand() * 10) }, (_, s) => {
			const paragraphs = Array.from({ length: 1 + Math.floor(rand() * 3) }, () => Array.from({ length: 2 + Math.floor(rand() * 5) }, sentence).join(' '));
			return `## ${zh ? `第${s + 1}节 ${pick(ZH_WORDS)}` : `Section ${s + 1}: ${pick(english).split(' ').slice(0, 3).join(' ')}`}\n\n${paragraphs.join('\n\n')}`;
		});
		const note = { docId: `note${String(n).padStart(22, '0')}`, title: zh ? `笔记 ${n}` : `Note ${n}`, body: sections.join('\n\n') };
		chunks += chunkNote(note.docId, note.title, note.body).length;
		notes.push(note);
	}
	return { notes, chunks };
}

/** Questions: half an English sentence's words, or a few Chinese words, from the notes' material. */
function makeQuestions(english: string[], n: number): string[] {
	const rand = mulberry32(99);
	return Array.from({ length: n }, (_, i) => {
		if (i % 4 === 3) return Array.from({ length: 3 }, () => ZH_WORDS[Math.floor(rand() * ZH_WORDS.length)]).join('') + '是什么？';
		const words = english[Math.floor(rand() * english.length)]!.split(' ');
		return `What about ${words.slice(0, Math.max(3, Math.ceil(words.length / 2))).join(' ')}?`;
	});
}

/** An embedder that times its calls. */
class Timed implements Embedder {
	ms = 0;
	texts = 0;
	constructor(private readonly inner: Embedder) {}
	get id(): string {
		return this.inner.id;
	}
	async embed(texts: string[], signal?: AbortSignal): Promise<Float32Array[]> {
		const t = performance.now();
		const out = await this.inner.embed(texts, signal);
		this.ms += performance.now() - t;
		this.texts += texts.length;
		return out;
	}
}

async function latency(questions: string[], run: (q: string, i: number) => Promise<unknown> | unknown): Promise<{ p50: number; p95: number; mean: number }> {
	for (const q of questions.slice(0, 10)) await run(q, 0); // warm up
	const times: number[] = [];
	for (const [i, q] of questions.entries()) {
		const t = performance.now();
		await run(q, i);
		times.push(performance.now() - t);
	}
	const mean = times.reduce((s, x) => s + x, 0) / times.length;
	times.sort((a, b) => a - b);
	return { p50: percentile(times, 0.5), p95: percentile(times, 0.95), mean };
}

const ms = (v: number) => `${v.toFixed(v < 10 ? 2 : 0)} ms`;
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

/** What indexing every note cost. */
interface Build {
	label: string;
	chunks: number;
	ms: number;
	embedMs: number;
	vectorBytes: number;
	perVector: number;
	chunkRowBytes: number;
}

/** Indexes every note into a fresh Dexie database; returns the figures and the open index. */
async function build(label: string, chunked: { docId: string; chunks: Chunk[] }[], embedder: Timed): Promise<{ build: Build; index: KnowledgeIndex; db: OutpostDb; name: string }> {
	const name = `bench-knowledge-${label}-${Date.now()}`;
	const db = new OutpostDb(name);
	const index = await KnowledgeIndex.open({ store: new IdbVectorStore(db, WORKSPACE), embedder, batchSize: 32 });
	const t = performance.now();
	for (let i = 0; i < chunked.length; i += NOTES_PER_UPDATE) await index.update({ replace: chunked.slice(i, i + NOTES_PER_UPDATE) });
	const total = performance.now() - t;
	const vectorRows = await db.knowledgeVectors.toArray();
	const vectorBytes = vectorRows.reduce((s, r) => s + r.bytes.byteLength, 0);
	const chunkRows = await db.knowledgeChunks.toArray();
	const chunkRowBytes = chunkRows.reduce((s, r) => s + Buffer.byteLength(JSON.stringify(r), 'utf8'), 0);
	const result = { label, chunks: index.size, ms: total, embedMs: embedder.ms, vectorBytes, perVector: vectorBytes / Math.max(1, vectorRows.length), chunkRowBytes };
	console.log(
		`${`index ${index.size} chunks, ${label}:`.padEnd(44)} ${ms(total).padStart(8)} (embedding ${ms(embedder.ms)}, the rest ${((total - embedder.ms) / index.size).toFixed(3)} ms/chunk); vectors ${mb(vectorBytes)} = ${result.perVector.toFixed(0)} B/chunk`
	);
	return { build: result, index, db, name };
}

/** Chunks through a model: ms per chunk and the vectors' length. */
async function modelThroughput(label: string, modelPath: string, chunks: Chunk[], contextSize: number) {
	const embedder = new NodeLlamaEmbedder({ modelPath, gpu: false, contextSize, threads: THREADS });
	try {
		const dims = await embedder.dimensions();
		await embedder.embed([embeddingText(chunks[0]!)]); // load and warm up
		const t = performance.now();
		for (let i = 0; i < chunks.length; i += 16) await embedder.embed(chunks.slice(i, i + 16).map(embeddingText));
		const perChunk = (performance.now() - t) / chunks.length;
		console.log(`${label}: ${dims} dims, ${ms(perChunk)}/chunk (${(1000 / perChunk).toFixed(0)} chunks/s) → ${CHUNKS} chunks ≈ ${((perChunk * CHUNKS) / 1000).toFixed(0)} s`);
		return { label, dims, contextSize, sample: chunks.length, msPerChunk: perChunk };
	} finally {
		await embedder.dispose();
	}
}

const WORKSPACE = 'w'.repeat(26);

async function main(): Promise<void> {
	const english = await englishSentences();
	let t = performance.now();
	const { notes } = makeNotes(english, CHUNKS);
	const makeMs = performance.now() - t;
	const questions = makeQuestions(english, QUERIES);
	t = performance.now();
	const chunked = notes.map((n) => ({ docId: n.docId, chunks: chunkNote(n.docId, n.title, n.body) }));
	const chunkMs = performance.now() - t;
	const allChunks = chunked.flatMap((c) => c.chunks);
	const textBytes = Buffer.byteLength(allChunks.map((c) => c.title + c.text).join(''), 'utf8');
	const meanTokens = allChunks.reduce((s, c) => s + c.text.length, 0) / allChunks.length / 4;
	console.log(`knowledge bench: ${notes.length} notes (made in ${ms(makeMs)}), ${QUERIES} questions, model threads ${THREADS}`);
	console.log(`chunk every note: ${ms(chunkMs)} → ${allChunks.length} chunks, ~${meanTokens.toFixed(0)} tokens of text each (${mb(textBytes)} of text)`);
	console.log('');

	// With the tiny model.
	const modelEmbedder = new Timed(new NodeLlamaEmbedder({ modelPath: llamaGgufPath(), gpu: false, contextSize: 256, threads: THREADS }));
	const model = await build('tiny model (64 dims)', chunked, modelEmbedder);
	// With the baseline.
	const embedder = new Timed(new HashEmbedder(BASELINE_DIMS, 'baseline-hash-384'));
	const base = await build('baseline embedder (384 dims)', chunked, embedder);
	const memEmbedder = new Timed(new HashEmbedder(BASELINE_DIMS, 'baseline-hash-384'));
	const memIndex = await KnowledgeIndex.open({ store: new MemoryVectorStore(), embedder: memEmbedder, batchSize: 32 });
	t = performance.now();
	for (let i = 0; i < chunked.length; i += NOTES_PER_UPDATE) await memIndex.update({ replace: chunked.slice(i, i + NOTES_PER_UPDATE) });
	const memBuildMs = performance.now() - t;
	console.log(`${`index ${memIndex.size} chunks, baseline, memory store:`.padEnd(44)} ${ms(memBuildMs).padStart(8)} (embedding ${ms(memEmbedder.ms)})`);
	await memIndex.close();
	const float32PerVector = encodeVector(new Float32Array(BASELINE_DIMS), VectorFormat.float32).byteLength;
	console.log(
		`chunk rows: ${mb(base.build.chunkRowBytes)} (${(base.build.chunkRowBytes / base.build.chunks).toFixed(0)} B/chunk, text included); int8 vector ${base.build.perVector.toFixed(0)} B at 384 dims, float32 would be ${float32PerVector} B`
	);

	// A second pass over every note: nothing changed, nothing embedded.
	let index = base.index;
	const before = embedder.texts;
	t = performance.now();
	for (let i = 0; i < chunked.length; i += NOTES_PER_UPDATE) await index.update({ replace: chunked.slice(i, i + NOTES_PER_UPDATE) });
	const unchangedMs = performance.now() - t;
	const reembedded = embedder.texts - before;
	// One note edited (words added at the end of its first section): one chunk re-embedded.
	const edited = notes[7]!;
	const beforeEdit = modelEmbedder.texts;
	t = performance.now();
	await model.index.update({ replace: [{ docId: edited.docId, chunks: chunkNote(edited.docId, edited.title, edited.body.replace('\n\n## ', ' (edited)\n\n## ')) }] });
	const editMs = performance.now() - t;
	const editEmbedded = modelEmbedder.texts - beforeEdit;
	console.log(`second pass over every note (baseline):     ${ms(unchangedMs)}, ${reembedded} chunks re-embedded`);
	console.log(`one note edited (tiny model):               ${ms(editMs)}, ${editEmbedded} chunk(s) re-embedded`);

	// Open again from Dexie.
	await index.close();
	base.db.close();
	const db = new OutpostDb(base.name);
	t = performance.now();
	index = await KnowledgeIndex.open({ store: new IdbVectorStore(db, WORKSPACE), embedder });
	const openMs = performance.now() - t;
	console.log(`open again from Dexie (baseline, 384 dims): ${ms(openMs)} (${index.pendingCount} chunks waiting for a vector)`);

	// Queries.
	const refused = new Set(notes.filter((_, i) => i % 5 === 2).map((n) => n.docId));
	const options = (i: number, mode: KnowledgeQuery['mode']): KnowledgeQuery => ({
		mayRead: i % 3 === 0 ? (docId) => !refused.has(docId) : () => true,
		limit: 8,
		mode
	});
	const fullText = await latency(questions, (q, i) => index.query(q, options(i, 'fulltext')));
	const vector = await latency(questions, (q, i) => index.query(q, options(i, 'vector')));
	const hybrid = await latency(questions, (q, i) => index.query(q, options(i, 'hybrid')));
	const baseEmbedder = new HashEmbedder(BASELINE_DIMS);
	const questionEmbed = await latency(questions, (q) => baseEmbedder.embed([q]));
	const texts = allChunks.map((c) => `${c.title}\n${c.text}`.toLowerCase());
	const scan = await latency(questions, (q) => {
		const word = q
			.toLowerCase()
			.split(/\s+/)
			.reduce((a, b) => (b.length > a.length ? b : a), '');
		let found = 0;
		for (const text of texts) if (text.includes(word)) found++;
		return found;
	});
	const withModel = await latency(questions, (q, i) => model.index.query(q, options(i, 'hybrid')));
	let refusedReturned = 0;
	let emptyAnswers = 0;
	for (const [i, q] of questions.entries()) {
		const hits = await index.query(q, options(i, 'hybrid'));
		if (hits.length === 0) emptyAnswers++;
		if (i % 3 === 0) refusedReturned += hits.filter((h) => refused.has(h.docId)).length;
	}
	await index.close();
	db.close();
	await OutpostDb.delete(base.name);
	await model.index.close();
	model.db.close();
	await OutpostDb.delete(model.name);

	console.log('');
	console.log(`query latency over ${QUERIES} questions (1 in 3 with a read-rights predicate refusing ${refused.size} of ${notes.length} notes), limit 8:`);
	const row = (label: string, r: { p50: number; p95: number; mean: number }) =>
		console.log(`  ${label.padEnd(56)} p50 ${ms(r.p50).padStart(9)}   p95 ${ms(r.p95).padStart(9)}   mean ${ms(r.mean).padStart(9)}`);
	row('hybrid, BM25 + 384-dim vectors, RRF (goal p95 < 50 ms)', hybrid);
	row('baseline: full text only (BM25)', fullText);
	row('baseline: vectors only (brute force, 384 dims)', vector);
	row('  of which embedding the question (baseline embedder)', questionEmbed);
	row('baseline: linear includes() scan, longest word', scan);
	row('hybrid on the tiny model’s index, model call included', withModel);
	console.log(`  refused chunks returned: ${refusedReturned}; questions with no result: ${emptyAnswers}`);
	console.log('');
	const sampleChunks = allChunks.filter((_, i) => i % Math.max(1, Math.floor(allChunks.length / SAMPLE)) === 0).slice(0, SAMPLE);
	const throughput = await modelThroughput(
		'MiniLM-sized generated model (6 blocks, 512-token context), node-llama-cpp',
		llamaGgufPath({ name: 'bench-embed-384', seed: 3, embedding: 384, blocks: 6, heads: 6, headsKv: 6, feedForward: 1536, contextLength: 512 }),
		sampleChunks,
		512
	);
	console.log(`load average while running: ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} on ${os.cpus().length} CPUs`);

	const out = join(here, 'results/knowledge.json');
	await mkdir(dirname(out), { recursive: true });
	await writeFile(
		out,
		JSON.stringify(
			{
				environment: benchEnvironment(),
				notes: notes.length,
				chunks: allChunks.length,
				questions: QUERIES,
				threads: THREADS,
				chunkMs,
				textBytes,
				builds: [model.build, base.build, { label: 'baseline, memory store', ms: memBuildMs, embedMs: memEmbedder.ms }],
				float32PerVector,
				secondPass: { ms: unchangedMs, reembedded },
				edit: { ms: editMs, reembedded: editEmbedded },
				openMs,
				latency: { hybrid, fullText, vector, questionEmbed, scan, withModel },
				refusedReturned,
				emptyAnswers,
				throughput
			},
			null,
			2
		)
	);
	console.log(`\nwrote ${out}`);
}

await main();
