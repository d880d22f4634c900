/**
 * Rounds, summaries and the printed table of the connect benchmark (bench/connect.ts).
 * Figures only: the goal ("synced within a few hundred milliseconds") is reported as
 * met / not met and never changes the exit code.
 */
import type { NavigationTimes, ProbeTimes, ResourceTime, WsEvent } from './connectProbe.js';
import { spread, type Spread } from './report.js';

/** One reopening of the returning member's profile (ms since navigation start). */
export interface ReturningRound {
	meshStart?: number;
	nodeStarted?: number;
	relayConnected?: number;
	synced?: number;
	/** The first channel-open mark and the open channel's first paint (local data on screen). */
	openStart?: number;
	openPainted?: number;
	/** The new message entered the DOM / the frame after. */
	messageDom?: number;
	messageFrame?: number;
}

/** One join by a new device (ms since the click on "Join"). */
export interface NewDeviceRound {
	/** Navigation start → the Join dialog shown (the app loaded, measured from Node). */
	dialogMs: number;
	/** Click → each mesh mark, when it came after the click (negative: before). */
	meshStart?: number;
	nodeStarted?: number;
	relayConnected?: number;
	synced?: number;
	/** Click → the workspace's channel list (its "general" link) / the last message. */
	channelsDom?: number;
	channelsFrame?: number;
	messageDom?: number;
	messageFrame?: number;
}

/** One y-webrtc first sync (ms since the second page's navigation start). */
export interface BaselineRound {
	signalling?: number;
	synced?: number;
}

/** What the page saw on the wire and on its main thread during one round. */
export type Trace = Pick<ProbeTimes, 'ws' | 'longTasks' | 'console'> & { resources?: ResourceTime[]; navigation?: NavigationTimes };

/** Everything one run measured. */
export interface ConnectResults {
	returning: ReturningRound[];
	newDevice: NewDeviceRound[];
	/** Per round of `returning` / `newDevice`: WebSocket frames and long tasks. */
	traces: { returning: Trace[]; newDevice: Trace[] };
	/** Undefined when the baseline was not run. */
	baseline: BaselineRound[] | undefined;
	baselineNote?: string;
}

/** The goal of the issue: synced within a few hundred milliseconds. */
export const GOAL_MS = 300;

type Summary<T> = { [K in keyof T]-?: Spread & { n: number } };

/** Median [min–max] of every numeric field over the rounds that have it. */
export function summarizeRounds<T extends object>(rounds: T[]): Summary<T> {
	const keys = new Set(rounds.flatMap((r) => Object.keys(r)));
	const out: Record<string, Spread & { n: number }> = {};
	for (const key of keys) {
		const xs = rounds.map((r) => (r as Record<string, unknown>)[key]).filter((x): x is number => typeof x === 'number');
		out[key] = { ...spread(xs), n: xs.length };
	}
	return out as Summary<T>;
}

const f0 = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a');
const cell = (s: (Spread & { n: number }) | undefined, rounds: number): string =>
	s === undefined || s.n === 0
		? 'n/a'
		: `${f0(s.median)} [${f0(s.min)}–${f0(s.max)}]${s.n < rounds ? ` (${s.n}/${rounds})` : ''}`;

