/**
 * Registers the service worker that keeps the app shell available offline
 * (src/service-worker.ts, built by SvelteKit to /service-worker.js).
 */
export async function registerServiceWorker(): Promise<void> {
	if (!('serviceWorker' in navigator) || !window.isSecureContext) return;
	try {
		await navigator.serviceWorker.register('/service-worker.js', { type: 'module' });
	} catch (err) {
		console.warn('service worker registration failed', err);
	}
}
