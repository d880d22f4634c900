/**
 * Benchmark: how soon a device is synced after opening the app, in real Chromium against a
 * relay process that archives the workspace.
 *
 *   npm run bench:connect               (builds the app first)
 *   node --import tsx bench/connect.ts  (uses the existing build/)
 *
 * Runs inside a network namespace of its own (re-executes itself through
 * scripts/in-netns.sh; WebRTC needs a non-loopback interface). Starts a relay process on
 * 127.0.0.1 serving build/, then measures, each for several rounds:
 *
 * 1. **Returning member.** A persistent profile made a workspace, posted and added it to
 *    the relay (through the UI). Each round another device (a second persistent profile)
 *    writes a few messages while the first is closed, then closes; the first profile is
 *    reopened: ms from navigation start to the mesh's marks (start, node started, relay
 *    connected, synced) and to the new message being in the DOM / the frame after.
 * 2. **New device.** A fresh context opens `<relay>/#invite?…` (the Join dialog opens
 *    prefilled), waits until its node is connected to the relay (a person takes longer to
 *    type a name), types a display name and presses Join: ms from the click to the marks,
 *    to the channel list and to the last message. Only the relay is online then.
 * 3. **Baseline.** y-webrtc's first sync between two pages (separate contexts, password,
 *    the relay's /y-webrtc signalling, no ICE servers; bench/connectBaseline.ts served from
 *    127.0.0.1): ms from the second page's navigation start to its first `synced`.
 *
 * Every time is taken inside the page (performance.now() since navigation start). The page
 * also records its WebSocket frames, fetches and long tasks; the last round of (1) and (2) is
 * printed as a timeline, to show where the time between the marks goes. Prints a table and
 * writes bench/results/connect.json. Figures only: it never asserts, and exits 0 unless the
 * benchmark itself fails. Environment: BENCH_ROUNDS (default 5), BENCH_CONNECT_PORT
 * (default 4380; it also uses the next three ports), BENCH_CONNECT_DEBUG (libp2p debug
 * namespaces, e.g. `libp2p:*`, logged with page times into the JSON; slows the page).
 */
import { spawn } from 'node:child_process';
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { startRelayProcess, type RelayProcess } from '../tests/e2e/relays.js';
import { installConnectProbe, MESH_MARKS, readProbe, waitMeshMarks, waitSeen } from './connectProbe.js';
import {
	formatConnect,
	formatTrace,
	summarizeRounds,
	type BaselineRound,
	type ConnectResults,
	type NewDeviceRound,
	type ReturningRound,
	type Trace
} from './connectReport.js';
import {
	archiveAndInvite,
	CHROMIUM_ARGS,
	inviteOn,
	joinPrefilled,
	NAME_SHIM,
	post,
	Profile,
	SYNC_TIMEOUT_MS,
	VIEWPORT,
	waitMark
} from './connectSteps.js';
import { baselineRound, serveBaseline } from './connectYWebrtc.js';
import { createWorkspace, STEP_TIMEOUT_MS, waitCurrent } from './ui.js';
import { positiveInt, benchEnvironment } from './env.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ROUNDS = positiveInt('BENCH_ROUNDS', 5);
const PORT = positiveInt('BENCH_CONNECT_PORT', 4380);
/** Messages the other device writes per round (few: the message list is windowed). */
const PER_ROUND = 2;
/** The whole run is stopped after this long. */
const RUN_TIMEOUT_MS = 8 * 60_000;
/** libp2p debug namespaces to log in the returning member's page (diagnosis; slows it down). */
const DEBUG = process.env.BENCH_CONNECT_DEBUG;
const WORKSPACE = 'Bench';
const CHANNEL = 'general';
const log = (line: string) => console.log(line);
const ms = (x: number | undefined) => (x === undefined ? 'n/a' : `${Math.round(x)}`);
const secs = (x: number) => `${(x / 1000).toFixed(1)} s`;

