import adapter from '@sveltejs/adapter-static';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
const config = {
	preprocess: vitePreprocess(),
	kit: {
		adapter: adapter({ fallback: '200.html' }),
		serviceWorker: { register: false },
		// A Content-Security-Policy in every page (a meta tag with the hashes of SvelteKit's inline
		// scripts): scripts only from the app (and WebAssembly), nothing plugged in, no remote
		// images or media. Connections stay open to http/ws: relays and model hosts on the LAN are
		// reached by address. Found in review: there was none, so a sanitiser slip had no backstop.
		csp: {
			mode: 'hash',
			directives: {
				'default-src': ['self'],
				'script-src': ['self', 'wasm-unsafe-eval'],
				'worker-src': ['self', 'blob:'],
				'img-src': ['self', 'blob:', 'data:'],
				'media-src': ['self', 'blob:', 'mediastream:'],
				'style-src': ['self', 'unsafe-inline'],
				'font-src': ['self', 'data:'],
				'connect-src': ['self', 'http:', 'https:', 'ws:', 'wss:', 'blob:', 'data:'],
				'object-src': ['none'],
				'base-uri': ['none'],
				'form-action': ['self']
			}
		}
	}
};

export default config;
