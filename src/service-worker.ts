/// <reference types="@sveltejs/kit" />
/// <reference no-default-lib="true"/>
/// <reference lib="esnext" />
/// <reference lib="webworker" />
/**
 * Offline shell: precaches the app (build output, static files, prerendered pages and the
 * SPA fallback) so Outpost opens with no network. Navigations try the network briefly and
 * fall back to the cached shell; app assets come from the cache first. Only this
 * worker's own caches are touched: engines such as WebLLM keep model weights in Cache
 * Storage too, and an update must never delete them. A click on a message's notification
 * opens that message.
 */
import { base, build, files, prerendered, version } from '$service-worker';

const sw = self as unknown as ServiceWorkerGlobalScope;

/** Prefix of every cache this worker owns; the suffix is the build's version. */
const CACHE_PREFIX = 'outpost-shell-';
const CACHE = `${CACHE_PREFIX}${version}`;

/**
 * The SPA fallback page and the home page. Only the fallback can stand in for any URL:
 * prerendered pages link their assets relatively (`./_app/...`), which breaks when such a
 * page is served for a deeper path.
 */
const FALLBACK = `${base}/200.html`;
const HOME = `${base}/`;
const SHELL = [HOME, FALLBACK];

/** Everything the app needs to start offline. */
const ASSETS = [...new Set([...build, ...files, ...prerendered])];
const CACHE_FIRST = new Set([...ASSETS, ...SHELL]);

/** How long a navigation waits for the network before the cached shell is used. */
const NAVIGATION_TIMEOUT_MS = 2500;

/** Message a page posts to activate a waiting update now. */
type ServiceWorkerMessage = { type: 'skip-waiting' };

/**
 * The chunks of the in-browser model runtimes (listed at build time by vite.config.ts): left
 * out of the install-time download and cached on first use instead. Empty when the list is
 * missing, so everything is precached as before.
 */
async function engineChunks(): Promise<Set<string>> {
	try {
		const response = await fetch(`${base}/_app/engine-chunks.json`, { cache: 'no-cache' });
		const files: unknown = response.ok ? await response.json() : [];
		return new Set(Array.isArray(files) ? files.filter((f): f is string => typeof f === 'string').map((f) => `${base}/${f}`) : []);
	} catch {
		return new Set();
	}
}

async function precache(): Promise<void> {
	const cache = await caches.open(CACHE);
	const engines = await engineChunks();
	await cache.addAll(ASSETS.filter((asset) => !engines.has(asset)));
	// A static host may lack one of the shell pages; one is enough to start offline.
	const shell = await Promise.allSettled(SHELL.map((url) => cache.add(url)));
	if (shell.every((result) => result.status === 'rejected')) {
		throw new Error('service worker: no app shell page could be cached');
	}
}

async function removeOldCaches(): Promise<void> {
	for (const key of await caches.keys()) {
		if (key.startsWith(CACHE_PREFIX) && key !== CACHE) await caches.delete(key);
	}
}

/** Only complete, successful responses are worth keeping (a 206 cannot be cached). */
function cacheable(response: Response): boolean {
	return response.status === 200 && response.type === 'basic';
}

/** The cached page for a navigation: the page itself if prerendered, else the fallback. */
async function cachedShell(url: URL): Promise<Response | undefined> {
	const cache = await caches.open(CACHE);
	const candidates = CACHE_FIRST.has(url.pathname) ? [url.pathname, FALLBACK] : [FALLBACK, HOME];
	for (const candidate of candidates) {
		const hit = await cache.match(candidate);
		if (hit) return hit;
	}
	return undefined;
}

async function navigate(request: Request): Promise<Response> {
	const network = fetch(request);
	network.catch(() => undefined); // rejections are handled below; avoid unhandled noise
	const timeout = new Promise<undefined>((resolve) =>
		setTimeout(() => resolve(undefined), NAVIGATION_TIMEOUT_MS)
	);
	try {
		const response = await Promise.race([network, timeout]);
		if (response?.ok) return response;
	} catch {
		// offline: use the shell
	}
	// Slow, failing or erroring network: the SPA shell routes on the client.
	return (await cachedShell(new URL(request.url))) ?? network;
}

async function cacheFirst(request: Request): Promise<Response> {
	const cache = await caches.open(CACHE);
	const hit = await cache.match(request);
	if (hit) return hit;
	const response = await fetch(request);
	if (cacheable(response)) await cache.put(request, response.clone());
	return response;
}

sw.addEventListener('install', (event) => {
	event.waitUntil(precache());
});

sw.addEventListener('activate', (event) => {
	event.waitUntil(removeOldCaches().then(() => sw.clients.claim()));
});

sw.addEventListener('fetch', (event) => {
	const { request } = event;
	if (request.method !== 'GET') return;
	const url = new URL(request.url);
	if (url.protocol !== 'http:' && url.protocol !== 'https:') return;
	if (url.origin !== sw.location.origin) return;

	if (request.mode === 'navigate') {
		event.respondWith(navigate(request));
	} else if (CACHE_FIRST.has(url.pathname)) {
		event.respondWith(cacheFirst(request));
	}
	// Anything else (relay APIs, models, version.json polling) goes to the network as usual.
});

/** What a notification of a message carries (state/notify/systemNotifications.ts). */
interface NotificationData {
	url?: unknown;
	target?: unknown;
}

/**
 * A click on a message's notification: an open window of the app is focused and told which
 * message to open (it opens the channel and scrolls to it); with none open, a new window opens
 * at the message's link (`#/m/…`, read by the page when it starts).
 */
async function openNotification(data: NotificationData): Promise<void> {
	const url = typeof data.url === 'string' && new URL(data.url).origin === sw.location.origin ? data.url : HOME;
	const windows = await sw.clients.matchAll({ type: 'window', includeUncontrolled: true });
	const client = windows.find((c) => c.focused) ?? windows[0];
	if (client === undefined) {
		await sw.clients.openWindow(url);
		return;
	}
	await client.focus().catch(() => undefined); // refused without a user gesture in some browsers
	client.postMessage({ type: 'open-message', target: data.target });
}

sw.addEventListener('notificationclick', (event) => {
	event.notification.close();
	event.waitUntil(openNotification((event.notification.data ?? {}) as NotificationData));
});

sw.addEventListener('message', (event) => {
	const data = event.data as Partial<ServiceWorkerMessage> | null;
	if (data?.type === 'skip-waiting') void sw.skipWaiting();
});
