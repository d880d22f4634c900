/**
 * Benchmark: model inference directly in node-llama-cpp and through the mesh, side by side.
 *
 *   npm run bench:mesh-inference
 *
 * One process, one NodeLlamaEngine per model (CPU, BENCH_THREADS threads for both paths),
 * the same prompt, `maxTokens` and temperature 0 on both paths:
 *
 * - **direct**: `NodeLlamaEngine.generate` called in this process (the relay's own runtime);
 * - **mesh**: a host peer (that same engine behind `llmHost`) and an asker peer (a
 *   `MeshEngine`), real libp2p nodes over TCP on 127.0.0.1 in one workspace, connected once
 *   up front; every generation opens its own `/outpost/llm/1.0.0` stream with the membership
 *   exchange, as the app does. This is the in-process equivalent of relay host → browser.
 * - **relay host → browser** (browserPaths.ts): a Node relay node hosting the same engine,
 *   asked by a Chromium page over WebSocket; baseline: the engine called directly here.
 * - **browser host → browser**: a Chromium page loads the same GGUF into wllama and serves
 *   it; another page dials it over WebRTC and asks it; baseline: wllama called directly in
 *   the hosting page. Timed inside the asking page. Needs Chromium and a non-loopback
 *   interface, so the npm script runs the bench in its own network namespace
 *   (scripts/in-netns.sh); without them these two paths are reported as not measured.
 *
 * The main model is a generated random-weight llama of tens of millions of parameters
 * (tests/fixtures/gguf.ts; default embedding 512, 8 blocks, 8 heads, feed-forward 1408 ≈ 26M,
 * F32), where one token costs milliseconds, so per-token overhead shows as it would on a
 * real model; the tiny test model (where per-token overhead dominates) runs too, for
 * reference. Rounds interleave the paths (direct, mesh, direct, mesh…) after one unmeasured
 * warm-up of each. Per generation: time to first token (the call until the first text chunk)
 * and decode tokens/s ((completion tokens − 1) ÷ (first text chunk → done)); medians and
 * min–max over the rounds, the ratio of the medians mesh/direct for tokens/s (goal ≥ 0.95)
 * and the extra time to first token (goal ≤ 50 ms). Whether both paths produced the same
 * text is checked too. Prints a table and writes bench/results/mesh-inference.json. Figures
 * only: never asserts the goals; stops itself after BENCH_TIMEOUT_S.
 *
 * The host and the asker share this process's event loop (the asker decrypts what the host
 * encrypts, on the same thread), which a browser asker on another device would not; and
 * loopback has no network latency, which a real link adds to the time to first token (about
 * two round trips: the membership exchange, then the first chunk). One llama.cpp thread by
 * default: on a 2-core machine two threads contend with Node's own thread and both paths
 * collapse to a few tokens/s.
 *
 * Environment: BENCH_ROUNDS (default 20), BENCH_MAX_TOKENS (default 64), BENCH_THREADS
 * (default 1), BENCH_TIMEOUT_S (default 900), BENCH_EMBEDDING / BENCH_BLOCKS / BENCH_HEADS /
 * BENCH_FF (the large model's shape).
 */
import '../src/lib/mesh/polyfills.node.ts'; // before anything that loads libp2p
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Engine, GenerateRequest } from '../src/lib/ai/engine.ts';
import { llmHost } from '../src/lib/ai/llmHost.ts';
import { MeshEngine } from '../src/lib/ai/meshEngine.ts';
import { NodeLlamaEngine } from '../relay/ai/nodeLlamaEngine.ts';
import { llamaGgufPath, parameterCount, tinyLlama, type LlamaShape } from '../tests/fixtures/gguf.ts';
import { connect, newWorkspace, startPeer, stopPeers } from '../tests/mesh/peers.ts';
import { positiveInt, benchEnvironment } from './env.ts';
import { browserPathsUnavailable, pinToFirstCpu, startBrowserPaths, type BrowserPaths } from './browserPaths.ts';
import { timedGeneration, type Run } from './timing.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ROUNDS = positiveInt('BENCH_ROUNDS', 20);
const MAX_TOKENS = positiveInt('BENCH_MAX_TOKENS', 64);
const THREADS = positiveInt('BENCH_THREADS', 1);
const TIMEOUT_S = positiveInt('BENCH_TIMEOUT_S', 900);
const LARGE: Partial<LlamaShape> = {
	seed: 7,
	embedding: positiveInt('BENCH_EMBEDDING', 512),
	blocks: positiveInt('BENCH_BLOCKS', 8),
	heads: positiveInt('BENCH_HEADS', 8),
	headsKv: positiveInt('BENCH_HEADS', 8),
	feedForward: positiveInt('BENCH_FF', 1408),
	contextLength: 256,
	name: 'bench-random-llama'
};
const PROMPT = 'Tell me a story about peers that share their models over a mesh.';

const log = (line: string) => console.log(line);


/** Median, min and max. */
interface Spread {
	median: number;
	min: number;
	max: number;
}

