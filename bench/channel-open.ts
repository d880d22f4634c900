/**
 * Benchmark: opening a channel of 10,000 and of 100,000 messages in a real Chromium page.
 *
 *   npm run bench:channel-open          (builds the app first)
 *   node --import tsx bench/channel-open.ts   (uses the existing build/)
 *
 * Serves build/ with the relay, creates a workspace and the channels "small", "big" and
 * "empty" through the UI, plants one compacted Yjs update of signed messages into the
 * channels' IndexedDB, then for each size reloads, opens "empty", and times opening the
 * channel with the app's User Timing marks; also the JS heap, scrolling frame times and a
 * raw Y.applyUpdate baseline. Prints a table and writes bench/results/channel-open.json.
 * Figures only: it never asserts, and exits 0 unless the benchmark itself fails.
 *
 * Environment: BENCH_ROUNDS (default 5).
 */
import { mkdir, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startRelay, type Relay } from '../relay/server.js';
import { buildChannel, makeDevices, nodeDecodeMs, seededRandom, type ChannelFixture } from './fixtures.js';
import { heapAfterGc, installProbe, longTasks, rawDecodeInPage, readOpen, resetMarks, scrollCheck, waitQuiet } from './probe.js';
import { formatReport, summarize, type Round, type SizeResult } from './report.js';
import { channelId, channelLink, createChannel, createWorkspace, openApp, plantUpdate, STEP_TIMEOUT_MS, waitCurrent } from './ui.js';
import { bundleYjs } from './yjsBundle.js';
import { CHROMIUM_ARGS as BASE_CHROMIUM_ARGS, benchEnvironment } from './env.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ROUNDS = positiveInt(process.env.BENCH_ROUNDS, 5);
const SIZES = [
	{ channel: 'small', messages: 10_000 },
	{ channel: 'big', messages: 100_000 }
] as const;
/** The channel opened between measurements (and on every reload). */
const EMPTY = 'empty';
const DEVICES = 8;
const CHROMIUM_ARGS = [
	...BASE_CHROMIUM_ARGS,
	'--enable-precise-memory-info',
	'--js-flags=--expose-gc'
];

function positiveInt(text: string | undefined, fallback: number): number {
	if (text === undefined || text === '') return fallback;
	const n = Number(text);
	if (!Number.isInteger(n) || n < 1) throw new Error(`BENCH_ROUNDS must be a whole number ≥ 1, not "${text}"`);
	return n;
}

const log = (line: string) => console.log(line);
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Channel name → document id, filled during setup. */
const ids = new Map<string, string>();
const idOf = (name: string): string => {
	const id = ids.get(name);
	if (!id) throw new Error(`unknown channel ${name}`);
	return id;
};
/** Databases the app's background unread refresh opens; measuring waits until they are closed. */
const bigDbs = () => SIZES.map((s) => `outpost-doc:${idOf(s.channel)}`);

/** Makes "empty" the open channel and waits until the page has settled. */
async function settleOnEmpty(page: Page): Promise<void> {
	await channelLink(page, EMPTY).click({ timeout: STEP_TIMEOUT_MS });
	await waitCurrent(page, EMPTY, 120_000);
	if (!(await waitQuiet(page, bigDbs()))) log('  (warning: the page did not settle within 120 s; measuring anyway)');
}

/** Reload, open "empty", then time opening `channel`; returns one round's figures. */
async function measureOpen(page: Page, channel: string): Promise<Round> {
	const id = idOf(channel);
	await page.reload({ timeout: STEP_TIMEOUT_MS });
	await waitCurrent(page, EMPTY, 120_000);
	await settleOnEmpty(page);
	const reload = await longTasks(page);
	const heapBeforeBytes = await heapAfterGc(page);
	await waitQuiet(page, bigDbs(), 500, 10_000);
	await resetMarks(page);
	await channelLink(page, channel).click({ timeout: STEP_TIMEOUT_MS });
	const timing = await readOpen(page, id);
	// Let the deferred work of opening (bookkeeping save, signature checks) finish first.
	await waitQuiet(page, [], 1000, 30_000);
	const heapBytes = await heapAfterGc(page);
	const scroll = await scrollCheck(page, channel);
	await resetMarks(page);
	await settleOnEmpty(page);
	const leave = await longTasks(page);
	return { ...timing, heapBytes, heapBeforeBytes, scroll, reload, leave };
}

function roundLine(label: string, r: Round): string {
	const mb = (b: number) => (b / 1024 / 1024).toFixed(1);
	return (
		`  ${label}: open ${r.openMs.toFixed(0)} ms, paint ${r.paintMs.toFixed(0)} ms, click→paint ${r.clickToPaintMs.toFixed(0)} ms, ` +
		`longest task ${r.longestTaskMs.toFixed(0)} ms, heap ${mb(r.heapBytes)} MB (empty: ${mb(r.heapBeforeBytes)} MB), ` +
		`jump mid/top ${r.scroll.jumpMiddleMs.toFixed(0)}/${r.scroll.jumpTopMs.toFixed(0)} ms, ` +
		`scrollTop ${r.scroll.scrollTops.join('→')} of ${r.scroll.scrollHeight}, ` +
		`after reload longest task ${r.reload.longestMs.toFixed(0)} ms, leaving ${r.leave.longestMs.toFixed(0)} ms`
	);
}