/** Setup: the member makes and archives the workspace; the writer joins it once. */
async function setUp(relay: RelayProcess, member: Profile, writer: Profile): Promise<{ invite: string; texts: string[] }> {
	const page = await member.open(relay.url + '/');
	await page.getByRole('button', { name: 'New workspace' }).first().waitFor();
	await createWorkspace(page, WORKSPACE);
	const invite = inviteOn(relay, await archiveAndInvite(page));
	// The relay syncs the workspace from this page once archived: wait for that before closing.
	if (!(await waitMark(page, MESH_MARKS.synced, SYNC_TIMEOUT_MS))) throw new Error('the relay did not sync the archived workspace');
	const texts = ['first message of the bench', 'second message of the bench', 'third message of the bench'];
	for (const text of texts) await post(page, text);
	await page.waitForTimeout(1000);
	await member.close();

	const w = await writer.open(invite);
	await joinPrefilled(w, 'Writer');
	await waitCurrent(w, CHANNEL, SYNC_TIMEOUT_MS);
	await w.getByRole('main').getByRole('article').filter({ hasText: texts.at(-1)! }).first().waitFor({ timeout: SYNC_TIMEOUT_MS });
	await writer.close();
	return { invite, texts };
}

/** The writer reopens, syncs, writes `texts` and closes (the relay keeps them). */
async function writeWhileAway(relay: RelayProcess, writer: Profile, texts: string[]): Promise<void> {
	const page = await writer.open(relay.url + '/');
	try {
		await waitCurrent(page, CHANNEL, SYNC_TIMEOUT_MS);
		if (!(await waitMark(page, MESH_MARKS.synced, SYNC_TIMEOUT_MS))) throw new Error('the writer did not sync with the relay');
		for (const text of texts) await post(page, text);
		// The updates go to the relay as they are made; give it a moment before closing.
		await page.waitForTimeout(1000);
	} finally {
		await writer.close();
	}
}

/** (1) One reopening of the member's profile. */
async function returningRound(relay: RelayProcess, member: Profile, text: string): Promise<{ round: ReturningRound; trace: Trace }> {
	const page = await member.open(relay.url + '/', { text, channel: CHANNEL, ...(DEBUG ? { debug: DEBUG } : {}) });
	try {
		if (!(await waitSeen(page, 'message', SYNC_TIMEOUT_MS))) log('  (the new message did not show within the timeout)');
		await waitMeshMarks(page, 5000);
		const { times, marks, resources, navigation } = await readProbe(page);
		const round: ReturningRound = {
			meshStart: marks.start,
			nodeStarted: marks.node,
			relayConnected: marks.relay,
			synced: marks.synced,
			openStart: marks.openStart,
			openPainted: marks.openPainted,
			messageDom: times.messageDom,
			messageFrame: times.messageFrame
		};
		const trace: Trace = { ws: times.ws, longTasks: times.longTasks, resources, ...(navigation ? { navigation } : {}), ...(times.console ? { console: times.console } : {}) };
		return { round, trace };
	} finally {
		await member.close();
	}
}

