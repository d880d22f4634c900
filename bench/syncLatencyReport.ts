/**
 * Summaries and the printed table of the sync-latency benchmark (bench/sync-latency.ts).
 * Figures only: nothing here decides an exit code.
 */
import { quantile } from './report.js';
import type { Copy, Sample, SenderCost, Target } from './syncLatencyBrowser.js';
import type { MicroCosts } from './syncLatencyMicro.js';
import type { Trace } from './syncLatencyTrace.js';

/** Latency percentiles of one sample, in milliseconds. */
export interface LatencySummary {
	n: number;
	p50: number;
	p95: number;
	p99: number;
	mean: number;
	min: number;
	max: number;
}

/** One update's latency split at the data channel (ms). */
export interface Phase {
	/** Transaction on the sender → its first RTCDataChannel.send after it. */
	sender: number;
	/** That send → the receiver's first data-channel message after the write. */
	wire: number;
	/** That message → the change observed in the receiver's document. */
	receiver: number;
}

/** Everything measured for one path over all rounds. */
export interface TargetResult {
	/** The path's name in the table. */
	label: string;
	target: Target;
	/** Updates written in measured rounds. */
	sent: number;
	samples: Sample[];
	/** Outpost only: every copy that reached the receiver, and the sender's costs per round. */
	copies?: Copy[];
	senderCost?: SenderCost[];
	phases: Phase[];
}

/**
 * Splits each sample at the data channel: the sender's first send within `windowMs` after
 * the write, and the receiver's first message between the write and its observation.
 * Updates are spaced out, so those are the update's own frames (a heartbeat or ping in the
 * same window blurs one sample, not the median).
 */
export function phases(samples: Sample[], sender: Trace, receiver: Trace, windowMs: number): Phase[] {
	const out: Phase[] = [];
	for (const s of samples) {
		const send = sender.sends.find((t) => t >= s.sent && t < s.sent + windowMs);
		const recv = receiver.receives.find((t) => t >= (send ?? s.sent) && t <= s.recv);
		if (send === undefined || recv === undefined) continue;
		out.push({ sender: send - s.sent, wire: recv - send, receiver: s.recv - recv });
	}
	return out;
}

/** Percentiles of `ms` (nearest rank). */
export function summarizeMs(ms: number[]): LatencySummary {
	const s = [...ms].sort((a, b) => a - b);
	const mean = s.reduce((sum, x) => sum + x, 0) / (s.length || NaN);
	return { n: s.length, p50: quantile(s, 0.5), p95: quantile(s, 0.95), p99: quantile(s, 0.99), mean, min: s[0] ?? NaN, max: s.at(-1) ?? NaN };
}

/** One-way latencies of a target's samples. */
export function latencies(samples: Sample[]): number[] {
	return samples.map((s) => s.recv - s.sent);
}

/** The Outpost breakdown: who delivered first, copies per update, per-path latency, sender cost. */
export function outpostBreakdown(r: TargetResult) {
	const n = r.samples.length || NaN;
	const firstVia: Record<string, number> = {};
	for (const s of r.samples) firstVia[s.via] = (firstVia[s.via] ?? 0) + 1;
	const copies = r.copies ?? [];
	const perUpdate = (via: string) => copies.filter((c) => c.via === via).length / r.sent;
	const byPath = (via: string) => summarizeMs(copies.filter((c) => c.via === via).map((c) => c.at - c.sent));
	const costs = r.senderCost ?? [];
	const total = (key: keyof SenderCost) => costs.reduce((sum, c) => sum + c[key], 0);
	return {
		firstVia: Object.fromEntries(Object.entries(firstVia).map(([k, v]) => [k, v / n])),
		copiesPerUpdate: {
			session: perUpdate('session'),
			sessionDuplicate: perUpdate('session-dup'),
			gossipDirect: perUpdate('gossip-direct'),
			gossipRelay: perUpdate('gossip-relay')
		},
		sessionCopyMs: byPath('session'),
		gossipDirectCopyMs: byPath('gossip-direct'),
		gossipRelayCopyMs: byPath('gossip-relay'),
		sender: {
			listenerCallsPerUpdate: total('listenerCalls') / r.sent,
			listenerMsPerUpdate: total('listenerMs') / r.sent,
			publishesPerUpdate: total('publishes') / r.sent,
			publishSyncMsPerUpdate: total('publishSyncMs') / r.sent,
			publishAwaitMsMean: total('publishAwaitMs') / (total('publishes') || NaN)
		}
	};
}

