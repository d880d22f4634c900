/**
 * Bundles the project's own yjs into a script that, evaluated in a page, exposes it as
 * `globalThis.__benchYjs`: the page can then time a raw `Y.applyUpdate` next to the app.
 */
import { createRequire } from 'node:module';
import { build } from 'vite';

/** Global name the bundle assigns in the page. */
export const YJS_GLOBAL = '__benchYjs';

/** Returns the source of an IIFE that sets `globalThis.__benchYjs` to the yjs module. */
export async function bundleYjs(): Promise<string> {
	const entry = createRequire(import.meta.url).resolve('yjs').replace(/yjs\.cjs$/, 'yjs.mjs');
	const result = await build({
		configFile: false,
		logLevel: 'silent',
		build: {
			write: false,
			minify: false,
			lib: { entry, formats: ['iife'], name: YJS_GLOBAL, fileName: () => 'yjs.js' }
		}
	});
	const outputs = Array.isArray(result) ? result : [result];
	for (const output of outputs) {
		if (!('output' in output)) continue;
		for (const chunk of output.output) {
			if (chunk.type === 'chunk') return `${chunk.code}\n;globalThis.${YJS_GLOBAL} = ${YJS_GLOBAL};`;
		}
	}
	throw new Error('vite produced no yjs bundle');
}
