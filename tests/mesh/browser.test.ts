/**
 * The browser node in real Chromium (skipped where /usr/bin/chromium is missing): two
 * pages in separate contexts start `node.browser.ts` nodes against a Node relay on
 * 127.0.0.1 over ws://, reserve a relay slot, exchange gossip through the relay, and
 * connect directly over WebRTC with `dialWithRetry`.
 *
 * Chromium gathers no ICE candidates on `lo` alone, so the test runs in a network namespace
 * of its own with a veth pair, like the end-to-end suite: run anywhere else, this file runs
 * itself again under `scripts/in-netns.sh` and passes only if the test passed there. Where no
 * namespace can be made (not root), that run uses the machine's own interfaces, and the test
 * fails when none but loopback exists: it never passes without checking WebRTC.
 */
import '../../src/lib/mesh/polyfills.node.js';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import type { NodeMeshNode } from '../../src/lib/mesh/node.node.js';
import { buildForBrowser } from './browserBuild.js';
import { startNode, stopAll } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const TOPIC = 'outpost-test/browser';
const TEST = 'reserves a relay slot, gossips through the relay and upgrades to direct WebRTC';
/** Set in the run of this file that {@link runInNamespace} starts. */
const NESTED = 'OUTPOST_BROWSER_TEST_NESTED';
/** In a namespace of its own already (scripts/in-netns.sh), or the run started for it: the test runs here. */
const runsHere = process.env.OUTPOST_NETNS === '1' || process.env[NESTED] === '1';
const hasLanInterface = () =>
	Object.values(networkInterfaces())
		.flat()
		.some((i) => i !== undefined && !i.internal && i.family === 'IPv4');

/** One test of a vitest JSON report. */
interface ReportedTest {
	title: string;
	status: string;
	failureMessages: string[];
}

/**
 * Runs this file again under scripts/in-netns.sh (vitest's JSON report to a file); returns
 * its tests as reported, its exit code and its output.
 */