/** (2) One join by a fresh device with only the relay online. */
async function newDeviceRound(browser: Browser, invite: string, text: string, i: number): Promise<{ round: NewDeviceRound; trace: Trace }> {
	const context = await browser.newContext({ locale: 'en-US', viewport: VIEWPORT });
	try {
		await context.addInitScript({ content: NAME_SHIM });
		await context.addInitScript(installConnectProbe, { text, channel: CHANNEL });
		const page = await context.newPage();
		page.setDefaultTimeout(STEP_TIMEOUT_MS);
		page.on('pageerror', (error) => log(`  page error: ${error.message}`));
		await page.goto(invite, { timeout: STEP_TIMEOUT_MS });
		await page.getByRole('dialog', { name: 'Join a workspace' }).waitFor();
		const dialogMs = await page.evaluate(() => performance.now());
		// A person reads the dialog and types a name for seconds: join once the node is on the relay.
		if (!(await waitMark(page, MESH_MARKS.relay, SYNC_TIMEOUT_MS))) log('  (not connected to the relay before Join)');
		await joinPrefilled(page, `Newcomer ${i}`);
		if (!(await waitSeen(page, 'message', SYNC_TIMEOUT_MS))) log('  (the last message did not show within the timeout)');
		await waitSeen(page, 'channels', 2000);
		await waitMeshMarks(page, 5000);
		const { times, marks } = await readProbe(page);
		const click = times.joinClick;
		if (click === undefined) throw new Error('the click on Join was not seen in the page');
		const since = (t: number | undefined) => (t === undefined ? undefined : t - click);
		// The trace keeps page times, shifted so that the click is 0.
		const trace: Trace = {
			ws: times.ws.map((e) => ({ ...e, t: e.t - click })),
			longTasks: times.longTasks.map((x) => ({ ...x, start: x.start - click }))
		};
		const round: NewDeviceRound = {
			dialogMs,
			meshStart: since(marks.start),
			nodeStarted: since(marks.node),
			relayConnected: since(marks.relay),
			synced: since(marks.synced),
			channelsDom: since(times.channelsDom),
			channelsFrame: since(times.channelsFrame),
			messageDom: since(times.messageDom),
			messageFrame: since(times.messageFrame)
		};
		return { round, trace };
	} finally {
		await context.close().catch(() => undefined);
	}
}

/** The last round of (1) and of (2) as timelines: where the time between the marks goes. */
function timelines(results: ConnectResults): string {
	const out: string[] = [];
	const r = results.returning.at(-1);
	const rt = results.traces.returning.at(-1);
	if (r && rt) {
		out.push('Last returning round, ms since navigation start (WebSocket frames, long tasks, marks):');
		out.push(
			formatTrace(rt, 0, (r.messageFrame ?? r.synced ?? 0) + 50, {
				'channel open start': r.openStart,
				'channel painted': r.openPainted,
				'mesh start': r.meshStart,
				'node started': r.nodeStarted,
				'relay connected': r.relayConnected,
				synced: r.synced,
				'new message in DOM': r.messageDom
			})
		);
	}
	const d = results.newDevice.at(-1);
	const dt = results.traces.newDevice.at(-1);
	if (d && dt) {
		out.push('Last new-device round, ms since the click on Join:');
		out.push(
			formatTrace(dt, -20, (d.messageFrame ?? d.synced ?? 0) + 50, {
				synced: d.synced,
				'channel list in DOM': d.channelsDom,
				'last message in DOM': d.messageDom
			})
		);
	}
	return out.join('\n');
}

