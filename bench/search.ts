/**
 * Benchmark: full-text search over 100,000 messages.
 *
 *   npm run bench:search
 *
 * Builds the search index of one workspace from N realistic channel messages (default
 * 100,000): about 70% English sentences cut from the text of a real paper
 * (`../shared/data/automerge-paper.json.gz`, see SOURCES.md there), 25% Chinese sentences
 * drawn from a vocabulary of everyday and technical words, 5% mixed. Everything runs in Node
 * over fake-indexeddb, which is slower than a browser's IndexedDB, so the Dexie figures are
 * pessimistic. Prints:
 *
 * - index build: the entries written to Dexie and indexed by MiniSearch in batches of 1,000
 *   (as the background indexer does), and MiniSearch alone (`addAll`) for comparison;
 * - the serialised index (snapshot) size and the entries' text size;
 * - opening the index again: from the snapshot in Dexie, and rebuilt from the entries;
 * - query latency p50/p95 over BENCH_ROUNDS runs for an English word, a Chinese phrase, a
 *   prefix, two words and a rare word: the whole `SearchIndex.search` (ranked, top 50 read
 *   back from Dexie, CJK phrases checked, highlights computed) and its in-memory part
 *   (`rank`, MiniSearch); against a baseline in the same run, a linear scan of the texts in
 *   memory with `String.includes` (unranked, and the two-word row scans for one word only).
 *
 * Last, an indexing pass that carries one edit of a message of a long channel (bench/searchEditPass.ts):
 * the document staying loaded, and loaded just before, p50/p95 over BENCH_ROUNDS edits.
 *
 * Writes bench/results/search.json. Figures only: never asserts.
 *
 * Environment: BENCH_MESSAGES (default 100000), BENCH_ROUNDS (default 50), BENCH_CHANNEL_MESSAGES
 * (the long channel's messages, default 10000).
 */
import 'fake-indexeddb/auto';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OutpostDb } from '../src/lib/store/db.ts';
import { SEARCH_OPTIONS, SearchIndex, type Indexed } from '../src/lib/store/search/SearchIndex.ts';
import { SearchKind, type SearchEntry } from '../src/lib/store/search/rows.ts';
import { tokenize } from '../src/lib/store/search/tokenizer.ts';
import { mulberry32 } from '../tests/fixtures/random.ts';
import { benchEnvironment, positiveInt } from './env.ts';
import { englishSentences, percentile } from './corpus.ts';
import { editPassBench } from './searchEditPass.ts';

const MESSAGES = positiveInt('BENCH_MESSAGES', 100_000);
const ROUNDS = positiveInt('BENCH_ROUNDS', 50);
const CHANNEL_MESSAGES = positiveInt('BENCH_CHANNEL_MESSAGES', 10_000);
const BATCH = 1000;
const here = dirname(fileURLToPath(import.meta.url));

/** Queries: [label, query, what the baseline scans for]. */
const QUERIES: [string, string, string][] = [
	['English word', 'replica', 'replica'],
	['Chinese phrase', '数据主权', '数据主权'],
	['prefix', 'converg', 'converg'],
	['two words', 'concurrent insertion', 'concurrent'],
	['rare word', 'bussproofs', 'bussproofs']
];

const ZH_WORDS = (
	'我们 你们 他们 今天 明天 昨天 会议 讨论 数据 主权 安全 网络 离线 同步 文档 消息 频道 笔记 模型 服务器 ' +
	'设备 手机 电脑 船员 港口 航行 天气 计划 报告 问题 方案 需要 已经 可以 应该 不会 完成 更新 备份 恢复 ' +
	'加密 密钥 成员 邀请 工作区 搜索 索引 中文 英文 翻译 测试 版本 发布 错误 修复 性能 延迟 带宽 存储 ' +
	'本地 优先 协作 编辑 冲突 合并 历史 快照 导出 导入 文件 图片 附件 链接 时间 地点 食物 午饭 晚饭 ' +
	'发动机 燃料 检查 维护 记录 日志 温度 风速 海浪 雷达 卫星 电力 电池 充电 信号 天线 频率 通信 ' +
	'隐私 自主 控制 管理 权限 角色 访客 管理员 主持 总结 结论 建议 反馈 确认 取消 开始 结束'
).split(' ');

