/**
 * Benchmark: one-way latency of a live Yjs update between two Chromium pages (separate
 * browser contexts), side by side in one run:
 *
 * - `y-webrtc+password` and `y-webrtc`: y-webrtc providers signalling through the relay's `/y-webrtc`;
 * - `outpost`: two browser mesh nodes bootstrapped to the relay, directly connected over
 *   WebRTC, each running a MeshService over in-memory documents of one workspace;
 * - `raw`: a length-prefixed libp2p stream over that same WebRTC connection (the floor).
 *
 *   npm run bench:sync-latency
 *
 * WebRTC needs a network interface other than loopback, so the bench re-runs itself through
 * scripts/in-netns.sh (a network namespace of its own; nothing leaves the machine) and starts
 * the relay there on OUTPOST_LAN_IP. The pages load from http://127.0.0.1 (a secure context,
 * cross-origin isolated for 5 µs timers). Times are taken inside the pages; see
 * syncLatencyBrowser.ts. Prints a table and writes bench/results/sync-latency.json. Figures
 * only: exits 0 unless the benchmark itself fails; stops itself after BENCH_TIMEOUT_S.
 *
 * Environment: BENCH_UPDATES (measured updates per path, default 400), BENCH_ROUNDS
 * (interleaved rounds they are split into, default 4), BENCH_INTERVAL_MS (default 10),
 * BENCH_TIMEOUT_S (default 240).
 */
