/**
 * What the benchmark reads inside the page: the app's User Timing marks around opening a
 * channel, long tasks, the JS heap after a forced GC, frame intervals while scrolling the
 * message list, and a raw `Y.applyUpdate` of the stored bytes as the baseline.
 *
 * An init script records, from the first line of every page load, long tasks, the last
 * click and which IndexedDB databases are open (so the benchmark can wait until the app's
 * background unread refresh has let go of the big channels before measuring).
 */
import type { Page } from 'playwright-core';
import { YJS_GLOBAL } from './yjsBundle.js';

/** The app's marks (src/lib/state/ChannelState.svelte.ts; `painted` from MessageList.svelte). */
export const MARK_OPEN_START = 'outpost:channel-open:start';
export const MARK_OPEN_READY = 'outpost:channel-open:ready';
export const MARK_OPEN_PAINTED = 'outpost:channel-open:painted';

interface ProbeState {
	longTasks: { start: number; duration: number }[];
	lastClick: number;
	openDbs: Map<IDBDatabase, string>;
}

declare global {
	interface Window {
		__outpostBench?: ProbeState;
	}
	interface Performance {
		memory?: { usedJSHeapSize: number; totalJSHeapSize: number };
	}
}

/** Installed with `context.addInitScript`; runs before the app on every load. */
export function installProbe(): void {
	const state: ProbeState = { longTasks: [], lastClick: 0, openDbs: new Map() };
	window.__outpostBench = state;
	try {
		new PerformanceObserver((list) => {
			for (const e of list.getEntries()) state.longTasks.push({ start: e.startTime, duration: e.duration });
		}).observe({ type: 'longtask', buffered: true });
	} catch {
		// No long-task timing in this browser: the quiet wait relies on the open databases.
	}
	window.addEventListener('click', (e) => (state.lastClick = e.timeStamp), true);
	const open = IDBFactory.prototype.open;
	IDBFactory.prototype.open = function (this: IDBFactory, name: string, version?: number) {
		const req = version === undefined ? open.call(this, name) : open.call(this, name, version);
		req.addEventListener('success', () => state.openDbs.set(req.result, name));
		return req;
	};
	const close = IDBDatabase.prototype.close;
	IDBDatabase.prototype.close = function (this: IDBDatabase) {
		state.openDbs.delete(this);
		close.call(this);
	};
}

/**
 * Waits until none of `dbNames` is open in the page and no long task has run for
 * `quietMs`. Returns false (and goes on) if that does not happen within `timeoutMs`.
 */
export async function waitQuiet(page: Page, dbNames: string[], quietMs = 1000, timeoutMs = 120_000): Promise<boolean> {
	const deadline = Date.now() + timeoutMs;
	while (Date.now() < deadline) {
		const s = await page.evaluate(
			(names) => {
				const st = window.__outpostBench;
				if (!st) return { open: 0, idle: Infinity };
				const open = [...st.openDbs.values()].filter((n) => names.includes(n)).length;
				const lastEnd = st.longTasks.reduce((m, t) => Math.max(m, t.start + t.duration), 0);
				return { open, idle: performance.now() - lastEnd };
			},
			dbNames
		);
		if (s.open === 0 && s.idle >= quietMs) return true;
		await new Promise((r) => setTimeout(r, 200));
	}
	return false;
}

/** Clears User Timing marks and the long-task log before a measured open. */
export async function resetMarks(page: Page): Promise<void> {
	await page.evaluate(() => {
		performance.clearMarks();
		if (window.__outpostBench) window.__outpostBench.longTasks.length = 0;
	});
}

/** Long tasks recorded since the page loaded or {@link resetMarks} last ran. */
export interface LongTasks {
	longestMs: number;
	totalMs: number;
	count: number;
}

/** Sums up the long tasks recorded so far. */
export async function longTasks(page: Page): Promise<LongTasks> {
	return page.evaluate(() => {
		const tasks = window.__outpostBench?.longTasks ?? [];
		return {
			longestMs: tasks.reduce((m, t) => Math.max(m, t.duration), 0),
			totalMs: tasks.reduce((s, t) => s + t.duration, 0),
			count: tasks.length
		};
	});
}