const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
const pct = (x: number) => (Number.isFinite(x) ? `${Math.round(x * 100)}%` : 'n/a');

function table(header: string[], rows: string[][]): string {
	const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
	const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ');
	return [line(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.map(line)].join('\n');
}

/** The text printed at the end of a run. */
export function formatReport(results: TargetResult[], intervalMs: number, micro?: MicroCosts): string {
	const out: string[] = [];
	out.push(`One-way latency of a live Yjs update between two Chromium pages (ms; one update every ${intervalMs} ms)`);
	out.push(
		table(
			['path', 'received', 'p50', 'p95', 'p99', 'mean', 'min', 'max'],
			results.map((r) => {
				const s = summarizeMs(latencies(r.samples));
				return [r.label, `${s.n}/${r.sent}`, f2(s.p50), f2(s.p95), f2(s.p99), f2(s.mean), f2(s.min), f2(s.max)];
			})
		)
	);
	out.push('');
	out.push('Split at the data channel (p50 ms): sender = transaction → RTCDataChannel.send; wire = send → message at the receiver; receiver = message → change observed');
	out.push(
		table(
			['path', 'split', 'sender', 'wire', 'receiver'],
			results.map((r) => {
				const p50 = (key: keyof Phase) => f2(summarizeMs(r.phases.map((p) => p[key])).p50);
				return [r.label, `${r.phases.length}/${r.samples.length}`, p50('sender'), p50('wire'), p50('receiver')];
			})
		)
	);
	const outpost = results.find((r) => r.label === 'outpost');
	if (outpost !== undefined) {
		const b = outpostBreakdown(outpost);
		out.push('');
		out.push('Outpost, where the time goes:');
		out.push(`  first copy applied by: ${Object.entries(b.firstVia).map(([k, v]) => `${k} ${pct(v)}`).join(', ')}`);
		out.push(
			`  copies per update at the receiver: session ${f2(b.copiesPerUpdate.session)} (+ ${f2(b.copiesPerUpdate.sessionDuplicate)} empty duplicate applies), ` +
				`gossip from the sender ${f2(b.copiesPerUpdate.gossipDirect)}, gossip through the relay ${f2(b.copiesPerUpdate.gossipRelay)}`
		);
		const line = (name: string, x: LatencySummary) => `  ${name} latency: p50 ${f2(x.p50)}, p95 ${f2(x.p95)} (n ${x.n})`;
		out.push(line('session copy', b.sessionCopyMs));
		out.push(line('gossip copy, direct', b.gossipDirectCopyMs));
		out.push(line('gossip copy, relayed', b.gossipRelayCopyMs));
		out.push(
			`  sender per update: ${f2(b.sender.listenerCallsPerUpdate)} update listeners taking ${f2(b.sender.listenerMsPerUpdate)} ms, ` +
				`${f2(b.sender.publishesPerUpdate)} gossip publishes (${f2(b.sender.publishSyncMsPerUpdate)} ms synchronous, ` +
				`${f2(b.sender.publishAwaitMsMean)} ms until resolved)`
		);
		const raw = results.find((r) => r.target === 'raw')?.senderCost ?? [];
		const rawCalls = raw.reduce((n, c) => n + c.listenerCalls, 0);
		if (rawCalls > 0) out.push(`  (raw sender: the stream write takes ${f2(raw.reduce((n, c) => n + c.listenerMs, 0) / rawCalls)} ms per update)`);
	}
	if (micro !== undefined) {
		const us = (x: number) => (Number.isFinite(x) ? `${x.toFixed(0)} µs` : 'n/a');
		out.push('');
		out.push('Per small update on the receiving page (micro-benchmark):');
		out.push(
			`  Y.applyUpdate ${us(micro.applyUs)}; Outpost adds: ` +
				`applicablePart ${us(micro.applicablePartUs)}, UPDATE encode+decode ${us(micro.wireUs)}`
		);
		out.push(`  a write through two live SyncSessions joined in the page (no transport): ${us(micro.sessionPipelineUs)} until applied on the other side`);
		out.push(
			`  applicablePart's scratch document: new Y.Doc() ${us(micro.scratchDocUs)}, with a fixed guid ${us(micro.scratchDocFixedGuidUs)}`
		);
		out.push(`  each gossip copy also: envelope seal+open ${us(micro.envelopeUs)}, Ed25519 sign+verify ${us(micro.signVerifyUs)}`);
	}
	return out.join('\n');
}
