/**
 * CPU profiles of the benchmark's pages through the Chrome DevTools protocol, summarised as
 * self time per function: where a page's main thread spends its time while updates flow.
 */
import type { Page } from 'playwright-core';

/** A function's self time in a profile. */
export interface HotFunction {
	name: string;
	/** Self time, ms. */
	ms: number;
	/** Share of the profile's non-idle time. */
	share: number;
}

/** A profile's summary. */
export interface ProfileSummary {
	/** Sampled time that was not idle, ms. */
	busyMs: number;
	top: HotFunction[];
}

interface ProfileNode {
	id: number;
	callFrame: { functionName: string; url: string; lineNumber: number };
}

interface Profile {
	nodes: ProfileNode[];
	samples: number[];
	timeDeltas: number[];
}

/** Profiles `page` while `during` runs (100 µs sampling); returns the summary and the raw profile. */
export async function profilePage<T>(page: Page, during: () => Promise<T>, top = 15): Promise<{ result: T; summary: ProfileSummary; profile: unknown }> {
	const cdp = await page.context().newCDPSession(page);
	try {
		await cdp.send('Profiler.enable');
		await cdp.send('Profiler.setSamplingInterval', { interval: 100 });
		await cdp.send('Profiler.start');
		const result = await during();
		const { profile } = (await cdp.send('Profiler.stop')) as unknown as { profile: Profile };
		return { result, summary: summarize(profile, top), profile };
	} finally {
		await cdp.detach().catch(() => undefined);
	}
}

function summarize(profile: Profile, top: number): ProfileSummary {
	const byId = new Map(profile.nodes.map((n) => [n.id, n]));
	const self = new Map<string, number>();
	let busyUs = 0;
	profile.samples.forEach((id, i) => {
		const node = byId.get(id);
		const us = profile.timeDeltas[i + 1] ?? 0; // a sample's time is the gap to the next one
		if (node === undefined) return;
		const { functionName, url, lineNumber } = node.callFrame;
		if (functionName === '(idle)') return;
		busyUs += us;
		const file = url.split('/').pop() ?? '';
		const name = functionName.startsWith('(') ? functionName : `${functionName || '(anonymous)'} ${file}:${lineNumber + 1}`;
		self.set(name, (self.get(name) ?? 0) + us);
	});
	const hot = [...self]
		.sort((a, b) => b[1] - a[1])
		.slice(0, top)
		.map(([name, us]) => ({ name, ms: us / 1000, share: us / (busyUs || NaN) }));
	return { busyMs: busyUs / 1000, top: hot };
}