import '../src/lib/mesh/polyfills.node.ts'; // before anything that loads libp2p
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { runRelay } from '../relay/run.ts';
import type { RunningRelay } from '../relay/run.ts';
import { SIGNALLING_PATH } from '../relay/signalling.ts';
import * as Y from 'yjs';
import { newId } from '../src/lib/doc/ids.ts';
import { WorkspaceDoc } from '../src/lib/doc/WorkspaceDoc.ts';
import { newSecret } from '../src/lib/mesh/secret.ts';
import { generateKeyPair, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { signTeamOp } from '../src/lib/doc/team/sign.ts';
import { newTeamNonce, teamWorkspaceId } from '../src/lib/doc/team/teamId.ts';
import { toHex } from '../src/lib/mesh/workspaceKeys.ts';
import { buildForBrowser } from '../tests/mesh/browserBuild.ts';
import type { Target } from './syncLatencyBrowser.ts';
import { profilePage } from './syncLatencyProfile.ts';
import type { ProfileSummary } from './syncLatencyProfile.ts';
import { formatReport, latencies, outpostBreakdown, phases, summarizeMs } from './syncLatencyReport.ts';
import type { TargetResult } from './syncLatencyReport.ts';
import { positiveInt, CHROMIUM_ARGS, benchEnvironment } from './env.ts';

const here = dirname(fileURLToPath(import.meta.url));

/** Two device keys (protobuf, hex) and the signed team they form: A creates, A adds B. */
async function benchTeam(): Promise<{ workspaceId: string; keysHex: [string, string]; opsHex: string[] }> {
	const [a, b] = [await generateKeyPair('Ed25519'), await generateKeyPair('Ed25519')];
	const [idA, idB] = [peerIdFromPrivateKey(a).toString(), peerIdFromPrivateKey(b).toString()];
	const nonce = newTeamNonce();
	const workspaceId = teamWorkspaceId(idA, nonce);
	const create = await signTeamOp(a, idA, { ws: workspaceId, prev: [], at: Date.now() }, { t: 'create', nonce, name: 'A' });
	const add = await signTeamOp(a, idA, { ws: workspaceId, prev: [create.id], at: Date.now() }, { t: 'add', member: idB, role: 'member', name: 'B' });
	return { workspaceId, keysHex: [toHex(privateKeyToProtobuf(a)), toHex(privateKeyToProtobuf(b))], opsHex: [create, add].map((op) => toHex(op.bytes)) };
}
const root = resolve(here, '..');
const UPDATES = positiveInt('BENCH_UPDATES', 400);
const ROUNDS = positiveInt('BENCH_ROUNDS', 4);
const INTERVAL_MS = positiveInt('BENCH_INTERVAL_MS', 10);
const TIMEOUT_S = positiveInt('BENCH_TIMEOUT_S', 240);
const WARMUP = 30;
/** Profile one extra (unmeasured) run of each libp2p path on both pages; BENCH_PROFILE=0 skips it. */
const PROFILE = process.env.BENCH_PROFILE !== '0';
const PROFILE_UPDATES = 200;
const TARGETS: Target[] = ['y-webrtc+password', 'y-webrtc', 'outpost', 'raw'];
/** The measured paths: each target, and Outpost once more with gossip publishing off (diagnostic). */
const PATHS: Array<{ label: string; target: Target; gossip?: false }> = [
	...TARGETS.map((target) => ({ label: target, target })),
	{ label: 'outpost, no gossip', target: 'outpost', gossip: false }
];
const log = (line: string) => console.log(line);
const ms = (x: number) => `${x.toFixed(0)} ms`;

type Bench = typeof import('./syncLatencyBrowser.ts');
type Fn = { [K in keyof Bench]: Bench[K] extends (...args: never[]) => unknown ? K : never }[keyof Bench];

/** Calls the page's bench module (a string expression: no transpiler helpers cross over). */
async function call<K extends Fn>(page: Page, fn: K, ...args: Parameters<Bench[K]>): Promise<Awaited<ReturnType<Bench[K]>>> {
	const expression = `globalThis.bench[${JSON.stringify(fn)}](...${JSON.stringify(args)})`;
	return (await page.evaluate(expression)) as Awaited<ReturnType<Bench[K]>>;
}

/** Serves the page and the bundle on 127.0.0.1, cross-origin isolated (5 µs performance.now()). */
async function servePage(chunks: Map<string, string>): Promise<{ server: Server; url: string }> {
	const server = createServer((req, res) => {
		const path = (req.url ?? '/').split('?', 1)[0]!;
		const js = chunks.get(path.slice(1));
		res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
		res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
		res.setHeader('Content-Type', js !== undefined ? 'text/javascript' : 'text/html');
		res.end(js ?? '<!doctype html><title>sync latency</title>');
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as { port: number };
	return { server, url: `http://127.0.0.1:${port}/` };
}

/** One profiled run of `outpost` and of `raw` (not part of the figures), both pages profiled. */
async function profileRuns(sender: Page, receiver: Page): Promise<Array<{ label: string; file: string; summary: ProfileSummary }>> {
	const out: Array<{ label: string; file: string; summary: ProfileSummary }> = [];
	const dir = join(root, 'bench', 'results');
	await mkdir(dir, { recursive: true });
	for (const [index, target] of (['outpost', 'raw'] as const).entries()) {
		const from = 900_000 + index * 10_000;
		const run = async () => {
			await call(sender, 'send', target, { count: PROFILE_UPDATES, intervalMs: INTERVAL_MS, from });
			await call(receiver, 'collect', target, { count: PROFILE_UPDATES, from, timeoutMs: 5000 });
		};
		// Both pages at once: the receiver's profile wraps the sender's.
		const received = await profilePage(receiver, () => profilePage(sender, run));
		for (const [side, p] of [['receiver', received], ['sender', received.result]] as const) {
			const file = join(dir, `sync-latency-${target}-${side}.cpuprofile`);
			await writeFile(file, JSON.stringify(p.profile));
			out.push({ label: `${target}, ${side}`, file: file.slice(root.length + 1), summary: p.summary });
		}
	}
	return out;
}

async function main(): Promise<void> {
	const started = performance.now();
	const lanIp = process.env.OUTPOST_LAN_IP;
	if (process.env.OUTPOST_NETNS !== '1') log('warning: not in a network namespace; WebRTC needs a non-loopback interface');
	const tmp = await mkdtemp(join(os.tmpdir(), 'outpost-sync-latency-'));
	let relay: RunningRelay | undefined;
	let page: { server: Server; url: string } | undefined;
	let browser: Browser | undefined;
	try {
		const chunks = await buildForBrowser(join(here, 'syncLatencyBrowser.ts'));
		const entry = chunks.find((c) => c.isEntry)?.fileName;
		if (entry === undefined) throw new Error('the browser build has no entry chunk');
		page = await servePage(new Map(chunks.map((c) => [c.fileName, c.code])));
		log(`Bundle built (${(chunks.reduce((n, c) => n + c.code.length, 0) / 1024).toFixed(0)} KiB) in ${ms(performance.now() - started)}`);

		await mkdir(join(tmp, 'www'));
		const host = lanIp ?? '127.0.0.1';
		relay = await runRelay({ root: join(tmp, 'www'), dataDir: join(tmp, 'relay'), host, port: 0, secure: false, mdns: false, lanIps: [], log: () => {} });
		const relayAddr = relay.info().multiaddrs[0];
		if (relayAddr === undefined) throw new Error('the relay has no WebSocket address');
		const signalling = `ws://${host}:${relay.server.port}${SIGNALLING_PATH}`;
		log(`Relay on ${host}: ${relayAddr}, signalling ${signalling}`);

		browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, headless: true, timeout: 60_000 });
		const [a, b] = await Promise.all(
			['A', 'B'].map(async (name) => {
				const p = await (await browser!.newContext()).newPage();
				p.on('pageerror', (error) => log(`  page ${name} error: ${error.message}`));
				await p.goto(page!.url + '');
				await p.evaluate(`import('/${entry}').then((m) => { globalThis.bench = m; return crossOriginIsolated; })`);
				return p;
			})
		);
		const sender = a!;
		const receiver = b!;

		// Outpost: nodes, mesh services, then B dials A directly (B opens the sync sessions).
		// The pages are the two member devices of a signed team (A created it and added B).
		const team = await benchTeam();
		const docId = newId();
		// The root listing the note, made once here and given to both pages: a listing is made once
		// (rootPolicy.ts), and two pages each making their own would overwrite each other's.
		const rootDoc = new Y.Doc();
		new WorkspaceDoc(rootDoc).createNote({ id: docId, title: 'bench', createdAt: 0, updatedAt: 0 });
		const workspace = { workspaceId: team.workspaceId, secretHex: toHex(newSecret()), docId, teamOpsHex: team.opsHex, rootHex: toHex(Y.encodeStateAsUpdate(rootDoc)) };
		const [nodeA, nodeB] = await Promise.all([
			call(sender, 'startNode', relayAddr, 15_000, team.keysHex[0]),
			call(receiver, 'startNode', relayAddr, 15_000, team.keysHex[1])
		]);
		log(`Relay reservations: A ${ms(nodeA.ms)}, B ${ms(nodeB.ms)}`);
		await Promise.all([call(sender, 'startMesh', workspace), call(receiver, 'startMesh', workspace)]);
		const dial = await call(receiver, 'dialDirect', nodeA.webrtcAddr);
		log(`Direct dial B → A: ${dial.kind} in ${ms(dial.ms)}${dial.retries.length > 0 ? ` (retried after ${dial.retries.join(', ')})` : ''}`);
		if (dial.kind !== 'webrtc') throw new Error(`the direct dial gave a ${dial.kind} connection`);
		await call(receiver, 'openRaw');

		// y-webrtc, with and without a password, signalling through the relay.
		const room = `bench-${newId()}`;
		for (const target of ['y-webrtc+password', 'y-webrtc'] as const) {
			const password = target === 'y-webrtc+password' ? { password: toHex(newSecret()) } : {};
			const init = { target, room: `${room}-${target}`, signaling: signalling, attemptMs: 6000, attempts: 3, ...password };
			const [joinA, joinB] = await Promise.all([call(sender, 'yWebrtcJoin', init), call(receiver, 'yWebrtcJoin', init)]);
			const retried = Math.max(joinA.attempts, joinB.attempts) > 1 ? ` (after ${Math.max(joinA.attempts, joinB.attempts) - 1} fresh start)` : '';
			log(`${target}: connected in ${ms(Math.max(joinA.ms, joinB.ms))}${retried}`);
		}

		const before = await call(receiver, 'meshInfo', workspace.workspaceId);
		const sessionLinks = before.connections.filter((c) => !c.startsWith('direct') && !c.includes('(0 sync'));
		const sessionOn = sessionLinks.map((c) => c.split(' ', 1)[0]).join('+') || 'none';
		log(`Outpost's sync session with the other page runs over: ${sessionOn} (B: ${before.connections.join('; ')})`);
		log(`  B's sync streams after the dial: ${before.streamLog.join(' → ')}`);
		if (sessionOn !== 'webrtc') {
			log('  warning: not over the direct WebRTC connection, so Outpost\'s live updates take the relay; see the report');
		}
		for (const target of TARGETS) await call(receiver, 'watch', target);
		for (const target of TARGETS) {
			await call(sender, 'send', target, { count: WARMUP, intervalMs: INTERVAL_MS, from: 0 });
			const got = await call(receiver, 'collect', target, { count: WARMUP, from: 0, timeoutMs: 10_000 });
			if (got.length < WARMUP) throw new Error(`${target}: only ${got.length} of ${WARMUP} warm-up updates arrived`);
		}
		log(`Warm-up done (${WARMUP} updates per path); measuring ${UPDATES} per path in ${ROUNDS} interleaved rounds…`);

		const results = PATHS.map((path): TargetResult => ({ ...path, sent: 0, samples: [], copies: [], senderCost: [], phases: [] }));
		const perRound = Math.ceil(UPDATES / ROUNDS);
		for (let round = 0; round < ROUNDS; round++) {
			// Rotate the order so no path always runs first (or right after another).
			const order = results.map((_, i) => (i + round) % results.length);
			for (const index of order) {
				const r = results[index]!;
				const from = 1000 + index * 100_000 + round * perRound;
				const gossip = PATHS[index]!.gossip ?? true;
				await Promise.all([call(sender, 'setGossipPublish', gossip), call(receiver, 'setGossipPublish', gossip)]);
				await Promise.all([call(sender, 'startTrace'), call(receiver, 'startTrace'), call(receiver, 'resetCopies')]);
				const cost = await call(sender, 'send', r.target, { count: perRound, intervalMs: INTERVAL_MS, from });
				const samples = await call(receiver, 'collect', r.target, { count: perRound, from, timeoutMs: 5000 });
				const [sendTrace, receiveTrace] = await Promise.all([call(sender, 'takeTrace'), call(receiver, 'takeTrace')]);
				r.sent += perRound;
				r.samples.push(...samples);
				r.phases.push(...phases(samples, sendTrace, receiveTrace, INTERVAL_MS));
				r.senderCost!.push(cost);
				if (r.target === 'outpost') r.copies!.push(...(await call(receiver, 'copies')));
			}
			log(`  round ${round + 1}/${ROUNDS}: ${results.map((r) => `${r.label} ${summarizeMs(latencies(r.samples)).p50.toFixed(2)}`).join(', ')} (p50 so far)`);
		}
		await Promise.all([call(sender, 'setGossipPublish', true), call(receiver, 'setGossipPublish', true)]);

		const info = { A: await call(sender, 'meshInfo', workspace.workspaceId), B: await call(receiver, 'meshInfo', workspace.workspaceId) };
		for (const [name, i] of Object.entries(info)) {
			log(`Page ${name}: connections ${i.connections.join('; ')}; sync states ${i.statusLog.join(', ')}${i.errors.length > 0 ? `; mesh errors: ${i.errors.join(' | ')}` : ''}`);
		}

		const micro = await call(receiver, 'microCosts', { count: 200, rounds: 5, history: 2000 });
		const profiles = PROFILE ? await profileRuns(sender, receiver) : [];
		const ordered = results;
		log('');
		log(formatReport(ordered, INTERVAL_MS, micro));
		for (const p of profiles) {
			log(`\nCPU profile, ${p.label} (${PROFILE_UPDATES} updates; busy ${p.summary.busyMs.toFixed(0)} ms; self time):`);
			for (const f of p.summary.top.slice(0, 12)) log(`  ${f.ms.toFixed(1).padStart(7)} ms ${(f.share * 100).toFixed(0).padStart(3)}%  ${f.name}`);
		}
		const file = join(root, 'bench', 'results', 'sync-latency.json');
		await mkdir(dirname(file), { recursive: true });
		const json = {
			date: new Date().toISOString(),
			updates: UPDATES,
			rounds: ROUNDS,
			intervalMs: INTERVAL_MS,
			environment: benchEnvironment(browser.version()),
			setup: { reservationMs: [nodeA.ms, nodeB.ms], directDial: dial, sessionOn, mesh: info },
			microCostsUs: micro,
			profiles: profiles.map((p) => ({ label: p.label, file: p.file, ...p.summary })),
			results: ordered.map((r) => ({
				label: r.label,
				target: r.target,
				sent: r.sent,
				summary: summarizeMs(latencies(r.samples)),
				split: {
					n: r.phases.length,
					senderMs: summarizeMs(r.phases.map((p) => p.sender)),
					wireMs: summarizeMs(r.phases.map((p) => p.wire)),
					receiverMs: summarizeMs(r.phases.map((p) => p.receiver))
				},
				senderCost: r.senderCost,
				...(r.target === 'outpost' ? { breakdown: outpostBreakdown(r) } : {}),
				latenciesMs: latencies(r.samples).map((x) => Math.round(x * 1000) / 1000)
			}))
		};
		await writeFile(file, JSON.stringify(json, null, '\t') + '\n');
		log(`\nWrote ${file.slice(root.length + 1)} (total ${(performance.now() - started) / 1000 | 0} s)`);
	} finally {
		await browser?.close().catch(() => undefined);
		await relay?.close().catch(() => undefined);
		await new Promise<void>((resolve) => (page ? page.server.close(() => resolve()) : resolve()));
		await rm(tmp, { recursive: true, force: true });
	}
}

/** Runs the bench inside a network namespace of its own (scripts/in-netns.sh), once. */
function reexecInNetns(): void {
	const child = spawn(join(root, 'scripts', 'in-netns.sh'), [process.execPath, '--import', 'tsx', fileURLToPath(import.meta.url)], {
		stdio: 'inherit',
		env: { ...process.env, BENCH_SYNC_LATENCY_CHILD: '1' }
	});
	child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

if (process.env.OUTPOST_NETNS !== '1' && process.env.BENCH_SYNC_LATENCY_CHILD !== '1') {
	reexecInNetns();
} else {
	const watchdog = setTimeout(() => {
		console.error(`bench stopped: still running after ${TIMEOUT_S} s (BENCH_TIMEOUT_S)`);
		process.exit(2);
	}, TIMEOUT_S * 1000);
	main().then(
		() => {
			clearTimeout(watchdog);
			// libp2p and vite may leave handles behind; the figures are written.
			process.exit(0);
		},
		(error: unknown) => {
			console.error('bench failed:', error instanceof Error ? (error.stack ?? error.message) : error);
			process.exit(1);
		}
	);
}
