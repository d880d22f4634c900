/**
 * First-load benchmark: how much JavaScript the app fetches before its channel view can be
 * used, for this build and for a baseline commit's build, in the same run.
 *
 *   npm run bench:first-load                    (builds the app first)
 *   node --import tsx bench/first-load.ts       (uses the existing build/)
 *
 * Each build is served by the relay (runRelay, plain HTTP on 127.0.0.1) and opened in Debian's
 * Chromium with a fresh profile; CDP's network events count the page's JavaScript responses:
 * bytes over the wire (encoded: compressed, with headers), bytes decoded, requests, and how many
 * the service worker answered. Per round and build:
 *   - first visit: the fresh profile opens the app; until the welcome screen's "New workspace";
 *     then a workspace is created (the setup step) and the service worker installs;
 *   - cold: HTTP cache, service worker and Cache Storage cleared (IndexedDB kept, so the
 *     workspace is there), the app opened again; until the composer ("Message") is enabled;
 *   - warm: a reload with the service worker in control; the same.
 * "Until ready" counts the scripts requested before that moment, "settled" all of them once no
 * request came for 1.5 s (the libp2p node's code and the search index are fetched beside the
 * first paint). Times are read inside the page (performance.now(), from navigation start).
 *
 * The baseline (FIRST_LOAD_BASELINE, a commit; default the one before the split) is checked out
 * with `git worktree` in $TMPDIR/first-load-base-<commit>, node_modules symlinked, built with
 * `svelte-kit sync && vite build` and precompressed like `npm run build` when that commit has
 * scripts/precompress.ts; an existing build there is reused. FIRST_LOAD_BASELINE_BUILD names a
 * ready build directory instead; FIRST_LOAD_REPO the git repository when this tree is a copy.
 * BENCH_ROUNDS (default 3) rounds, medians printed; writes bench/results/first-load.json. Stops
 * itself after BENCH_TIMEOUT_S (default 900) seconds. Figures only: nothing passes or fails.
 */
import '../src/lib/mesh/polyfills.node.ts'; // before anything that loads libp2p
import { execFileSync } from 'node:child_process';
import { existsSync, symlinkSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type CDPSession, type Page } from 'playwright-core';
import { runRelay, type RunningRelay } from '../relay/run.ts';
import { benchEnvironment, CHROMIUM_ARGS, positiveInt } from './env.ts';
import { createWorkspace, STEP_TIMEOUT_MS } from './ui.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** The last commit before the first load was split (the build issue 13 measured). */
const DEFAULT_BASELINE = '457482a';
const ROUNDS = positiveInt('BENCH_ROUNDS', 3);
const TIMEOUT_S = positiveInt('BENCH_TIMEOUT_S', 900);
/** Quiet time after which a load counts as settled. */
const SETTLE_MS = 1500;

/** JavaScript fetched by one load. */
interface Scripts {
	/** Bytes over the wire, headers included (0 for what the service worker or the cache answered). */
	encoded: number;
	/** Bytes after decoding. */
	decoded: number;
	requests: number;
	/** Of {@link requests}, answered by the service worker. */
	fromServiceWorker: number;
}

/** One measured load. */
interface Load {
	/** Milliseconds from navigation start until the screen could be used. */
	readyMs: number;
	untilReady: Scripts;
	settled: Scripts;
}

interface Tracked {
	encoded: number;
	decoded: number;
	fromServiceWorker: boolean;
	/** Requested before the screen was ready. */
	early: boolean;
}

/** Follows a page's script responses through CDP. */
class ScriptTracker {
	private readonly scripts = new Map<string, Tracked>();
	private ready = false;
	private lastRequest = Date.now();

	constructor(private readonly cdp: CDPSession) {
		cdp.on('Network.requestWillBeSent', (e) => {
			this.lastRequest = Date.now();
			if (e.type === 'Script') this.scripts.set(e.requestId, { encoded: 0, decoded: 0, fromServiceWorker: false, early: !this.ready });
		});
		cdp.on('Network.responseReceived', (e) => {
			const s = this.scripts.get(e.requestId);
			if (s) s.fromServiceWorker = e.response.fromServiceWorker === true;
		});
		cdp.on('Network.dataReceived', (e) => {
			const s = this.scripts.get(e.requestId);
			if (s) s.decoded += e.dataLength;
		});
		cdp.on('Network.loadingFinished', (e) => {
			const s = this.scripts.get(e.requestId);
			if (s) s.encoded = e.encodedDataLength;
		});
	}

	/** Starts counting a new load. */
	reset(): void {
		this.scripts.clear();
		this.ready = false;
		this.lastRequest = Date.now();
	}

	markReady(): void {
		this.ready = true;
	}

	/** Resolves once no request has been made for {@link SETTLE_MS} (at most 20 s). */
	async settle(): Promise<void> {
		const deadline = Date.now() + 20_000;
		while (Date.now() - this.lastRequest < SETTLE_MS && Date.now() < deadline) await sleep(200);
	}