/** N messages, deterministic. */
function makeMessages(english: string[], n: number): SearchEntry[] {
	const rand = mulberry32(42);
	const pick = <T>(list: T[]) => list[Math.floor(rand() * list.length)];
	const chinese = () => Array.from({ length: 4 + Math.floor(rand() * 12) }, () => pick(ZH_WORDS)).join('') + '。';
	const channels = Array.from({ length: 20 }, (_, i) => `channel${String(i).padStart(19, '0')}`);
	const start = Date.UTC(2026, 0, 1);
	return Array.from({ length: n }, (_, i) => {
		const r = rand();
		const text = r < 0.7 ? pick(english) : r < 0.95 ? chinese() : `${pick(english)} ${chinese()}`;
		return { docId: pick(channels), itemId: `m${i}`, kind: SearchKind.message, author: 'peer', text, time: start + i * 60_000 };
	});
}

function timeRuns(run: () => unknown): { p50: number; p95: number } {
	const times: number[] = [];
	for (let i = 0; i < ROUNDS; i++) {
		const t = performance.now();
		run();
		times.push(performance.now() - t);
	}
	times.sort((a, b) => a - b);
	return { p50: percentile(times, 0.5), p95: percentile(times, 0.95) };
}

async function timeRunsAsync(run: () => Promise<unknown>): Promise<{ p50: number; p95: number }> {
	const times: number[] = [];
	for (let i = 0; i < ROUNDS; i++) {
		const t = performance.now();
		await run();
		times.push(performance.now() - t);
	}
	times.sort((a, b) => a - b);
	return { p50: percentile(times, 0.5), p95: percentile(times, 0.95) };
}

const ms = (v: number) => `${v.toFixed(v < 10 ? 2 : 0)} ms`;
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