function spread(values: number[]): Spread {
	const sorted = [...values].sort((a, b) => a - b);
	const mid = sorted.length / 2;
	const median = sorted.length % 2 ? sorted[Math.floor(mid)]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
	return { median, min: sorted[0] ?? NaN, max: sorted.at(-1) ?? NaN };
}

/** The request every path generates for `model`. */
const requestFor = (model: string): GenerateRequest => ({ model, messages: [{ role: 'user', content: PROMPT }], maxTokens: MAX_TOKENS, temperature: 0 });

/** One path pair's rounds, interleaved (direct, mesh, direct, mesh…) after a warm-up of each. */
async function measure(label: string, direct: () => Promise<Run>, mesh: () => Promise<Run>) {
	await direct(); // warm-up: model load, first evaluation
	await mesh(); // warm-up: the first stream on the connection
	const runs = { direct: [] as Run[], mesh: [] as Run[] };
	for (let round = 1; round <= ROUNDS; round++) {
		runs.direct.push(await direct());
		runs.mesh.push(await mesh());
		const [d, m] = [runs.direct.at(-1)!, runs.mesh.at(-1)!];
		log(
			`  ${label} round ${String(round).padStart(2)}: direct ${d.tokensPerSecond.toFixed(0)} tok/s, TTFT ${d.ttftMs.toFixed(1)} ms; ` +
				`mesh ${m.tokensPerSecond.toFixed(0)} tok/s, TTFT ${m.ttftMs.toFixed(1)} ms`
		);
	}
	const summary = (list: Run[]) => ({
		tokensPerSecond: spread(list.map((r) => r.tokensPerSecond)),
		ttftMs: spread(list.map((r) => r.ttftMs)),
		totalMs: spread(list.map((r) => r.totalMs)),
		completionTokens: spread(list.map((r) => r.completionTokens))
	});
	const d = summary(runs.direct);
	const m = summary(runs.mesh);
	const sameText = [...runs.direct, ...runs.mesh].every((r) => r.text === runs.direct[0]!.text);
	return {
		direct: d,
		mesh: m,
		tokensPerSecondRatio: m.tokensPerSecond.median / d.tokensPerSecond.median,
		/** Median over rounds of (mesh tokens/s ÷ the same round's direct tokens/s). */
		tokensPerSecondRatioPaired: spread(runs.mesh.map((r, i) => r.tokensPerSecond / runs.direct[i]!.tokensPerSecond)).median,
		extraTtftMs: m.ttftMs.median - d.ttftMs.median,
		/** Median over rounds of (mesh TTFT − the same round's direct TTFT). */
		extraTtftPairedMs: spread(runs.mesh.map((r, i) => r.ttftMs - runs.direct[i]!.ttftMs)).median,
		sameText,
		rounds: runs.direct.map((r, i) => ({ direct: strip(r), mesh: strip(runs.mesh[i]!) }))
	};
}

const strip = ({ text: _text, ...figures }: Run) => figures;

type Result = Awaited<ReturnType<typeof measure>> & { hostMeasuredTokensPerSecond?: number };

function report(title: string, r: Result, names: [string, string] = ['direct', 'mesh']): void {
	const f = (s: Spread, digits: number) => `${s.median.toFixed(digits).padStart(7)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`;
	log('');
	log(`${title} — medians (min–max) of ${ROUNDS} rounds, ${MAX_TOKENS} tokens, temperature 0, ${THREADS} thread(s):`);
	const width = Math.max(8, ...names.map((n) => n.length));
	log(`  ${'path'.padEnd(width)} ${'decode tok/s'.padEnd(26)} ${'time to first token, ms'.padEnd(28)} whole answer, ms`);
	for (const [name, s] of [[names[0], r.direct], [names[1], r.mesh]] as const)
		log(`  ${name.padEnd(width)} ${f(s.tokensPerSecond, 1).padEnd(26)} ${f(s.ttftMs, 1).padEnd(28)} ${f(s.totalMs, 0)}`);
	log(
		`  mesh/direct tokens/s ${r.tokensPerSecondRatio.toFixed(3)} (paired per round ${r.tokensPerSecondRatioPaired.toFixed(3)}; goal ≥ 0.95); extra TTFT ${r.extraTtftMs.toFixed(1)} ms ` +
			`(paired per round ${r.extraTtftPairedMs.toFixed(1)} ms; goal ≤ 50 ms); same text on both paths: ${r.sameText ? 'yes' : 'NO'}`
	);
	if (r.hostMeasuredTokensPerSecond !== undefined) log(`  the host's own measure of its mesh generations (moving average): ${r.hostMeasuredTokensPerSecond.toFixed(1)} tok/s`);
}

