/**
 * What the connect benchmark reads inside the page, timed in the page itself
 * (performance.now(), ms since navigation start): the mesh's User Timing marks
 * (src/lib/state/MeshState.svelte.ts), the channel-open marks, when a given message text
 * and a given workspace's channel list first appear in the DOM (a MutationObserver) and the
 * frame after that (requestAnimationFrame), and the last click on a "Join" button.
 */
import type { Page } from 'playwright-core';

/** The mesh's marks, in the order they are expected. */
export const MESH_MARKS = {
	start: 'outpost:mesh:start',
	node: 'outpost:mesh:node-started',
	relay: 'outpost:mesh:relay-connected',
	synced: 'outpost:mesh:synced'
} as const;
export type MeshMark = keyof typeof MESH_MARKS;

/** The channel-open marks (src/lib/state/ChannelState.svelte.ts, MessageList.svelte). */
export const OPEN_MARKS = {
	openStart: 'outpost:channel-open:start',
	openPainted: 'outpost:channel-open:painted'
} as const;

/** What to watch for, given to {@link installConnectProbe}. */
export interface WatchFor {
	/** A message text: its `<article>` appearing is timed. */
	text: string;
	/** A channel name: its link in the "Channels" navigation appearing is timed. */
	channel: string;
	/** libp2p debug namespaces to log (`localStorage.debug`), with page times, for diagnosis. */
	debug?: string;
}

/** Times recorded in the page (ms since navigation start); absent until seen. */
export interface ProbeTimes {
	/** The message's article entered the DOM / the next animation frame after that. */
	messageDom?: number;
	messageFrame?: number;
	/** The channel's link entered the DOM / the next frame. */
	channelsDom?: number;
	channelsFrame?: number;
	/** The last click on a button labelled "Join". */
	joinClick?: number;
	/** Every WebSocket open, frame sent and frame received (libp2p's link to the relay among them). */
	ws: WsEvent[];
	/** Long tasks (over 50 ms) on the main thread. */
	longTasks: { start: number; duration: number }[];
	/** Console lines with their page times, when {@link WatchFor.debug} is set (at most 5,000). */
	console?: { t: number; text: string }[];
}

/** One WebSocket event seen in the page. */
export interface WsEvent {
	/** ms since navigation start. */
	t: number;
	/** Which socket (in order of creation). */
	socket: number;
	kind: 'create' | 'open' | 'out' | 'in' | 'close';
	bytes?: number;
}

declare global {
	interface Window {
		__connectBench?: ProbeTimes;
	}
}

/** Installed with `context.addInitScript(installConnectProbe, watch)`: runs before the app. */
export function installConnectProbe(watch: WatchFor): void {
	const times: ProbeTimes = { ws: [], longTasks: [] };
	window.__connectBench = times;
	try {
		new PerformanceObserver((list) => {
			for (const e of list.getEntries()) times.longTasks.push({ start: e.startTime, duration: e.duration });
		}).observe({ type: 'longtask', buffered: true });
	} catch {
		// no long task timing in this browser
	}
	if (watch.debug !== undefined) {
		localStorage.setItem('debug', watch.debug);
		const lines: { t: number; text: string }[] = [];
		times.console = lines;
		for (const method of ['debug', 'log', 'info', 'warn'] as const) {
			const original = console[method].bind(console);
			console[method] = (...args: unknown[]) => {
				if (lines.length < 5000) {
					const text = args.filter((a) => typeof a === 'string' && !a.startsWith('color:')).join(' ');
					lines.push({ t: performance.now(), text: text.replace(/%c/g, '').slice(0, 240) });
				}
				original(...args);
			};
		}
	}
	// Time every WebSocket frame: where the wait between "relay connected" and "synced" goes.
	const Native = window.WebSocket;
	const sizeOf = (data: unknown): number | undefined =>
		data instanceof ArrayBuffer ? data.byteLength : ArrayBuffer.isView(data) ? data.byteLength : data instanceof Blob ? data.size : typeof data === 'string' ? data.length : undefined;
	let sockets = 0;
	class TimedWebSocket extends Native {
		constructor(url: string | URL, protocols?: string | string[]) {
			super(url, protocols);
			const socket = ++sockets;
			const note = (kind: WsEvent['kind'], bytes?: number) => times.ws.push({ t: performance.now(), socket, kind, ...(bytes !== undefined ? { bytes } : {}) });
			note('create');
			this.addEventListener('open', () => note('open'));
			this.addEventListener('close', () => note('close'));
			this.addEventListener('message', (event: MessageEvent) => note('in', sizeOf(event.data)));
			const send = this.send.bind(this);
			this.send = (data) => {
				note('out', sizeOf(data));
				send(data);
			};
		}
	}
	window.WebSocket = TimedWebSocket;
	const linkText = `# ${watch.channel}`;
	const check = (): void => {
		if (times.messageDom === undefined) {
			for (const article of document.querySelectorAll('main article')) {
				if (article.textContent?.includes(watch.text)) {
					times.messageDom = performance.now();
					requestAnimationFrame(() => (times.messageFrame = performance.now()));
					break;
				}
			}
		}
		if (times.channelsDom === undefined) {
			for (const link of document.querySelectorAll('nav a')) {
				if (link.textContent?.trim().startsWith(linkText)) {
					times.channelsDom = performance.now();
					requestAnimationFrame(() => (times.channelsFrame = performance.now()));
					break;
				}
			}
		}
	};
	const observer = new MutationObserver(check);
	observer.observe(document, { subtree: true, childList: true, characterData: true });
	document.addEventListener(
		'click',
		(event) => {
			const button = event.target instanceof Element ? event.target.closest('button') : null;
			if (button?.textContent?.trim() === 'Join') times.joinClick = performance.now();
		},
		true
	);
}

