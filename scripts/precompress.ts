/**
 * Run by `npm run build` after `vite build`: writes `.br` and `.gz` beside the compressible
 * files of the build (default `build/`) and prints their sizes.
 *
 *   node --import tsx scripts/precompress.ts [build-dir]
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { precompress, precompressSummary } from '../relay/precompress.ts';

const root = resolve(process.argv[2] ?? 'build');
const results = await precompress(root);
console.log(precompressSummary(results, await readFile(join(root, 'index.html'), 'utf8').catch(() => '')));