async function main(): Promise<void> {
	const started = performance.now();
	try {
		await stat(join(root, 'build', '200.html'));
	} catch {
		throw new Error('build/ is missing: run `vite build` first (npm run bench:connect does)');
	}
	if (process.env.OUTPOST_NETNS !== '1') log('warning: not in a network namespace; WebRTC (the baseline) needs a non-loopback interface');

	let relay: RelayProcess | undefined;
	let browser: Browser | undefined;
	const profiles: Profile[] = [];
	const watchdog = setTimeout(() => {
		console.error(`bench: stopped after ${secs(RUN_TIMEOUT_MS)}`);
		void relay?.kill().finally(() => process.exit(1));
	}, RUN_TIMEOUT_MS);
	try {
		relay = await startRelayProcess(PORT);
		const member = await Profile.create();
		const writer = await Profile.create();
		profiles.push(member, writer);
		const { invite } = await setUp(relay, member, writer);
		log(`Relay at ${relay.url}; workspace made, archived and joined by the writer in ${secs(performance.now() - started)}`);

		const results: ConnectResults = { returning: [], newDevice: [], traces: { returning: [], newDevice: [] }, baseline: undefined };
		let last = '';
		log(`(1) Returning member (${PER_ROUND} new messages per round):`);
		for (let i = 1; i <= ROUNDS; i++) {
			const texts = Array.from({ length: PER_ROUND }, (_, k) => `round ${i} message ${k + 1} written while away`);
			await writeWhileAway(relay, writer, texts);
			last = texts.at(-1)!;
			const { round: r, trace } = await returningRound(relay, member, last);
			results.returning.push(r);
			results.traces.returning.push(trace);
			log(
				`  round ${i}: painted ${ms(r.openPainted)}, mesh start ${ms(r.meshStart)}, node ${ms(r.nodeStarted)}, ` +
					`relay ${ms(r.relayConnected)}, synced ${ms(r.synced)}, message ${ms(r.messageDom)} / frame ${ms(r.messageFrame)} ms`
			);
		}

		browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, headless: true, timeout: 60_000 });
		log('(2) New device joining with the invite link (only the relay online):');
		for (let i = 1; i <= ROUNDS; i++) {
			const { round: r, trace } = await newDeviceRound(browser, invite, last, i);
			results.newDevice.push(r);
			results.traces.newDevice.push(trace);
			log(
				`  round ${i}: dialog ${ms(r.dialogMs)} ms after navigation; from Join: relay ${ms(r.relayConnected)}, synced ${ms(r.synced)}, ` +
					`channels ${ms(r.channelsDom)}, message ${ms(r.messageDom)} / frame ${ms(r.messageFrame)} ms`
			);
		}

		log('(3) y-webrtc first sync (baseline):');
		try {
			const served = await serveBaseline();
			try {
				const rounds: BaselineRound[] = [];
				for (let i = 1; i <= ROUNDS; i++) {
					const r = await baselineRound(browser, relay, served.url, i);
					rounds.push(r);
					log(`  round ${i}: signalling ${ms(r.signalling)}, synced ${ms(r.synced)} ms`);
				}
				results.baseline = rounds;
			} finally {
				await served.close();
			}
		} catch (error) {
			results.baselineNote = `failed: ${error instanceof Error ? error.message : String(error)}`;
			log(`  ${results.baselineNote}`);
		}

		log('');
		log(formatConnect(results));
		log('');
		log(timelines(results));
		const file = join(root, 'bench', 'results', 'connect.json');
		await mkdir(dirname(file), { recursive: true });
		const json = {
			date: new Date().toISOString(),
			rounds: ROUNDS,
			environment: benchEnvironment(browser.version()),
			units: {
				returning: 'ms since navigation start',
				newDevice: 'ms since the click on Join (dialogMs: since navigation start)',
				baseline: "ms since the second page's navigation start"
			},
			results,
			summary: {
				returning: summarizeRounds(results.returning),
				newDevice: summarizeRounds(results.newDevice),
				baseline: results.baseline && summarizeRounds(results.baseline)
			}
		};
		await writeFile(file, JSON.stringify(json, null, '\t') + '\n');
		log(`\nWrote ${file.slice(root.length + 1)} (total ${secs(performance.now() - started)})`);
	} finally {
		clearTimeout(watchdog);
		await browser?.close().catch(() => undefined);
		for (const profile of profiles) await profile.remove().catch(() => undefined);
		await relay?.kill().catch(() => undefined);
		await rm(relay?.dataDir ?? '', { recursive: true, force: true }).catch(() => undefined);
	}
}

/** Re-runs this file inside a network namespace (scripts/in-netns.sh) unless already there. */
function inNetns(): Promise<number> {
	return new Promise((done, fail) => {
		const child = spawn(join(root, 'scripts', 'in-netns.sh'), [process.execPath, '--import', 'tsx', fileURLToPath(import.meta.url)], {
			cwd: root,
			stdio: 'inherit',
			env: { ...process.env, BENCH_CONNECT_INNER: '1' }
		});
		child.once('error', fail);
		child.once('exit', (code, signal) => done(code ?? (signal ? 1 : 0)));
	});
}

const run = process.env.OUTPOST_NETNS === '1' || process.env.BENCH_CONNECT_INNER === '1' ? main().then(() => 0) : inNetns();
run.then(
	(code) => process.exit(code),
	(error: unknown) => {
		console.error('bench failed:', error instanceof Error ? (error.stack ?? error.message) : error);
		process.exit(1);
	}
);
