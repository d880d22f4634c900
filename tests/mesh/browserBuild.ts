/**
 * Builds a module for the browser with Vite's browser resolve conditions, in memory,
 * for the bundle guard and the Chromium test.
 */
import { build } from 'vite';
import type { Rollup } from 'vite';

/** Bundles `entry` as one ES module for the browser; returns its chunks. */
export async function buildForBrowser(entry: string): Promise<Rollup.OutputChunk[]> {
	const output = (await build({
		configFile: false,
		logLevel: 'silent',
		build: {
			write: false,
			minify: false,
			lib: { entry, formats: ['es'], fileName: 'mesh' }
		}
	})) as Rollup.RollupOutput[] | Rollup.RollupOutput;
	return (Array.isArray(output) ? output : [output])
		.flatMap((o) => o.output)
		.filter((item): item is Rollup.OutputChunk => item.type === 'chunk');
}