async function main(): Promise<void> {
	const english = await englishSentences();
	const messages = makeMessages(english, MESSAGES);
	const texts = messages.map((m) => m.text);
	const textBytes = Buffer.byteLength(texts.join(''), 'utf8');
	console.log(`search bench: ${MESSAGES} messages (${mb(textBytes)} of text), ${english.length} distinct English sentences, ${ROUNDS} runs per query`);

	let t = performance.now();
	let terms = 0;
	for (const text of texts) terms += tokenize(text).length;
	const tokenizeMs = performance.now() - t;

	const name = `bench-search-${Date.now()}`;
	const workspaceId = 'w'.repeat(26);
	let db = new OutpostDb(name);
	let index = await SearchIndex.open({ db, workspaceId, snapshotDelayMs: 3_600_000 });
	t = performance.now();
	for (let i = 0; i < messages.length; i += BATCH) await index.apply({ put: messages.slice(i, i + BATCH) });
	const buildMs = performance.now() - t;

	t = performance.now();
	await index.saveSnapshot();
	const snapshotMs = performance.now() - t;
	const snapshot = await db.searchSnapshots.get(workspaceId);
	const snapshotBytes = Buffer.byteLength(snapshot?.json ?? '', 'utf8');

	// MiniSearch alone, for comparison with the Dexie-backed build.
	const { default: MiniSearch } = await import('minisearch');
	let bareBuildMs = 0;
	{
		const bare = new MiniSearch<Indexed>(SEARCH_OPTIONS);
		t = performance.now();
		bare.addAll(messages.map((m) => ({ key: `${m.docId}|${m.itemId}`, text: m.text })));
		bareBuildMs = performance.now() - t;
	}

	await index.close();
	db.close();
	db = new OutpostDb(name);
	t = performance.now();
	index = await SearchIndex.open({ db, workspaceId });
	const loadMs = performance.now() - t;
	const loadedFromSnapshot = !index.rebuilt;

	const rows: Record<string, unknown>[] = [];
	console.log('');
	console.log('query                          matches shown  search p50   p95   |   rank p50      p95   | includes() scan p50   p95   (matches)');
	for (const [label, query, needle] of QUERIES) {
		const hits = await index.search(query);
		const full = await timeRunsAsync(() => index.search(query));
		const engine = timeRuns(() => index.rank(query));
		const lower = needle.toLowerCase();
		let matches = 0;
		const scan = timeRuns(() => {
			matches = 0;
			for (const text of texts) if (text.toLowerCase().includes(lower)) matches++;
		});
		const total = index.rank(query).length;
		rows.push({ label, query, results: total, shown: hits.length, search: full, rank: engine, scan, scanMatches: matches });
		console.log(
			`${`${label} "${query}"`.padEnd(30)} ${String(total).padStart(7)} ${String(hits.length).padStart(5)}  ${ms(full.p50).padStart(9)} ${ms(full.p95).padStart(9)} | ${ms(engine.p50).padStart(9)} ${ms(engine.p95).padStart(9)} | ${ms(scan.p50).padStart(14)} ${ms(scan.p95).padStart(9)} (${matches})`
		);
	}

	// A damaged snapshot: rebuilt from the entries.
	await index.close();
	await db.searchSnapshots.update(workspaceId, { json: '{' });
	db.close();
	db = new OutpostDb(name);
	t = performance.now();
	index = await SearchIndex.open({ db, workspaceId, snapshotDelayMs: 3_600_000 });
	const rebuildMs = performance.now() - t;
	await index.close();
	db.close();
	await OutpostDb.delete(name);

	console.log('');
	console.log(`tokenize all texts:                 ${ms(tokenizeMs)} (${terms} terms)`);
	console.log(`index build, Dexie + MiniSearch:    ${ms(buildMs)} (batches of ${BATCH})`);
	console.log(`index build, MiniSearch alone:      ${ms(bareBuildMs)}`);
	console.log(`snapshot save:                      ${ms(snapshotMs)}; serialised index ${mb(snapshotBytes)} (texts ${mb(textBytes)})`);
	console.log(`open from Dexie (snapshot):         ${ms(loadMs)}${loadedFromSnapshot ? '' : ' (NOT from the snapshot)'}`);
	console.log(`open, rebuilt from entries:         ${ms(rebuildMs)} (damaged snapshot)`);
	console.log('"search" = SearchIndex.search: ranked, top 50 texts read from Dexie (fake-indexeddb), phrases checked, highlights;');
	console.log('"rank" = its in-memory MiniSearch part; "includes() scan" = unranked baseline over the texts in memory.');
	const editPass = await editPassBench(CHANNEL_MESSAGES, ROUNDS, texts);
	console.log(`first pass over a ${editPass.messages}-message channel: ${ms(editPass.firstPassMs)} (every signature checked)`);
	console.log(`pass with one edit, channel loaded:         p50 ${ms(editPass.editPass.p50)}, p95 ${ms(editPass.editPass.p95)}`);
	console.log(`pass with one edit, channel just loaded:    p50 ${ms(editPass.editPassFreshlyLoaded.p50)}, p95 ${ms(editPass.editPassFreshlyLoaded.p95)} (its records read whole)`);
	console.log(`load average while running: ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} on ${os.cpus().length} CPUs`);

	const out = join(here, 'results/search.json');
	await mkdir(dirname(out), { recursive: true });
	await writeFile(
		out,
		JSON.stringify(
			{
				environment: benchEnvironment(),
				messages: MESSAGES,
				rounds: ROUNDS,
				textBytes,
				tokenizeMs,
				buildMs,
				bareBuildMs,
				snapshotMs,
				snapshotBytes,
				loadMs,
				loadedFromSnapshot,
				rebuildMs,
				queries: rows,
				editPass
			},
			null,
			2
		)
	);
	console.log(`\nwrote ${out}`);
}

await main();
