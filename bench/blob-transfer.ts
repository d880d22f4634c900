/**
 * Benchmark: attachments (blobs, `/outpost/blob/1`) moving between devices, each transfer
 * beside a raw libp2p stream of the same bytes on the same connection.
 *
 *   npm run bench:blob-transfer        (runs inside scripts/in-netns.sh: WebRTC needs a LAN interface)
 *
 * 1. **browser → browser, direct WebRTC**: two Chromium pages (separate contexts) run the app's
 *    browser mesh node and BlobService over the app's IndexedDB blob store (blobBrowser.ts); page
 *    A holds a BENCH_BLOB_MB blob of random bytes, page B dials A's WebRTC address and fetches it
 *    into a fresh store, all GETs on that one connection. Baseline: B reads the same number of
 *    bytes from A on a throwaway protocol on the same connection (blobRaw.ts). Timed in B.
 *    Diagnostic: the same fetch between memory stores on both ends (no IndexedDB).
 * 2. **via the relay**: a relay node as the relay makes it (blobRelay.ts: circuit relay server,
 *    WebSockets, its SQLite blob store). Measured: the relay pinning the blob from A (A → relay,
 *    timed in Node), then, after A has left, B fetching it from the relay (relay → B, timed in B);
 *    each beside a raw stream on the same WebSocket connection. The circuit-relayed connection
 *    B → relay → A is probed too: the relay keeps libp2p's default circuit limits (128 KiB each
 *    way), so a blob cannot cross it; the probe says how far it gets.
 * 3. **an image visible on the other device**: the built app (build/, `vite build` first) in two
 *    pages, through its UI only (blobApp.ts): from Send pressed on A to B's `<img>` holding the
 *    full image decoded; the median of BENCH_IMAGE_RUNS runs of a BENCH_IMAGE_MB PNG.
 *
 * MB = 10^6 bytes. Rounds interleave blob and raw (the order alternating); medians and
 * min–max; ratio blob ÷ raw of the median throughputs (goal ≥ 0.9) and paired per round. Per
 * blob fetch it also reports the time spent inside the fetcher's store calls, and one extra,
 * unmeasured fetch and raw read of a BENCH_PROFILE_MB blob (default 20) are CPU-profiled in both
 * pages (BENCH_PROFILE=0 skips); the memory-to-memory diagnostic runs in the first round only.
 * Prints a table and writes bench/results/blob-transfer.json. Figures only: never asserts
 * the goals; stops itself after BENCH_TIMEOUT_S.
 *
 * Environment: BENCH_BLOB_MB (default 100), BENCH_ROUNDS (3), BENCH_IMAGE_RUNS (5),
 * BENCH_IMAGE_MB (5), BENCH_TIMEOUT_S (480), BENCH_PARTS (default `direct,relay,image`).
 */
import '../src/lib/mesh/polyfills.node.ts'; // before anything that loads libp2p
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildForBrowser } from '../tests/mesh/browserBuild.ts';
import { measureImages, type ImageRun } from './blobApp.ts';
import type { Transfer } from './blobBrowser.ts';
import { startBenchRelay, type BenchRelay } from './blobRelay.ts';
import { benchEnvironment, CHROMIUM_ARGS, positiveInt } from './env.ts';
import { profilePage, type ProfileSummary } from './syncLatencyProfile.ts';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const BLOB_BYTES = positiveInt('BENCH_BLOB_MB', 100) * 1e6;
const ROUNDS = positiveInt('BENCH_ROUNDS', 3);
const IMAGE_RUNS = positiveInt('BENCH_IMAGE_RUNS', 5);
const IMAGE_MB = positiveInt('BENCH_IMAGE_MB', 5);
const TIMEOUT_S = positiveInt('BENCH_TIMEOUT_S', 480);
const PARTS = new Set((process.env.BENCH_PARTS ?? 'direct,relay,image').split(','));
const PROFILE = process.env.BENCH_PROFILE !== '0';
/** Size of the warm-up blob, which is also the one CPU-profiled (profiling slows the pages). */
const PROFILE_BYTES = Math.min(BLOB_BYTES, positiveInt('BENCH_PROFILE_MB', 20) * 1e6);
/** Longest one transfer may take: 1 MB/s. */
const TRANSFER_TIMEOUT_MS = Math.max(30_000, BLOB_BYTES / 1000);
const log = (line: string) => console.log(line);