/** Timings of one channel open, in ms. */
export interface OpenTiming {
	/** start → ready mark: loading the document and building the view. */
	openMs: number;
	/** start → painted mark: the first frame with messages. */
	paintMs: number;
	/** The click on the channel link → painted mark (what the user waits). */
	clickToPaintMs: number;
	/** Longest single task between the click and the painted mark. */
	longestTaskMs: number;
	/** Sum of long tasks (> 50 ms) in that span. */
	longTasksMs: number;
}

/** Waits for the painted mark of `channelId`, then reads the marks. */
export async function readOpen(page: Page, channelId: string, timeoutMs = 120_000): Promise<OpenTiming> {
	await page.waitForFunction(
		({ name, id }) => performance.getEntriesByName(name).some((e) => (e as PerformanceMark).detail === id),
		{ name: MARK_OPEN_PAINTED, id: channelId },
		{ timeout: timeoutMs, polling: 50 }
	);
	return page.evaluate(
		({ names, id }) => {
			const at = (name: string): number => {
				const marks = performance.getEntriesByName(name).filter((e) => (e as PerformanceMark).detail === id);
				const mark = marks[marks.length - 1];
				if (!mark) throw new Error(`no ${name} mark for ${id}`);
				return mark.startTime;
			};
			const start = at(names.start);
			const ready = at(names.ready);
			const painted = at(names.painted);
			const st = window.__outpostBench;
			const click = st?.lastClick ?? start;
			const tasks = (st?.longTasks ?? []).filter((t) => t.start + t.duration >= click && t.start <= painted);
			return {
				openMs: ready - start,
				paintMs: painted - start,
				clickToPaintMs: painted - click,
				longestTaskMs: tasks.reduce((m, t) => Math.max(m, t.duration), 0),
				longTasksMs: tasks.reduce((s, t) => s + t.duration, 0)
			};
		},
		{ names: { start: MARK_OPEN_START, ready: MARK_OPEN_READY, painted: MARK_OPEN_PAINTED }, id: channelId }
	);
}

/**
 * Used JS heap in bytes (`performance.memory.usedJSHeapSize`, precise with
 * `--enable-precise-memory-info`) after CDP `HeapProfiler.collectGarbage`. That GC also
 * frees the contexts of earlier loads of the page, which `window.gc()` leaves behind (the
 * figure then grew ~0.5 MB per reload); CDP's own heap usage is the fallback.
 */
export async function heapAfterGc(page: Page): Promise<number> {
	const cdp = await page.context().newCDPSession(page);
	try {
		await cdp.send('HeapProfiler.collectGarbage');
		const viaPage = await page.evaluate(() => performance.memory?.usedJSHeapSize ?? -1);
		return viaPage >= 0 ? viaPage : (await cdp.send('Runtime.getHeapUsage')).usedSize;
	} finally {
		await cdp.detach();
	}
}

/** Frame intervals while scrolling the message list. */
export interface ScrollTiming {
	/** Intervals between animation frames over the whole scroll, ms. */
	intervals: number[];
	/** Worst of the three frames after jumping to the middle / the top. */
	jumpMiddleMs: number;
	jumpTopMs: number;
	/** The list's scroll height (virtua's estimate) and rows in the DOM at the end. */
	scrollHeight: number;
	rowsInDom: number;
	/** scrollTop after jumping to the middle, after scrolling up, after jumping to the top, at the end. */
	scrollTops: number[];
}

/**
 * Scrolls the list of `channelName` (the `section` labelled "Messages in …"): from the
 * bottom it jumps to the middle, scrolls up ~1 s at 120 px a frame, jumps to the top and
 * scrolls down ~1 s, timing every frame with requestAnimationFrame.
 */