async function main(): Promise<void> {
	const started = performance.now();
	try {
		await stat(join(root, 'build', '200.html'));
	} catch {
		throw new Error('build/ is missing: run `vite build` first (npm run bench:channel-open does)');
	}

	log(`Generating and signing ${SIZES.map((s) => s.messages.toLocaleString('en-US')).join(' + ')} messages by ${DEVICES} other devices…`);
	const random = seededRandom(20261121);
	const devices = await makeDevices(DEVICES, random);
	const fixtures = new Map<string, ChannelFixture>();
	const endWall = Date.now() - 60_000;
	for (const size of SIZES) {
		const f = await buildChannel(size.messages, devices, endWall, random);
		fixtures.set(size.channel, f);
		log(`  ${size.channel}: signed in ${secs(f.signMs)}, encoded in ${secs(f.encodeMs)}, update ${(f.update.length / 1024 / 1024).toFixed(1)} MB`);
	}
	const nodeApply = new Map(SIZES.map((s) => [s.channel, nodeDecodeMs(fixtures.get(s.channel)!.update, 5)]));
	const yjsSource = await bundleYjs();

	let relay: Relay | undefined;
	let browser: Browser | undefined;
	try {
		relay = await startRelay({ root: join(root, 'build'), host: '127.0.0.1', port: 0 });
		browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, headless: true, timeout: 60_000 });
		const context = await browser.newContext({
			viewport: { width: 1280, height: 800 },
			locale: 'en-US',
			// No service worker: the shell comes from the relay each time, and the bench's
			// intercepted fetch (plantUpdate) reaches Playwright.
			serviceWorkers: 'block'
		});
		// tsx (esbuild, keepNames) wraps named inner functions in `__name(...)`; functions sent
		// to page.evaluate carry those calls into the page, so the page needs the helper too.
		await context.addInitScript({ content: 'globalThis.__name = (fn) => fn;' });
		await context.addInitScript(installProbe);
		const page = await context.newPage();
		page.setDefaultTimeout(STEP_TIMEOUT_MS);
		page.on('pageerror', (error) => log(`  page error: ${error.message}`));

		const uiStart = performance.now();
		await openApp(page, relay.url + '/');
		await createWorkspace(page, 'Bench');
		for (const name of [...SIZES.map((s) => s.channel), EMPTY]) {
			await createChannel(page, name);
			ids.set(name, await channelId(page, name));
		}
		// Let the last channel switch save its bookkeeping before planting.
		await waitQuiet(page, [], 1000, 10_000);
		for (const size of SIZES) await plantUpdate(page, idOf(size.channel), fixtures.get(size.channel)!.update);
		const setupMs = performance.now() - started;
		log(`Setup took ${secs(setupMs)} (UI and planting ${secs(performance.now() - uiStart)}); Chromium ${browser.version()}, ${os.cpus().length} CPUs`);

		const results: SizeResult[] = [];
		for (const size of SIZES) {
			const f = fixtures.get(size.channel)!;
			log(`Channel "${size.channel}" (${size.messages.toLocaleString('en-US')} messages):`);
			const first = await measureOpen(page, size.channel);
			log(roundLine('first open', first));
			const rounds: Round[] = [];
			for (let i = 0; i < ROUNDS; i++) {
				rounds.push(await measureOpen(page, size.channel));
				log(roundLine(`round ${i + 1}`, rounds[i]!));
			}
			let pageRaw;
			try {
				pageRaw = await rawDecodeInPage(page, yjsSource, idOf(size.channel), ROUNDS);
			} catch (error) {
				log(`  page baseline failed (${error instanceof Error ? error.message : error}); using Node's`);
			}
			results.push({
				channel: size.channel,
				messages: size.messages,
				replies: f.replies,
				updateBytes: f.update.length,
				first,
				rounds,
				raw: { page: pageRaw, nodeApplyMs: nodeApply.get(size.channel)! }
			});
		}

		log('');
		log(formatReport(results, ROUNDS));
		const file = join(root, 'bench', 'results', 'channel-open.json');
		await mkdir(dirname(file), { recursive: true });
		const json = {
			date: new Date().toISOString(),
			rounds: ROUNDS,
			environment: benchEnvironment(browser.version()),
			setupMs: Math.round(setupMs),
			results: results.map((r) => ({ ...r, summary: summarize(r) }))
		};
		await writeFile(file, JSON.stringify(json, null, '\t') + '\n');
		log(`\nWrote ${file.slice(root.length + 1)} (total ${secs(performance.now() - started)})`);
	} finally {
		await browser?.close().catch(() => undefined);
		await relay?.close().catch(() => undefined);
	}
}

main().catch((error: unknown) => {
	console.error('bench failed:', error instanceof Error ? (error.stack ?? error.message) : error);
	process.exit(1);
});