type Bench = typeof import('./blobBrowser.ts');
type Fn = { [K in keyof Bench]: Bench[K] extends (...args: never[]) => unknown ? K : never }[keyof Bench];

/** Calls the page's bench module (a string expression: no transpiler helpers cross over). */
async function call<K extends Fn>(page: Page, fn: K, ...args: Parameters<Bench[K]>): Promise<Awaited<ReturnType<Bench[K]>>> {
	return (await page.evaluate(`globalThis.bench[${JSON.stringify(fn)}](...${JSON.stringify(args)})`)) as Awaited<ReturnType<Bench[K]>>;
}

/** Serves the bundle on 127.0.0.1 (a secure context for WebCrypto). */
async function servePage(chunks: Map<string, string>): Promise<{ server: Server; url: string }> {
	const server = createServer((req, res) => {
		const js = chunks.get((req.url ?? '/').split('?', 1)[0]!.slice(1));
		res.setHeader('Content-Type', js !== undefined ? 'text/javascript' : 'text/html');
		res.end(js ?? '<!doctype html><title>blob transfer</title>');
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/` };
}

interface Spread {
	median: number;
	min: number;
	max: number;
}
function spread(values: number[]): Spread {
	const s = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
	const mid = s.length >> 1;
	const median = s.length === 0 ? NaN : s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
	return { median, min: s[0] ?? NaN, max: s.at(-1) ?? NaN };
}
const mbps = (t: Transfer): number => (t.error !== undefined || t.bytes === 0 ? NaN : t.bytes / 1e6 / (t.ms / 1000));

/** A link's rounds: blob and raw (and optionally a diagnostic variant), interleaved. */
interface LinkResult {
	label: string;
	blob: Transfer[];
	raw: Transfer[];
	extra?: { label: string; runs: Transfer[] };
	/** Where the serving side spent time in its store per blob run. */
	serveStore?: unknown[];
}

function summary(r: LinkResult) {
	const blob = spread(r.blob.map(mbps));
	const raw = spread(r.raw.map(mbps));
	return {
		blobMBps: blob,
		rawMBps: raw,
		ratio: blob.median / raw.median,
		ratioPaired: spread(r.blob.map((b, i) => mbps(b) / mbps(r.raw[i]!))).median,
		...(r.extra ? { [r.extra.label]: spread(r.extra.runs.map(mbps)) } : {}),
		fetcherStoreMs: spread(r.blob.map((b) => (b.store ? Object.values(b.store).reduce((n, t) => n + t.ms, 0) : NaN))),
		fetcherPutChunkMs: spread(r.blob.map((b) => (b.store?.putChunk.ms ?? 0) + (b.store?.putChunks.ms ?? NaN))),
		errors: [...r.blob, ...r.raw, ...(r.extra?.runs ?? [])].flatMap((t) => (t.error && t.error !== 'not run' ? [t.error] : []))
	};
}

/** Rounds of `blob` and `raw` (order alternating per round), and `extra` after them. */
async function rounds(label: string, blob: (round: number) => Promise<Transfer>, raw: () => Promise<Transfer>, extra?: { label: string; run: (round: number) => Promise<Transfer> }, after?: () => Promise<unknown>): Promise<LinkResult> {
	const r: LinkResult = { label, blob: [], raw: [], ...(extra ? { extra: { label: extra.label, runs: [] } } : {}), ...(after ? { serveStore: [] } : {}) };
	const f = (t: Transfer) => (t.error === 'not run' ? 'not run' : t.error ? `failed (${t.error})` : `${mbps(t).toFixed(1)} MB/s`);
	for (let round = 1; round <= ROUNDS; round++) {
		if (round % 2) {
			r.blob.push(await blob(round));
			if (after) r.serveStore!.push(await after());
			r.raw.push(await raw());
		} else {
			r.raw.push(await raw());
			r.blob.push(await blob(round));
			if (after) r.serveStore!.push(await after());
		}
		if (extra) r.extra!.runs.push(await extra.run(round));
		log(`  ${label} round ${round}/${ROUNDS}: blob ${f(r.blob.at(-1)!)}, raw ${f(r.raw.at(-1)!)}${extra ? `, ${extra.label} ${f(r.extra!.runs.at(-1)!)}` : ''}`);
	}
	return r;
}

function report(r: LinkResult): void {
	const s = summary(r);
	const f = (x: Spread) => `${x.median.toFixed(1).padStart(6)} (${x.min.toFixed(1)}–${x.max.toFixed(1)})`;
	log(`  ${r.label}`);
	log(`    blob fetch     ${f(s.blobMBps)} MB/s`);
	log(`    raw stream     ${f(s.rawMBps)} MB/s   (same connection)`);
	if (r.extra) log(`    ${r.extra.label.padEnd(14)} ${f(spread(r.extra.runs.map(mbps)))} MB/s   (diagnostic)`);
	log(`    blob ÷ raw     ${s.ratio.toFixed(2)} (paired per round ${s.ratioPaired.toFixed(2)}; goal ≥ 0.90)`);
	log(`    fetcher's store calls ${s.fetcherStoreMs.median.toFixed(0)} ms per fetch (storing chunks ${s.fetcherPutChunkMs.median.toFixed(0)} ms)`);
	for (const e of s.errors.slice(0, 3)) log(`    error: ${e}`);
}

async function main(): Promise<void> {
	const started = performance.now();
	if (process.env.OUTPOST_NETNS !== '1') log('warning: not in a network namespace (run through scripts/in-netns.sh); WebRTC needs a non-loopback interface');
	const host = process.env.OUTPOST_LAN_IP ?? '127.0.0.1';
	const tmp = await mkdtemp(join(os.tmpdir(), 'outpost-blob-transfer-'));
	let page: { server: Server; url: string } | undefined;
	let relay: BenchRelay | undefined;
	let browser: Browser | undefined;
	const results: Record<string, unknown> = {};
	const text: Array<() => void> = [];
	try {
		browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, headless: true, timeout: 60_000 });
		log(`Blob ${BLOB_BYTES / 1e6} MB, ${ROUNDS} rounds; Chromium ${browser.version()}, Node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'})`);
		if (PARTS.has('direct') || PARTS.has('relay')) {
			const chunks = await buildForBrowser(join(here, 'blobBrowser.ts'));
			const entry = chunks.find((c) => c.isEntry)?.fileName;
			if (entry === undefined) throw new Error('the browser build has no entry chunk');
			page = await servePage(new Map(chunks.map((c) => [c.fileName, c.code])));
			relay = await startBenchRelay(host, join(tmp, 'relay'));
			const relayId = relay.node.peerId.toString();
			const [a, b] = await Promise.all(
				['A', 'B'].map(async (name) => {
					const p = await (await browser!.newContext()).newPage();
					p.on('pageerror', (error) => log(`  page ${name} error: ${error.message}`));
					await p.goto(page!.url);
					await p.evaluate(`import('/${entry}').then((m) => { globalThis.bench = m; })`);
					return p;
				})
			);
			const pageA = a!;
			const pageB = b!;
			const nodeA = await call(pageA, 'start', relay.address, 'bench-a');
			await call(pageB, 'start', relay.address, 'bench-b');
			const source = await call(pageA, 'makeSource', BLOB_BYTES);
			log(`Page A holds the blob: hashing ${source.hashMs.toFixed(0)} ms, hashing + storing in IndexedDB ${source.storeMs.toFixed(0)} ms (the app's attach)`);
			results.source = source;
			const fetchBlobOf = (blobId: string) => (peerId: string, link: 'webrtc' | 'relayed' | 'direct', run: string, memory = false) => async () => {
				const t = await call(pageB, 'fetchBlob', { peerId, link, blobId, run, memory, timeoutMs: TRANSFER_TIMEOUT_MS });
				await call(pageB, 'dropRun', run);
				return t;
			};
			const fetchB = fetchBlobOf(source.blobId);

			if (PARTS.has('relay')) {
				// The circuit B → relay → A, before any direct link exists.
				const circuit = await call(pageB, 'dial', nodeA.circuit, 'relayed');
				const probe = await fetchB(nodeA.peerId, 'relayed', 'circuit-probe')();
				await call(pageB, 'dial', nodeA.circuit, 'relayed').catch((error: unknown) => String(error));
				const rawSmall = await call(pageB, 'raw', { peerId: nodeA.peerId, link: 'relayed', bytes: 64_000, timeoutMs: 20_000 });
				const rawProbe = await call(pageB, 'raw', { peerId: nodeA.peerId, link: 'relayed', bytes: 4e6, timeoutMs: 20_000 });
				results.circuit = { link: circuit, blob: probe, raw64KB: rawSmall, raw4MB: rawProbe };
				text.push(() => {
					log(`  circuit-relayed B → relay → A (${circuit}; the relay's circuit limit is libp2p's default, 128 KiB each way):`);
					log(`    blob fetch of ${BLOB_BYTES / 1e6} MB: ${probe.error ?? `${mbps(probe).toFixed(1)} MB/s`}`);
					log(`    raw stream of 64 KB: ${rawSmall.error ?? `done in ${rawSmall.ms.toFixed(0)} ms`}; of 4 MB: ${rawProbe.error ?? `${mbps(rawProbe).toFixed(1)} MB/s`}`);
				});
			}

			if (PARTS.has('direct')) {
				const dialled = await call(pageB, 'dial', nodeA.webrtc, 'webrtc');
				log(`B dialled A directly: ${dialled}; B's links to A: ${(await call(pageB, 'links', nodeA.peerId)).join(', ')}`);
				// An unmeasured fetch and raw read of a small blob: connection and code warm. It is also what gets profiled.
				const small = await call(pageA, 'makeSource', PROFILE_BYTES);
				const fetchSmall = fetchBlobOf(small.blobId);
				await fetchSmall(nodeA.peerId, 'webrtc', 'warm')();
				await call(pageB, 'raw', { peerId: nodeA.peerId, link: 'webrtc', bytes: PROFILE_BYTES, timeoutMs: TRANSFER_TIMEOUT_MS });
				await call(pageA, 'takeServeTimes');
				const direct = await rounds(
					'browser → browser (direct WebRTC)',
					(round) => fetchB(nodeA.peerId, 'webrtc', `direct-${round}`)(),
					() => call(pageB, 'raw', { peerId: nodeA.peerId, link: 'webrtc', bytes: BLOB_BYTES, timeoutMs: TRANSFER_TIMEOUT_MS }),
					// Diagnostic, first round only: the same fetch with both stores in memory (no IndexedDB).
					{ label: 'blob, memory', run: async (round) => (round === 1 ? fetchB(nodeA.peerId, 'webrtc', `memory-${round}`, true)() : { ms: NaN, bytes: 0, error: 'not run' }) },
					() => call(pageA, 'takeServeTimes')
				);
				results.direct = { link: dialled, ...direct, summary: summary(direct) };
				text.push(() => report(direct));
				results.microCosts = await call(pageA, 'microCosts', source.blobId, Math.ceil(BLOB_BYTES / (256 * 1024)));
				if (PROFILE) {
					const profiles: Record<string, { sender: ProfileSummary; receiver: ProfileSummary }> = {};
					for (const [label, run] of [
						['blob', fetchSmall(nodeA.peerId, 'webrtc', 'profiled')],
						['raw', () => call(pageB, 'raw', { peerId: nodeA.peerId, link: 'webrtc', bytes: PROFILE_BYTES, timeoutMs: TRANSFER_TIMEOUT_MS })]
					] as const) {
						const received = await profilePage(pageB, () => profilePage(pageA, run, 12), 12);
						profiles[label] = { sender: received.result.summary, receiver: received.summary };
						// The whole profiles, for DevTools or a script (bench/results is not committed).
						await mkdir(join(root, 'bench', 'results'), { recursive: true });
						for (const [side, profile] of [['sender', received.result.profile], ['receiver', received.profile]] as const) {
							await writeFile(join(root, 'bench', 'results', `blob-transfer-${label}-${side}.cpuprofile`), JSON.stringify(profile));
						}
					}
					results.profiles = profiles;
				}
			}

			if (PARTS.has('relay')) {
				const redials: string[] = [];
				const pin = await rounds(
					'browser → relay (the relay pins the blob from A, WebSocket)',
					async (round) => {
						if (await call(pageA, 'ensureConnected', relay!.address)) redials.push(`A before pin round ${round}`);
						const t = await relay!.pin(nodeA.peerId, source.blobId, `pin-${round}`, TRANSFER_TIMEOUT_MS);
						if (round > 1) relay!.drop(`pin-${round}`);
						return t;
					},
					async () => {
						if (await call(pageA, 'ensureConnected', relay!.address)) redials.push('A before a raw read');
						return relay!.raw(nodeA.peerId, BLOB_BYTES, TRANSFER_TIMEOUT_MS);
					},
					undefined,
					() => call(pageA, 'takeServeTimes')
				);
				results.pin = { ...pin, summary: summary(pin) };
				text.push(() => report(pin));
				// A leaves: from now on only the relay has the blob.
				await call(pageA, 'stop');
				relay.serveFrom('pin-1');
				const serve = await rounds(
					'relay → browser (B fetches from the relay after A left, WebSocket)',
					async (round) => {
						if (await call(pageB, 'ensureConnected', relay!.address)) redials.push(`B before fetch round ${round}`);
						return fetchB(relayId, 'direct', `relay-${round}`)();
					},
					async () => {
						if (await call(pageB, 'ensureConnected', relay!.address)) redials.push('B before a raw read');
						return call(pageB, 'raw', { peerId: relayId, link: 'direct', bytes: BLOB_BYTES, timeoutMs: TRANSFER_TIMEOUT_MS });
					},
					undefined,
					async () => relay!.takeServeTimes()
				);
				results.serve = { ...serve, summary: summary(serve) };
				text.push(() => report(serve));
				results.relayLinks = { redials, closedOnRelay: relay.drops };
				text.push(() => log(`  relay links: ${redials.length ? `redialled ${redials.join('; ')}` : 'no redial needed'}; connections the relay saw close: ${relay!.drops.join(', ') || 'none'}`));
			}
			await pageA.context().close();
			await pageB.context().close();
		}

		if (PARTS.has('image')) {
			const buildDir = join(root, 'build');
			if (!existsSync(join(buildDir, '200.html')) && !existsSync(join(buildDir, 'index.html'))) {
				results.image = { notMeasured: 'no build/: run `vite build` first' };
				text.push(() => log('  image: not measured (no build/: run `vite build` first)'));
			} else {
				// About IMAGE_MB of random RGB pixels at 4:3.
				const height = Math.round(Math.sqrt((IMAGE_MB * 1e6) / 3 / (4 / 3)));
				const width = Math.round((height * 4) / 3);
				const { runs } = await measureImages({ browser, buildDir, runs: IMAGE_RUNS, width, height, log });
				const visible = spread(runs.map((r) => r.visibleMs));
				results.image = { width, height, runs, visibleMs: visible };
				text.push(() => {
					const bytes = runs[0]?.bytes ?? 0;
					log(`  ${(bytes / 1e6).toFixed(2)} MB PNG (${width}×${height}), app UI, Send on A → full image decoded on B:`);
					log(`    median ${visible.median.toFixed(0)} ms (${visible.min.toFixed(0)}–${visible.max.toFixed(0)}) over ${runs.length} runs; ≈ ${(bytes / 1e6 / (visible.median / 1000)).toFixed(1)} MB/s end to end`);
					log(`    (attach on A before Send: median ${spread(runs.map((r: ImageRun) => r.attachMs)).median.toFixed(0)} ms, not counted)`);
					log(
						`    B received per image (median): ${spread(runs.map((r) => r.received.webrtcMB)).median.toFixed(1)} MB over WebRTC, ` +
							`${spread(runs.map((r) => r.received.relayMB)).median.toFixed(1)} MB from the relay (the image is ${(bytes / 1e6).toFixed(1)} MB)`
					);
				});
			}
		}

		log('');
		log(`Results (${BLOB_BYTES / 1e6} MB blob; MB/s = 10^6 bytes/s; medians (min–max) of ${ROUNDS} rounds):`);
		for (const t of text) t();
		if (results.microCosts) {
			const m = results.microCosts as { chunks: number; verifyMs: number; idbPutMs: number; idbReadMs: number };
			log(`  per-chunk costs alone, in a page, ${m.chunks} chunks of 256 KiB: SHA-256 verify ${m.verifyMs.toFixed(0)} ms, IndexedDB put one at a time ${m.idbPutMs.toFixed(0)} ms, IndexedDB read ${m.idbReadMs.toFixed(0)} ms`);
		}
		if (results.profiles) {
			for (const [label, p] of Object.entries(results.profiles as Record<string, { sender: ProfileSummary; receiver: ProfileSummary }>)) {
				for (const side of ['sender', 'receiver'] as const) {
					log(`  CPU profile, ${label} of ${PROFILE_BYTES / 1e6} MB over WebRTC, ${side} page: busy ${p[side].busyMs.toFixed(0)} ms; top self time:`);
					for (const f of p[side].top.slice(0, 6)) log(`    ${f.ms.toFixed(0).padStart(6)} ms ${(f.share * 100).toFixed(0).padStart(3)}%  ${f.name}`);
				}
			}
		}
		const file = join(root, 'bench', 'results', 'blob-transfer.json');
		await mkdir(dirname(file), { recursive: true });
		await writeFile(
			file,
			JSON.stringify(
				{ benchmark: 'blob-transfer', date: new Date().toISOString(), environment: benchEnvironment(browser.version()), parameters: { blobBytes: BLOB_BYTES, rounds: ROUNDS, imageRuns: IMAGE_RUNS, imageMB: IMAGE_MB, parts: [...PARTS] }, results },
				null,
				'\t'
			) + '\n'
		);
		log(`\nWrote ${file.slice(root.length + 1)} (total ${((performance.now() - started) / 1000).toFixed(0)} s)`);
	} finally {
		await browser?.close().catch(() => undefined);
		await relay?.close().catch(() => undefined);
		await new Promise<void>((resolve) => (page ? page.server.close(() => resolve()) : resolve()));
		await rm(tmp, { recursive: true, force: true });
	}
}

const watchdog = setTimeout(() => {
	console.error(`blob-transfer bench stopped: still running after ${TIMEOUT_S} s (BENCH_TIMEOUT_S)`);
	process.exit(2);
}, TIMEOUT_S * 1000);
main().then(
	() => {
		clearTimeout(watchdog);
		process.exit(0); // libp2p and vite may leave handles behind; the figures are written
	},
	(error: unknown) => {
		console.error('blob-transfer bench failed:', error instanceof Error ? (error.stack ?? error.message) : error);
		process.exit(1);
	}
);