	sum(early: boolean): Scripts {
		const all = [...this.scripts.values()].filter((s) => !early || s.early);
		return {
			encoded: all.reduce((n, s) => n + s.encoded, 0),
			decoded: all.reduce((n, s) => n + s.decoded, 0),
			requests: all.length,
			fromServiceWorker: all.filter((s) => s.fromServiceWorker).length
		};
	}
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits in the page until `what` is usable and returns performance.now() at that frame. */
async function readyAt(page: Page, what: 'welcome' | 'composer'): Promise<number> {
	const handle = await page.waitForFunction(
		(kind) => {
			const ready =
				kind === 'welcome'
					? [...document.querySelectorAll('button')].some((b) => (b.getAttribute('aria-label') ?? b.textContent?.trim()) === 'New workspace')
					: [...document.querySelectorAll('textarea')].some((t) => !t.disabled && t.labels?.[0]?.textContent?.trim() === 'Message');
			return ready ? performance.now() : false;
		},
		what,
		{ polling: 'raf', timeout: STEP_TIMEOUT_MS }
	);
	return (await handle.jsonValue()) as number;
}

/** One navigation measured: `go` starts it; the screen is ready when `what` shows. */
async function measure(page: Page, tracker: ScriptTracker, what: 'welcome' | 'composer', go: () => Promise<unknown>): Promise<Load> {
	tracker.reset();
	await go();
	const readyMs = await readyAt(page, what);
	tracker.markReady();
	const untilReady = tracker.sum(true);
	await tracker.settle();
	return { readyMs: Math.round(readyMs), untilReady, settled: tracker.sum(false) };
}

/** First visit, cold and warm loads of the build that `url` serves, in a fresh profile. */
async function round(url: string): Promise<Record<'firstVisit' | 'cold' | 'warm', Load>> {
	const profile = await mkdtemp(join(os.tmpdir(), 'first-load-profile-'));
	let context: BrowserContext | undefined;
	try {
		context = await chromium.launchPersistentContext(profile, {
			executablePath: '/usr/bin/chromium',
			args: CHROMIUM_ARGS,
			headless: true,
			timeout: 60_000
		});
		const page = context.pages()[0] ?? (await context.newPage());
		const cdp = await context.newCDPSession(page);
		await cdp.send('Network.enable');
		const tracker = new ScriptTracker(cdp);
		const firstVisit = await measure(page, tracker, 'welcome', () => page.goto(url, { timeout: STEP_TIMEOUT_MS }));
		await createWorkspace(page, 'Bench');
		// The service worker has installed (its precache downloaded) before the cold load clears it.
		await page.evaluate(() => navigator.serviceWorker?.ready.then(() => undefined));
		const origin = new URL(url).origin;
		await page.goto('about:blank');
		await cdp.send('Network.clearBrowserCache');
		await cdp.send('Storage.clearDataForOrigin', { origin, storageTypes: 'service_workers,cache_storage' });
		const cold = await measure(page, tracker, 'composer', () => page.goto(url, { timeout: STEP_TIMEOUT_MS }));
		await page.evaluate(() => navigator.serviceWorker?.ready.then(() => undefined));
		// The service worker controls the next load once it has claimed the page; a reload makes sure.
		await page.reload({ timeout: STEP_TIMEOUT_MS });
		await readyAt(page, 'composer');
		await sleep(SETTLE_MS);
		const warm = await measure(page, tracker, 'composer', () => page.reload({ timeout: STEP_TIMEOUT_MS }));
		return { firstVisit, cold, warm };
	} finally {
		await context?.close().catch(() => undefined);
		await rm(profile, { recursive: true, force: true });
	}
}

/** A build of the baseline commit: an existing one, or made in a git worktree. */
function baselineBuild(): { commit: string; build: string } {
	const ready = process.env.FIRST_LOAD_BASELINE_BUILD;
	const ref = process.env.FIRST_LOAD_BASELINE ?? DEFAULT_BASELINE;
	if (ready) return { commit: ref, build: resolve(ready) };
	const repo = process.env.FIRST_LOAD_REPO ?? root;
	const git = (...args: string[]) => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8' }).trim();
	const commit = git('rev-parse', ref);
	const tree = join(os.tmpdir(), `first-load-base-${commit.slice(0, 10)}`);
	const build = join(tree, 'build');
	if (existsSync(join(build, 'index.html'))) return { commit, build };
	if (!existsSync(tree)) git('worktree', 'add', '--detach', tree, commit);
	if (!existsSync(join(tree, 'node_modules'))) symlinkSync(join(root, 'node_modules'), join(tree, 'node_modules'));
	console.log(`building the baseline ${commit.slice(0, 10)} in ${tree} …`);
	const run = (cmd: string, ...args: string[]) => execFileSync(cmd, args, { cwd: tree, stdio: ['ignore', 'ignore', 'inherit'] });
	run('npx', 'svelte-kit', 'sync');
	run('npx', 'vite', 'build');
	if (existsSync(join(tree, 'scripts', 'precompress.ts'))) run('node', '--import', 'tsx', 'scripts/precompress.ts', build);
	return { commit, build };
}

/** Serves `build` with the relay and measures {@link ROUNDS} rounds. */
async function measureBuild(build: string, tmp: string, name: string) {
	let relay: RunningRelay | undefined;
	try {
		relay = await runRelay({ root: build, dataDir: join(tmp, name), host: '127.0.0.1', port: 0, secure: false, mdns: false, lanIps: [], log: () => {} });
		const rounds = [];
		for (let i = 0; i < ROUNDS; i++) rounds.push(await round(`${relay.server.url}/`));
		return rounds;
	} finally {
		await relay?.close().catch(() => undefined);
	}
}

function median(values: number[]): number {
	const sorted = [...values].sort((a, b) => a - b);
	const mid = Math.floor(sorted.length / 2);
	return sorted.length % 2 ? sorted[mid]! : Math.round((sorted[mid - 1]! + sorted[mid]!) / 2);
}

type Rounds = Awaited<ReturnType<typeof measureBuild>>;
const KINDS = ['firstVisit', 'cold', 'warm'] as const;

/** Medians of each figure over the rounds. */
function summarize(rounds: Rounds) {
	const pick = (kind: (typeof KINDS)[number], f: (l: Load) => number) => median(rounds.map((r) => f(r[kind])));
	const scripts = (kind: (typeof KINDS)[number], part: 'untilReady' | 'settled'): Scripts => ({
		encoded: pick(kind, (l) => l[part].encoded),
		decoded: pick(kind, (l) => l[part].decoded),
		requests: pick(kind, (l) => l[part].requests),
		fromServiceWorker: pick(kind, (l) => l[part].fromServiceWorker)
	});
	return Object.fromEntries(
		KINDS.map((k) => [k, { readyMs: pick(k, (l) => l.readyMs), untilReady: scripts(k, 'untilReady'), settled: scripts(k, 'settled') }])
	) as Record<(typeof KINDS)[number], { readyMs: number; untilReady: Scripts; settled: Scripts }>;
}

const kib = (n: number) => `${(n / 1024).toFixed(0)} KiB`;

function table(rows: { name: string; summary: ReturnType<typeof summarize> }[]): string {
	const lines = [
		`${'build'.padEnd(10)}${'load'.padEnd(12)}${'ready ms'.padStart(9)}  ${'JS until ready: wire / decoded / requests (SW)'.padEnd(48)}settled: wire / decoded / requests`
	];
	for (const { name, summary } of rows)
		for (const kind of KINDS) {
			const s = summary[kind];
			const fmt = (x: Scripts) => `${kib(x.encoded)} / ${kib(x.decoded)} / ${x.requests} (${x.fromServiceWorker})`;
			lines.push(`${name.padEnd(10)}${kind.padEnd(12)}${String(s.readyMs).padStart(9)}  ${fmt(s.untilReady).padEnd(48)}${fmt(s.settled)}`);
		}
	return lines.join('\n');
}

async function main(): Promise<void> {
	const build = resolve(process.env.FIRST_LOAD_BUILD ?? join(root, 'build'));
	if (!existsSync(join(build, 'index.html'))) throw new Error(`${build} has no build: run \`npm run build\` first (npm run bench:first-load does)`);
	const base = baselineBuild();
	const tmp = await mkdtemp(join(os.tmpdir(), 'first-load-'));
	try {
		const baseline = await measureBuild(base.build, tmp, 'baseline');
		const current = await measureBuild(build, tmp, 'current');
		const rows = [
			{ name: `base ${base.commit.slice(0, 7)}`, summary: summarize(baseline) },
			{ name: 'this', summary: summarize(current) }
		];
		console.log(table(rows));
		const file = join(root, 'bench', 'results', 'first-load.json');
		await mkdir(dirname(file), { recursive: true });
		const json = {
			date: new Date().toISOString(),
			environment: benchEnvironment(execFileSync('/usr/bin/chromium', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()),
			rounds: ROUNDS,
			settleMs: SETTLE_MS,
			baseline: { commit: base.commit, build: base.build, summary: rows[0]!.summary, rounds: baseline },
			current: { build, summary: rows[1]!.summary, rounds: current }
		};
		await writeFile(file, JSON.stringify(json, null, '\t') + '\n');
		console.log(`wrote ${file}`);
	} finally {
		await rm(tmp, { recursive: true, force: true });
	}
}

const timer = setTimeout(() => {
	console.error(`first-load: stopped after ${TIMEOUT_S} s`);
	process.exit(1);
}, TIMEOUT_S * 1000);
timer.unref();
main().then(
	() => process.exit(0),
	(error: unknown) => {
		console.error(error);
		process.exit(1);
	}
);
