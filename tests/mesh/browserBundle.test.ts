/**
 * The browser node must bundle for the browser without Node-only code: no `node:`
 * built-ins, no TCP transport, no `ws` server, no node-datachannel. The app does not
 * import the mesh yet, so `vite build` alone would not notice; this builds
 * `node.browser.ts` on its own with the browser resolve conditions and inspects it.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildForBrowser } from './browserBuild.js';

const entry = fileURLToPath(new URL('../../src/lib/mesh/node.browser.ts', import.meta.url));

describe('the browser mesh bundle', () => {
	it('contains no Node-only modules', async () => {
		const chunks = await buildForBrowser(entry);
		expect(chunks.length).toBeGreaterThan(0);
		for (const chunk of chunks) {
			// Everything is bundled: nothing left for a Node resolver to supply.
			expect(chunk.imports, chunk.fileName).toEqual([]);
			expect(chunk.dynamicImports, chunk.fileName).toEqual([]);
			const modules = Object.keys(chunk.modules);
			expect(modules.filter((m) => /node_modules\/(@libp2p\/tcp|node-datachannel|ws)\//.test(m))).toEqual([]);
			expect(modules.filter((m) => /mesh\/(node\.node|polyfills\.node)\.ts$/.test(m))).toEqual([]);
			expect(modules.some((m) => m.includes('@libp2p/webrtc'))).toBe(true);
			expect(chunk.code).not.toMatch(/\b(?:from|import|require\()\s*["']node:/);
			expect(chunk.code).not.toContain('__vite-browser-external');
		}
	}, 30_000);
});