/** A resource the page fetched (ms since navigation start). */
export interface ResourceTime {
	/** The URL's path. */
	path: string;
	start: number;
	end: number;
	/** Bytes over the wire (0 from the HTTP or service-worker cache). */
	bytes: number;
}

/** Navigation milestones (ms since navigation start). */
export interface NavigationTimes {
	responseEnd: number;
	domContentLoaded: number;
	load: number;
}

/** A mark's time, or undefined when it was not set. */
export type MarkTimes = Partial<Record<MeshMark | keyof typeof OPEN_MARKS, number>>;

/** Reads the probe's times and the first of each mark (ms since navigation start). */
export async function readProbe(
	page: Page
): Promise<{ times: ProbeTimes; marks: MarkTimes; resources: ResourceTime[]; navigation: NavigationTimes | undefined }> {
	const names: Record<string, string> = { ...MESH_MARKS, ...OPEN_MARKS };
	return page.evaluate((byKey) => {
		const marks: Record<string, number> = {};
		for (const [key, name] of Object.entries(byKey)) {
			const first = performance.getEntriesByName(name, 'mark')[0];
			if (first) marks[key] = first.startTime;
		}
		const resources = (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).map((r) => ({
			path: new URL(r.name).pathname,
			start: r.startTime,
			end: r.responseEnd,
			bytes: r.transferSize
		}));
		const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
		const navigation = nav && { responseEnd: nav.responseEnd, domContentLoaded: nav.domContentLoadedEventEnd, load: nav.loadEventEnd };
		return { times: window.__connectBench ?? { ws: [], longTasks: [] }, marks, resources, navigation };
	}, names);
}

/** Waits (in the page) until the message was seen and framed; false on timeout. */
export async function waitSeen(page: Page, key: 'message' | 'channels', timeoutMs: number): Promise<boolean> {
	try {
		await page.waitForFunction(
			(k) => {
				const t = window.__connectBench;
				return k === 'message' ? t?.messageFrame !== undefined : t?.channelsFrame !== undefined;
			},
			key,
			{ timeout: timeoutMs, polling: 50 }
		);
		return true;
	} catch {
		return false;
	}
}

/** Waits until every mesh mark is set (the relay one may lag the sync); false on timeout. */
export async function waitMeshMarks(page: Page, timeoutMs: number): Promise<boolean> {
	try {
		await page.waitForFunction(
			(names) => names.every((n) => performance.getEntriesByName(n, 'mark').length > 0),
			Object.values(MESH_MARKS),
			{ timeout: timeoutMs, polling: 100 }
		);
		return true;
	} catch {
		return false;
	}
}
