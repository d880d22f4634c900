/**
 * Summaries and the printed table of the channel-open benchmark. Figures only: the goals
 * are reported as "met" / "not met" and never change the exit code.
 */
import type { LongTasks, OpenTiming, RawDecode, ScrollTiming } from './probe.js';

/** Median, minimum and maximum of a sample. */
export interface Spread {
	median: number;
	min: number;
	max: number;
}

/** One measured open of a channel. */
export interface Round extends OpenTiming {
	/** Used JS heap after a forced GC, with the channel open / with "empty" open before. */
	heapBytes: number;
	heapBeforeBytes: number;
	scroll: ScrollTiming;
	/** Long tasks from the reload until the page settled on "empty" (background unread refresh). */
	reload: LongTasks;
	/** Long tasks from leaving the channel (click on "empty") until the page settled. */
	leave: LongTasks;
}

/** Everything measured for one channel size. */
export interface SizeResult {
	channel: string;
	messages: number;
	replies: number;
	updateBytes: number;
	/** The first open after the messages arrived (the app also scans the arrived update). */
	first: Round;
	rounds: Round[];
	raw: { page: RawDecode | undefined; nodeApplyMs: number };
}

/** Goals the 100k channel is held to (informational). */
export const GOALS = { messages: 100_000, openMs: 1000, heapMb: 200 } as const;

const MB = 1024 * 1024;

export function spread(xs: number[]): Spread {
	const s = [...xs].sort((a, b) => a - b);
	const mid = s.length >> 1;
	const median = s.length % 2 === 1 ? s[mid]! : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2;
	return { median, min: s[0] ?? NaN, max: s[s.length - 1] ?? NaN };
}

/** Quantile of an ascending sample (nearest rank). */
export function quantile(sorted: number[], q: number): number {
	if (sorted.length === 0) return NaN;
	const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
	return sorted[i] ?? NaN;
}

/** The summary row of one size (also written to the JSON). */
export function summarize(r: SizeResult) {
	const intervals = r.rounds.flatMap((x) => x.scroll.intervals).sort((a, b) => a - b);
	const open = spread(r.rounds.map((x) => x.openMs));
	const rawMs = r.raw.page?.applyMs ?? r.raw.nodeApplyMs;
	return {
		openMs: open,
		paintMs: spread(r.rounds.map((x) => x.paintMs)),
		clickToPaintMs: spread(r.rounds.map((x) => x.clickToPaintMs)),
		longestTaskMs: spread(r.rounds.map((x) => x.longestTaskMs)),
		heapMb: spread(r.rounds.map((x) => x.heapBytes / MB)),
		heapDeltaMb: spread(r.rounds.map((x) => (x.heapBytes - x.heapBeforeBytes) / MB)),
		scroll: {
			frames: intervals.length,
			p50Ms: quantile(intervals, 0.5),
			p95Ms: quantile(intervals, 0.95),
			maxMs: intervals[intervals.length - 1] ?? NaN,
			over50Ms: intervals.filter((x) => x > 50).length,
			jumpMiddleMs: spread(r.rounds.map((x) => x.scroll.jumpMiddleMs)),
			jumpTopMs: spread(r.rounds.map((x) => x.scroll.jumpTopMs))
		},
		rawApplyMs: { page: r.raw.page?.applyMs, pageIdbReadMs: r.raw.page?.idbReadMs, node: r.raw.nodeApplyMs },
		openOverRaw: open.median / rawMs,
		rawSource: r.raw.page ? 'page' : 'node'
	};
}

const f0 = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a');
const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');
const range = (s: Spread, f = f0) => `${f(s.median)} [${f(s.min)}–${f(s.max)}]`;

function table(header: string[], rows: string[][]): string {
	const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
	const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ');
	return [line(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.map(line)].join('\n');
}

/** The text printed at the end of a run. */
export function formatReport(results: SizeResult[], rounds: number): string {
	const out: string[] = [];
	const main = results.map((r) => {
		const s = summarize(r);
		return [
			r.messages.toLocaleString('en-US'),
			range(s.openMs),
			range(s.paintMs),
			f0(s.clickToPaintMs.median),
			f0(s.longestTaskMs.median),
			`${f1(s.heapMb.median)} (+${f1(s.heapDeltaMb.median)})`,
			`${f1(s.scroll.p50Ms)} / ${f1(s.scroll.p95Ms)}`,
			`${f0(s.scroll.jumpMiddleMs.median)} / ${f0(s.scroll.jumpTopMs.median)}`,
			`${f0(s.rawApplyMs.page ?? NaN)} / ${f0(s.rawApplyMs.node)}`,
			`${f1(s.openOverRaw)}×`
		];
	});
	out.push(`Opening a channel (${rounds} rounds each; median [min–max]; ms unless marked)`);
	out.push(
		table(
			['messages', 'open ms', 'first paint ms', 'click→paint', 'longest task', 'heap MB (+open)', 'scroll p50/p95', 'jump mid/top', 'raw Yjs page/node', 'open/raw'],
			main
		)
	);
	out.push('');
	out.push('First open after the messages arrived (1 round; the app also scans the update for late arrivals):');
	out.push(
		table(
			['messages', 'open ms', 'first paint ms', 'click→paint', 'longest task', 'heap MB'],
			results.map((r) => [
				r.messages.toLocaleString('en-US'),
				f0(r.first.openMs),
				f0(r.first.paintMs),
				f0(r.first.clickToPaintMs),
				f0(r.first.longestTaskMs),
				f1(r.first.heapBytes / MB)
			])
		)
	);
	out.push('');
	out.push('Raw Yjs baseline: Y.applyUpdate of the stored bytes into a fresh Y.Doc, in the page (bundled yjs) / in Node.');
	for (const r of results) {
		const p = r.raw.page;
		out.push(
			`  ${r.messages.toLocaleString('en-US')}: ${(r.updateBytes / MB).toFixed(1)} MB update, ${r.replies} thread replies; ` +
				(p ? `page IndexedDB read ${f0(p.idbReadMs)} ms + apply ${f0(p.applyMs)} ms; ` : 'page baseline unavailable; ') +
				`Node apply ${f0(r.raw.nodeApplyMs)} ms`
		);
	}
	const big = results.find((r) => r.messages === GOALS.messages);
	if (big) {
		const s = summarize(big);
		const word = (ok: boolean) => (ok ? 'met' : 'not met');
		out.push('');
		out.push(`Goals for ${GOALS.messages.toLocaleString('en-US')} messages (informational):`);
		out.push(`  open < ${GOALS.openMs} ms: median ${f0(s.openMs.median)} ms — ${word(s.openMs.median < GOALS.openMs)}`);
		out.push(`  heap < ${GOALS.heapMb} MB: median ${f1(s.heapMb.median)} MB — ${word(s.heapMb.median < GOALS.heapMb)}`);
	}
	return out.join('\n');
}