export async function scrollCheck(page: Page, channelName: string, timeoutMs = 60_000): Promise<ScrollTiming> {
	return page.evaluate(
		async ({ label, timeoutMs }) => {
			const section = document.querySelector(`section[aria-label="${CSS.escape(label)}"]`);
			if (!section) throw new Error(`no list labelled ${label}`);
			const scroller = [section, ...section.querySelectorAll('*')].find((el) => {
				const overflow = getComputedStyle(el).overflowY;
				return (overflow === 'auto' || overflow === 'scroll') && el.scrollHeight > el.clientHeight + 1;
			});
			if (!scroller) throw new Error(`no scrollable element in ${label}`);
			const frame = () => new Promise<number>((r) => requestAnimationFrame(r));
			const stamps: number[] = [];
			const deadline = performance.now() + timeoutMs;
			const run = async (frames: number, step: (i: number) => void) => {
				for (let i = 0; i < frames && performance.now() < deadline; i++) {
					step(i);
					stamps.push(await frame());
				}
			};
			const max = () => scroller.scrollHeight - scroller.clientHeight;
			const worstAfter = (index: number) =>
				Math.max(...[1, 2, 3].map((k) => (stamps[index + k] ?? 0) - (stamps[index + k - 1] ?? 0)));
			const scrollTops: number[] = [];
			stamps.push(await frame());
			await run(10, () => undefined);
			const jumpMiddle = stamps.length - 1;
			await run(60, (i) => {
				if (i === 0) scroller.scrollTop = max() / 2;
				else scroller.scrollTop -= 120;
				if (i === 1) scrollTops.push(scroller.scrollTop + 120);
			});
			scrollTops.push(scroller.scrollTop);
			const jumpTop = stamps.length - 1;
			await run(60, (i) => {
				if (i === 0) scroller.scrollTop = 0;
				else scroller.scrollTop += 120;
				if (i === 1) scrollTops.push(scroller.scrollTop - 120);
			});
			scrollTops.push(scroller.scrollTop);
			const intervals = stamps.slice(1).map((t, i) => t - (stamps[i] ?? t));
			return {
				intervals,
				jumpMiddleMs: worstAfter(jumpMiddle),
				jumpTopMs: worstAfter(jumpTop),
				scrollHeight: scroller.scrollHeight,
				rowsInDom: section.querySelectorAll('article').length,
				scrollTops: scrollTops.map(Math.round)
			};
		},
		{ label: `Messages in ${channelName}`, timeoutMs }
	);
}

/** The raw Yjs baseline measured in the page, ms. */
export interface RawDecode {
	/** Reading every stored update of the document from IndexedDB. */
	idbReadMs: number;
	/** `Y.applyUpdate` of those bytes into a fresh Y.Doc, in one transaction. */
	applyMs: number;
	bytes: number;
}

/**
 * Reads the document's stored updates and applies them to a fresh Y.Doc with the bundled
 * yjs (see yjsBundle.ts), `rounds` times; returns the median of each part.
 */
export async function rawDecodeInPage(page: Page, yjsSource: string, docId: string, rounds: number): Promise<RawDecode> {
	await page.evaluate(yjsSource);
	return page.evaluate(
		async ({ name, rounds, global }) => {
			const Y = (globalThis as unknown as Record<string, typeof import('yjs')>)[global];
			if (!Y) throw new Error('yjs bundle missing in page');
			const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
			const reads: number[] = [];
			const applies: number[] = [];
			let bytes = 0;
			for (let i = 0; i < rounds; i++) {
				const t0 = performance.now();
				const db = await new Promise<IDBDatabase>((resolve, reject) => {
					const req = indexedDB.open(name);
					req.onsuccess = () => resolve(req.result);
					req.onerror = () => reject(req.error);
				});
				const updates = await new Promise<Uint8Array[]>((resolve, reject) => {
					const req = db.transaction('updates', 'readonly').objectStore('updates').getAll();
					req.onsuccess = () => resolve(req.result as Uint8Array[]);
					req.onerror = () => reject(req.error);
				});
				db.close();
				const t1 = performance.now();
				const doc = new Y.Doc();
				Y.transact(doc, () => updates.forEach((u) => Y.applyUpdate(doc, u)), 'bench', false);
				const t2 = performance.now();
				doc.destroy();
				bytes = updates.reduce((s, u) => s + u.length, 0);
				reads.push(t1 - t0);
				applies.push(t2 - t1);
				await new Promise((r) => setTimeout(r, 50));
			}
			return { idbReadMs: median(reads), applyMs: median(applies), bytes };
		},
		{ name: `outpost-doc:${docId}`, rounds, global: YJS_GLOBAL }
	);
}