async function runInNamespace(timeoutMs: number): Promise<{ tests: ReportedTest[]; code: number | null; output: string }> {
	const root = fileURLToPath(new URL('../..', import.meta.url));
	const dir = await mkdtemp(join(tmpdir(), 'outpost-browser-netns-'));
	const report = join(dir, 'report.json');
	// The nested vitest is a run of its own, not a worker of this one.
	const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VITEST')));
	env[NESTED] = '1';
	const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
	const args = [process.execPath, vitest, 'run', 'tests/mesh/browser.test.ts', '--reporter=json', `--outputFile=${report}`];
	const child = spawn(join(root, 'scripts', 'in-netns.sh'), args, { cwd: root, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
	let output = '';
	child.stdout.on('data', (data: Buffer) => (output += data.toString()));
	child.stderr.on('data', (data: Buffer) => (output += data.toString()));
	const timer = setTimeout(() => {
		if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL'); // its process group: vitest and its workers
	}, timeoutMs);
	try {
		const code = await new Promise<number | null>((resolve, reject) => {
			child.on('error', reject);
			child.on('close', resolve);
		});
		const parsed = existsSync(report)
			? (JSON.parse(await readFile(report, 'utf8')) as { testResults: { assertionResults: ReportedTest[] }[] })
			: { testResults: [] };
		return { tests: parsed.testResults.flatMap((file) => file.assertionResults), code, output };
	} finally {
		clearTimeout(timer);
		await rm(dir, { recursive: true, force: true });
	}
}

describe.skipIf(!existsSync(CHROMIUM) || runsHere)('the browser node in Chromium, in a network namespace of its own', () => {
	it('passes the test below run under scripts/in-netns.sh', async () => {
		const { tests, code, output } = await runInNamespace(110_000);
		const outcome = tests
			.filter((t) => t.title === TEST)
			.map((t) => ({ status: t.status, failures: t.failureMessages.map((m) => m.split('\n')[0]) }));
		expect(outcome, output.slice(-3000)).toEqual([{ status: 'passed', failures: [] }]);
		expect(code, output.slice(-3000)).toBe(0);
	}, 120_000);
});

/** Runs `body` (an async function body, as text) in the page; text keeps the transpiler's helpers out. */
function inPage<T>(page: Page, body: string): Promise<T> {
	return page.evaluate(`(async () => { ${body} })()`) as Promise<T>;
}

describe.skipIf(!existsSync(CHROMIUM) || !runsHere)('the browser node in Chromium', () => {
	let relay: NodeMeshNode;
	let http: Server;
	let browser: Browser;
	const pages: Page[] = [];

	beforeAll(async () => {
		const entry = fileURLToPath(new URL('./browserEntry.ts', import.meta.url));
		const [chunk] = await buildForBrowser(entry);
		relay = await startNode({ relayServer: true, listen: ['/ip4/127.0.0.1/tcp/0/ws'] });
		relay.services.pubsub.subscribe(TOPIC); // a relay forwards only topics it is in
		http = createServer((req, res) => {
			const js = req.url === '/mesh.js';
			res.setHeader('content-type', js ? 'text/javascript' : 'text/html');
			res.end(js ? chunk!.code : '<!doctype html><title>mesh</title>');
		});
		await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
		const { port } = http.address() as { port: number };
		browser = await chromium.launch({
			executablePath: CHROMIUM,
			args: ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
		});
		for (let i = 0; i < 2; i++) {
			const page = await (await browser.newContext()).newPage();
			await page.goto(`http://127.0.0.1:${port}/`);
			pages.push(page);
		}
	}, 30_000);

	afterAll(async () => {
		await browser?.close();
		await new Promise<void>((resolve) => (http ? http.close(() => resolve()) : resolve()));
		await stopAll();
	}, 15_000);

	it(TEST, async () => {
		const relayAddress = relay.getMultiaddrs()[0]!.toString();
		const started = await Promise.all(
			pages.map((page) =>
				inPage<{ addrs: string[]; ms: number }>(
					page,
					`const m = await import('/mesh.js');
					const t0 = performance.now();
					const node = await m.createMeshNode({ privateKey: await m.generateKeyPair('Ed25519'), bootstrap: [${JSON.stringify(relayAddress)}] });
					globalThis.mesh = { m, node, got: [] };
					node.services.pubsub.addEventListener('message', (e) => globalThis.mesh.got.push(new TextDecoder().decode(e.detail.data)));
					node.services.pubsub.subscribe(${JSON.stringify(TOPIC)});
					const deadline = Date.now() + 10000;
					while (!node.getMultiaddrs().some((a) => a.toString().includes('/p2p-circuit')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
					return { addrs: node.getMultiaddrs().map(String), ms: performance.now() - t0 };`
				)
			)
		);
		for (const s of started) expect(s.addrs.some((addr) => addr.includes('/p2p-circuit/webrtc/p2p/'))).toBe(true);
		console.log(`relay reservation in Chromium: ${started.map((s) => `${s.ms.toFixed(0)} ms`).join(', ')}`);

		const message = 'hello through the relay';
		const publishAndWait = async (text: string) => {
			await inPage(pages[0]!, `await globalThis.mesh.node.services.pubsub.publish(${JSON.stringify(TOPIC)}, new TextEncoder().encode(${JSON.stringify(text)}));`);
			return inPage<string[]>(
				pages[1]!,
				`const deadline = Date.now() + 10000;
				while (!globalThis.mesh.got.includes(${JSON.stringify(text)}) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
				return globalThis.mesh.got;`
			);
		};
		// Gossip meshes form on heartbeats: publish again until B has it (bounded).
		let got: string[] = [];
		for (let i = 0; i < 5 && !got.includes(message); i++) got = await publishAndWait(message);
		expect(got).toContain(message);

		expect(hasLanInterface(), 'WebRTC needs a network interface other than loopback: run as root, so scripts/in-netns.sh can make one').toBe(true);
		const target = started[0]!.addrs.find((addr) => addr.includes('/p2p-circuit/webrtc/p2p/'))!;
		const dial = await inPage<{ kind: string; ms: number; retries: string[] }>(
			pages[1]!,
			`const { m, node } = globalThis.mesh; const t0 = performance.now(); const retries = [];
			const c = await m.dialWithRetry(node, m.multiaddr(${JSON.stringify(target)}), { firstTimeoutMs: 2000, onRetry: (e) => retries.push(e.error.name) });
			return { kind: m.linkKind(c.remoteAddr), ms: performance.now() - t0, retries };`
		);
		console.log(`direct WebRTC dial: ${dial.ms.toFixed(0)} ms, retried after: ${JSON.stringify(dial.retries)}`);
		expect(dial.kind).toBe('webrtc');
	}, 45_000);
});
