import { sveltekit } from '@sveltejs/kit/vite';
import type { Plugin } from 'vite';
import { defineConfig } from 'vitest/config';

/** Packages of the in-browser model runtimes, loaded only when a model is loaded. */
const ENGINE_PACKAGES = /\/node_modules\/(@mlc-ai\/web-llm|@wllama\/wllama)\//;

/**
 * Writes `_app/engine-chunks.json`: the client chunks that hold a model runtime. The service
 * worker leaves them out of its install-time download (megabytes a phone would fetch for a
 * model it may never load) and caches them when they are first used.
 */
function engineChunks(): Plugin {
	return {
		name: 'outpost:engine-chunks',
		apply: 'build',
		generateBundle(_options, bundle) {
			if (this.environment.config.build.ssr) return;
			const files = Object.values(bundle)
				.filter((item) => item.type === 'chunk' && item.moduleIds.some((id) => ENGINE_PACKAGES.test(id)))
				.map((item) => item.fileName);
			this.emitFile({ type: 'asset', fileName: '_app/engine-chunks.json', source: JSON.stringify(files) });
		}
	};
}

export default defineConfig({
	plugins: [sveltekit(), engineChunks()],
	test: {
		include: ['tests/unit/**/*.test.ts', 'relay/**/*.test.ts', 'tests/mesh/**/*.test.ts', 'tests/ai/**/*.test.ts'],
		environment: 'node',
		testTimeout: 20000
	}
});