async function main(): Promise<void> {
	const watchdog = setTimeout(() => {
		console.error(`mesh-inference benchmark: still running after ${TIMEOUT_S} s; stopping`);
		process.exit(1);
	}, TIMEOUT_S * 1000);
	watchdog.unref();

	// Before any model thread starts, so they all inherit it.
	const pinned = pinToFirstCpu();
	const made = performance.now();
	const largePath = llamaGgufPath(LARGE);
	const largeParams = parameterCount(LARGE);
	log(
		`Large model: ${(largeParams / 1e6).toFixed(1)}M parameters (F32), written in ${((performance.now() - made) / 1000).toFixed(1)} s; ` +
			`tiny model: ${(parameterCount(tinyLlama) / 1e3).toFixed(0)}K parameters. ` +
			`${ROUNDS} rounds; Node ${process.version}, ${os.cpus().length} CPUs` +
			(pinned ? '; this process pinned to CPU 0, Chromium to CPU 1' : '')
	);
	const engines = {
		large: new NodeLlamaEngine({ modelPath: largePath, threads: THREADS, gpu: false }),
		tiny: new NodeLlamaEngine({ modelPath: llamaGgufPath(), threads: THREADS, gpu: false })
	};
	const ws = newWorkspace();
	const hostErrors: Error[] = [];
	try {
		const hostPeer = await startPeer(ws, { name: 'host' });
		const askerPeer = await startPeer(ws, { name: 'asker' });
		const host = llmHost({ engines: [engines.large, engines.tiny], onError: (error) => hostErrors.push(error) })({
			node: hostPeer.node,
			keys: (id) => hostPeer.mesh.workspaceKeys(id)
		});
		await host.start(); // loads both models (it lists them)
		await connect(askerPeer, hostPeer);
		const keys = askerPeer.mesh.workspaceKeys(ws.id);
		if (keys === undefined) throw new Error('the asker has no workspace keys');
		const mesh = new MeshEngine({ node: askerPeer.node, host: hostPeer.node.peerId, keys });

		// The host's own moving average of its generation speed (first text → DONE as it writes
		// them): close to the asker's figure means the mesh slows generation itself on the host.
		const hostMeasured = (id: string) => host.advertisedModels().find((m) => m.id === id)?.tokensPerSecond;
		const pair = (engine: Engine, via: Engine) => {
			const request = requestFor(engines.large === engine ? engines.large.modelId : engines.tiny.modelId);
			return [() => timedGeneration(engine, request), () => timedGeneration(via, request)] as const;
		};
		const large = { ...(await measure('large', ...pair(engines.large, mesh))), hostMeasuredTokensPerSecond: hostMeasured(engines.large.modelId) };
		const tiny = { ...(await measure('tiny', ...pair(engines.tiny, mesh))), hostMeasuredTokensPerSecond: hostMeasured(engines.tiny.modelId) };
		await host.stop();

		// The browser paths, on the large model.
		const unavailable = browserPathsUnavailable();
		let browser: { relayToBrowser: Result; browserToBrowser: Result; links: BrowserPaths['links'] } | undefined;
		if (unavailable === undefined) {
			const request = requestFor(engines.large.modelId);
			const paths = await startBrowserPaths(ws, engines.large, largePath, engines.large.modelId, request, () => timedGeneration(engines.large, request), pinned);
			try {
				browser = {
					relayToBrowser: await measure('relay→browser', paths.relayToBrowser.direct, paths.relayToBrowser.mesh),
					browserToBrowser: await measure('browser→browser', paths.browserToBrowser.direct, paths.browserToBrowser.mesh),
					links: paths.links
				};
			} finally {
				await paths.close();
			}
		}

		report(`Large random model (${(largeParams / 1e6).toFixed(1)}M parameters), in-process mesh (Node asker)`, large);
		if (browser) {
			report(`Large model, relay host (node-llama-cpp) → browser asker`, browser.relayToBrowser, ['node-llama-cpp direct', 'relay → browser']);
			report(`Large model, browser host (wllama) → browser asker over WebRTC`, browser.browserToBrowser, ['wllama direct in the host page', 'browser → browser']);
			log(`  links from the asking page: to the relay ${browser.links.relay.join(', ')}; to the host page ${browser.links.browser.join(', ')} (dialled: ${browser.links.dialled})`);
		} else {
			log(`\nBrowser paths not measured: ${unavailable}.`);
		}
		report(`Tiny test model (${(parameterCount(tinyLlama) / 1e3).toFixed(0)}K parameters, reference)`, tiny);
		if (hostErrors.length) log(`\nThe host reported ${hostErrors.length} stream errors; first: ${hostErrors[0]!.message}`);

		const file = join(root, 'bench', 'results', 'mesh-inference.json');
		await mkdir(dirname(file), { recursive: true });
		const json = {
			benchmark: 'mesh-inference',
			date: new Date().toISOString(),
			environment: benchEnvironment(),
			parameters: { pinned, rounds: ROUNDS, maxTokens: MAX_TOKENS, threads: THREADS, temperature: 0, prompt: PROMPT, largeShape: LARGE, largeParameters: largeParams },
			...(browser ? {} : { notMeasured: `browser paths: ${unavailable}` }),
			results: { large, tiny, ...(browser ?? {}) },
			hostErrors: hostErrors.map((e) => e.message)
		};
		await writeFile(file, JSON.stringify(json, null, '\t') + '\n');
		log(`\nWrote ${file}`);
	} finally {
		await stopPeers();
		await engines.large.dispose();
		await engines.tiny.dispose();
	}
}

main().then(
	() => process.exit(0),
	(error: unknown) => {
		console.error('mesh-inference benchmark failed:', error);
		process.exit(1);
	}
);
