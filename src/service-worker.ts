/// <reference types="@sveltejs/kit" />
/// <reference no-default-lib="true"/>
/// <reference lib="esnext" />
/// <reference lib="webworker" />
/**
 * The offline app shell: caches the built app on install, answers navigations from the
 * network when it answers quickly and from the cache otherwise, and serves app assets from
 * the cache. Documents never pass through here: they live in IndexedDB.
 */
import { build, files, prerendered, version } from '$service-worker';

const sw = self as unknown as ServiceWorkerGlobalScope;
const CACHE = `outpost-shell-${version}`;
const SHELL = ['/', '/200.html'];
const ASSETS = new Set([...build, ...files, ...prerendered]);
/** How long a navigation waits for the network before the cached shell answers. */
const NAVIGATION_TIMEOUT_MS = 2500;

sw.addEventListener('install', (event) => {
	// addAll refuses duplicate requests, and '/' is also among the prerendered pages.
	event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll([...new Set([...ASSETS, ...SHELL])])));
});

sw.addEventListener('activate', (event) => {
	event.waitUntil(
		(async () => {
			for (const key of await caches.keys()) if (key !== CACHE) await caches.delete(key);
			await sw.clients.claim();
		})()
	);
});

sw.addEventListener('message', (event) => {
	if (event.data && (event.data as { type?: string }).type === 'skip-waiting') void sw.skipWaiting();
});

async function fromCache(request: Request | string): Promise<Response | undefined> {
	const cache = await caches.open(CACHE);
	return cache.match(request);
}

async function navigation(request: Request): Promise<Response> {
	const timeout = new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), NAVIGATION_TIMEOUT_MS));
	try {
		const response = await Promise.race([fetch(request), timeout]);
		if (response && response.ok) return response;
	} catch {
		// offline: fall through to the cached shell
	}
	return (await fromCache('/')) ?? (await fromCache('/200.html')) ?? Response.error();
}

async function asset(request: Request): Promise<Response> {
	const cached = await fromCache(request);
	if (cached) return cached;
	const response = await fetch(request);
	if (response.ok && response.type === 'basic') {
		const cache = await caches.open(CACHE);
		await cache.put(request, response.clone());
	}
	return response;
}

sw.addEventListener('fetch', (event) => {
	const { request } = event;
	const url = new URL(request.url);
	if (request.method !== 'GET' || url.origin !== sw.location.origin) return;
	if (request.mode === 'navigate') {
		event.respondWith(navigation(request));
	} else if (ASSETS.has(url.pathname)) {
		event.respondWith(asset(request));
	}
});
