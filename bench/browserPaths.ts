/**
 * The browser paths of the mesh-inference bench: real Chromium pages running the app's mesh
 * code (browserHarness.ts, bundled for the browser), in one workspace with a Node relay
 * that also hosts a node-llama-cpp model, as `npm start -- --model` does:
 *
 * - **relay host → browser**: page B asks the relay's node-llama-cpp engine over the mesh
 *   (WebSocket to the relay, one `/outpost/llm/1.0.0` stream per generation);
 * - **browser host → browser**: page A loads the same GGUF into wllama and serves it; page B
 *   dials A directly over WebRTC and asks it over the mesh.
 *
 * WebRTC needs a non-loopback interface: run inside scripts/in-netns.sh (the npm script does).
 *
 * On a machine with two or more CPUs and `taskset`, the bench process (the relay and its model)
 * is pinned to CPU 0 and Chromium to CPU 1 (chromium-on-cpu1.sh), so the asking browser stands
 * in for another device rather than taking CPU time from the model it asks; the baselines
 * run with the same pinning. BENCH_PIN=0 turns this off.
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus, networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Engine, GenerateRequest } from '../src/lib/ai/engine.ts';
import { llmHost } from '../src/lib/ai/llmHost.ts';
import { meshService } from '../src/lib/mesh/MeshService.ts';
import { startRelay } from '../relay/server.ts';
import { createModelFilesHandler } from '../relay/models.ts';
import { buildForBrowser } from '../tests/mesh/browserBuild.ts';
import { startNode } from '../tests/mesh/helpers.ts';
import type { TestWorkspace } from '../tests/mesh/peers.ts';
import { MemoryDocs } from '../tests/unit/mesh/memoryDocs.ts';
import { CHROMIUM_ARGS } from './env.ts';
import type { Run } from './timing.ts';

const CHROMIUM = '/usr/bin/chromium';

/**
 * Pins this process (all its threads, and those it starts later) to CPU 0 when the machine has
 * two CPUs or more and `taskset` exists; returns whether it did (Chromium then goes to CPU 1).
 */
export function pinToFirstCpu(): boolean {
	if (process.env.BENCH_PIN === '0' || cpus().length < 2) return false;
	try {
		execFileSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });
		return true;
	} catch {
		return false;
	}
}

/** Why the browser paths cannot run here, or undefined when they can. */
export function browserPathsUnavailable(): string | undefined {
	if (!existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM}`;
	const lan = Object.values(networkInterfaces())
		.flat()
		.some((i) => i !== undefined && !i.internal && i.family === 'IPv4');
	return lan ? undefined : 'no non-loopback interface for WebRTC (run the bench through scripts/in-netns.sh, as `npm run bench:mesh-inference` does)';
}

/** The two browser paths, each as a pair of runners (its baseline and the mesh path). */
export interface BrowserPaths {
	relayToBrowser: { direct: () => Promise<Run>; mesh: () => Promise<Run> };
	browserToBrowser: { direct: () => Promise<Run>; mesh: () => Promise<Run> };
	/** How page B reaches each host (the link the mesh engine uses is one of these). */
	links: { relay: string[]; browser: string[]; dialled: string };
	close(): Promise<void>;
}

/** Calls an export of the page's harness module with JSON arguments. */
function call<T>(page: Page, name: string, ...args: unknown[]): Promise<T> {
	return page.evaluate(
		async ([module, fn, list]) => {
			const harness = (await import(/* @vite-ignore */ module)) as Record<string, (...a: unknown[]) => unknown>;
			return harness[fn]!(...(list as unknown[]));
		},
		['/harness.js', name, args] as const
	) as Promise<T>;
}

/**
 * Starts the relay (node-llama-cpp `engine` behind llmHost, HTTP serving the harness and the
 * model file), two Chromium pages, and wires the paths up. `relayDirect` is the baseline of
 * relay host → browser: the same engine called in this process.
 */
export async function startBrowserPaths(
	workspace: TestWorkspace,
	engine: Engine,
	modelPath: string,
	modelId: string,
	request: GenerateRequest,
	relayDirect: () => Promise<Run>,
	/** Whether this process is pinned to CPU 0 ({@link pinToFirstCpu}): Chromium then runs on CPU 1. */
	pinned: boolean
): Promise<BrowserPaths> {
	const dir = await mkdtemp(join(tmpdir(), 'outpost-bench-'));
	await mkdir(join(dir, 'app'));
	await mkdir(join(dir, 'models'));
	await symlink(modelPath, join(dir, 'models', `${modelId}.gguf`));
	const chunks = await buildForBrowser(fileURLToPath(new URL('./browserHarness.ts', import.meta.url)));
	for (const chunk of chunks) await writeFile(join(dir, 'app', chunk.isEntry ? 'harness.js' : chunk.fileName), chunk.code);
	await writeFile(join(dir, 'app', 'index.html'), '<!doctype html><title>bench</title>');
	const http = await startRelay({ root: join(dir, 'app'), host: '127.0.0.1', port: 0, signalling: false, models: createModelFilesHandler({ dir: join(dir, 'models') }) });

	const relay = await startNode({ relayServer: true, listen: ['/ip4/127.0.0.1/tcp/0/ws'] });
	const relayMesh = meshService({ antiEntropyIntervalMs: 0 })({ node: relay });
	await relayMesh.start();
	await relayMesh.addWorkspace({ ...workspace, docs: new MemoryDocs() });
	const host = llmHost({ engines: [engine] })({ node: relay, keys: (id) => relayMesh.workspaceKeys(id) });
	await host.start();
	const relayAddress = relay.getMultiaddrs().map(String).find((a) => a.includes('/ws'))!;

	const executablePath = pinned ? fileURLToPath(new URL('./chromium-on-cpu1.sh', import.meta.url)) : CHROMIUM;
	const browser: Browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
	const pages: Page[] = [];
	for (let i = 0; i < 2; i++) {
		const page = await (await browser.newContext()).newPage();
		page.on('pageerror', (error) => console.error(`page ${i}:`, error.message));
		await page.goto(`${http.url}/`);
		pages.push(page);
	}
	const [a, b] = pages as [Page, Page];
	const ws = { id: workspace.id, secret: [...workspace.secret] };
	const hostA = await call<{ peerId: string; webrtc: string }>(a, 'start', relayAddress, ws);
	await call(b, 'start', relayAddress, ws);
	const loaded = await call<string>(a, 'loadModel', `/models/${modelId}.gguf`);
	if (loaded !== modelId) throw new Error(`page A loaded ${loaded}, not ${modelId}`);
	await call(a, 'serve');
	const dialled = await call<string>(b, 'dial', hostA.webrtc);
	const relayId = relay.peerId.toString();
	const paths: BrowserPaths = {
		relayToBrowser: { direct: relayDirect, mesh: () => call<Run>(b, 'runMesh', relayId, request) },
		browserToBrowser: { direct: () => call<Run>(a, 'runDirect', request), mesh: () => call<Run>(b, 'runMesh', hostA.peerId, request) },
		links: { relay: await call<string[]>(b, 'links', relayId), browser: await call<string[]>(b, 'links', hostA.peerId), dialled },
		async close() {
			for (const page of pages) await call(page, 'stop').catch(() => {});
			await browser.close();
			await host.stop();
			await relayMesh.stop();
			await relay.stop();
			await http.close();
			await rm(dir, { recursive: true, force: true });
		}
	};
	return paths;
}