function table(header: string[], rows: string[][]): string {
	const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
	const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ');
	return [line(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.map(line)].join('\n');
}

/** The text printed at the end of a run. */
export function formatConnect(results: ConnectResults): string {
	const out: string[] = [];
	const r = summarizeRounds<ReturningRound>(results.returning);
	const n1 = results.returning.length;
	out.push(`(1) Returning member: reopen a closed profile; ms from navigation start; median [min–max] of ${n1}`);
	out.push(
		table(
			['step', 'ms'],
			[
				['channel open start (local)', cell(r.openStart, n1)],
				['channel painted (local)', cell(r.openPainted, n1)],
				['mesh start', cell(r.meshStart, n1)],
				['node started', cell(r.nodeStarted, n1)],
				['relay connected', cell(r.relayConnected, n1)],
				['synced (relay archive)', cell(r.synced, n1)],
				['new message in DOM', cell(r.messageDom, n1)],
				['new message, next frame', cell(r.messageFrame, n1)]
			]
		)
	);
	out.push('');
	const d = summarizeRounds<NewDeviceRound>(results.newDevice);
	const n2 = results.newDevice.length;
	out.push(`(2) New device: invite link in the URL, "Join" pressed; ms from the click; median [min–max] of ${n2}`);
	out.push(
		table(
			['step', 'ms'],
			[
				['(navigation → Join dialog shown)', cell(d.dialogMs, n2)],
				['mesh start (− = before the click)', cell(d.meshStart, n2)],
				['node started', cell(d.nodeStarted, n2)],
				['relay connected', cell(d.relayConnected, n2)],
				['synced (relay archive)', cell(d.synced, n2)],
				['channel list in DOM', cell(d.channelsDom, n2)],
				['last message in DOM', cell(d.messageDom, n2)],
				['last message, next frame', cell(d.messageFrame, n2)]
			]
		)
	);
	out.push('');
	if (results.baseline === undefined) {
		out.push(`(3) y-webrtc baseline: not run (${results.baselineNote ?? 'skipped'})`);
	} else {
		const b = summarizeRounds<BaselineRound>(results.baseline);
		const n3 = results.baseline.length;
		out.push(`(3) y-webrtc baseline (password, relay's /y-webrtc, no ICE servers): second page, ms from navigation start; median [min–max] of ${n3}`);
		out.push(table(['step', 'ms'], [['signalling connected', cell(b.signalling, n3)], ['first synced', cell(b.synced, n3)]]));
	}
	out.push('');
	const word = (x: number) => (Number.isFinite(x) ? (x < GOAL_MS ? 'met' : 'not met') : 'n/a');
	out.push(`Goal: synced within ~${GOAL_MS} ms (informational)`);
	out.push(`  returning member, navigation → new message shown: median ${f0(r.messageFrame?.median ?? NaN)} ms — ${word(r.messageFrame?.median ?? NaN)}`);
	out.push(`  new device, Join → last message shown: median ${f0(d.messageFrame?.median ?? NaN)} ms — ${word(d.messageFrame?.median ?? NaN)}`);
	return out.join('\n');
}

/**
 * A round's WebSocket frames, fetches, long tasks and marks from `from` to `to` (ms since
 * navigation start, or since the click), frames grouped into bursts (a pause of 4 ms or more
 * ends one): a pause after a burst that ends with "out" is the relay (or the network), after
 * "in" it is this page.
 */
export function formatTrace(trace: Trace, from: number, to: number, marks: Record<string, number | undefined>): string {
	type Row = { t: number; text: string };
	const rows: Row[] = [];
	type Burst = { socket: number; t: number; last: number; out: number; outBytes: number; in: number; inBytes: number; lastKind: string };
	let burst: Burst | undefined;
	const flush = () => {
		if (!burst) return;
		const span = burst.last - burst.t >= 1 ? `–${f0(burst.last)}` : '';
		const parts = [];
		if (burst.out > 0) parts.push(`→ ${burst.out} out (${burst.outBytes} B)`);
		if (burst.in > 0) parts.push(`← ${burst.in} in (${burst.inBytes} B)`);
		rows.push({ t: burst.t, text: `${f0(burst.t)}${span}`.padEnd(12) + `ws#${burst.socket} ${parts.join(', ')}, last ${burst.lastKind}` });
		burst = undefined;
	};
	for (const e of trace.ws.filter((x) => x.t >= from && x.t <= to)) {
		if (e.kind !== 'in' && e.kind !== 'out') {
			flush();
			rows.push({ t: e.t, text: `${f0(e.t)}`.padEnd(12) + `ws#${e.socket} ${e.kind}` });
			continue;
		}
		if (!burst || burst.socket !== e.socket || e.t - burst.last >= 4) {
			flush();
			burst = { socket: e.socket, t: e.t, last: e.t, out: 0, outBytes: 0, in: 0, inBytes: 0, lastKind: e.kind };
		}
		burst.last = e.t;
		burst.lastKind = e.kind;
		if (e.kind === 'out') {
			burst.out++;
			burst.outBytes += e.bytes ?? 0;
		} else {
			burst.in++;
			burst.inBytes += e.bytes ?? 0;
		}
	}
	flush();
	for (const task of trace.longTasks.filter((x) => x.start + x.duration >= from && x.start <= to)) {
		rows.push({ t: task.start, text: `${f0(task.start)}`.padEnd(12) + `long task ${f0(task.duration)} ms (main thread busy until ${f0(task.start + task.duration)})` });
	}
	for (const r of trace.resources ?? []) {
		if (r.start >= from && r.start <= to) rows.push({ t: r.start, text: `${f0(r.start)}–${f0(r.end)}`.padEnd(12) + `fetch ${r.path} (${r.bytes} B over the wire)` });
	}
	const nav = trace.navigation;
	if (nav) {
		const milestones: [string, number][] = [['document received', nav.responseEnd], ['DOMContentLoaded', nav.domContentLoaded], ['load', nav.load]];
		for (const [name, t] of milestones) if (t > 0 && t >= from && t <= to) rows.push({ t, text: `${f0(t)}`.padEnd(12) + name });
	}
	for (const [name, t] of Object.entries(marks)) {
		if (t !== undefined && t >= from && t <= to) rows.push({ t, text: `${f0(t)}`.padEnd(12) + `mark: ${name}` });
	}
	return rows
		.sort((a, b) => a.t - b.t)
		.map((r) => `    ${r.text}`)
		.join('\n');
}
