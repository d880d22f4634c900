/** The build step that writes `.br` and `.gz` beside the compressible files of the build. */
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { modulePreloads, precompress, precompressSummary } from './precompress.ts';

const SCRIPT = 'export const word = "outpost";\n'.repeat(500);
const HOME = `<!doctype html><head>
<link href="./_app/immutable/entry/start.abc.js" rel="modulepreload">
<link rel="modulepreload" href="/_app/immutable/chunks/shared.def.js">
<link href="./_app/immutable/assets/0.css" rel="stylesheet">
</head><body>${'<p>home</p>'.repeat(50)}</body>`;

const FILES: Record<string, string | Buffer> = {
	'index.html': HOME,
	'_app/immutable/entry/start.abc.js': SCRIPT,
	'_app/immutable/chunks/shared.def.js': SCRIPT.replaceAll('outpost', 'shared'),
	'_app/immutable/chunks/lazy.ghi.js': SCRIPT.replaceAll('outpost', 'lazy'),
	'_app/immutable/assets/0.css': 'body { color: black; }\n'.repeat(100),
	'manifest.webmanifest': JSON.stringify({ name: 'Outpost', icons: Array(20).fill({ src: 'icon.png' }) }),
	'tiny.js': 'x',
	'icon-192.png': Buffer.from('\x89PNG'.repeat(200), 'latin1')
};

let root: string;

beforeEach(async () => {
	root = await mkdtemp(join(tmpdir(), 'outpost-precompress-'));
	for (const [name, content] of Object.entries(FILES)) {
		await mkdir(dirname(join(root, name)), { recursive: true });
		await writeFile(join(root, name), content);
	}
});

afterEach(async () => {
	await rm(root, { recursive: true, force: true });
});

describe('precompress', () => {
	it('writes .br and .gz that decode to each compressible file', async () => {
		await precompress(root);
		for (const name of ['index.html', '_app/immutable/entry/start.abc.js', '_app/immutable/assets/0.css', 'manifest.webmanifest']) {
			const plain = await readFile(join(root, name));
			expect(brotliDecompressSync(await readFile(join(root, `${name}.br`)))).toEqual(plain);
			expect(gunzipSync(await readFile(join(root, `${name}.gz`)))).toEqual(plain);
		}
	});

	it('reports the sizes, brotli smaller than gzip smaller than plain', async () => {
		const results = await precompress(root);
		const start = results.find((file) => file.path === '_app/immutable/entry/start.abc.js');
		expect(start?.plain).toBe(SCRIPT.length);
		expect(start?.br).toBeLessThan(start?.gzip ?? 0);
		expect(start?.gzip).toBeLessThan(SCRIPT.length);
		expect(results.map((file) => file.path)).toEqual([...results.map((file) => file.path)].sort());
	});

	it('leaves images alone and writes no variant that is not smaller', async () => {
		const results = await precompress(root);
		expect(results.some((file) => file.path === 'icon-192.png')).toBe(false);
		expect(results.find((file) => file.path === 'tiny.js')).toEqual({ path: 'tiny.js', plain: 1 });
		const names = await readdir(root);
		expect(names).not.toContain('icon-192.png.br');
		expect(names).not.toContain('tiny.js.gz');
	});

	it('run twice, compresses the same files and never its own output', async () => {
		const first = await precompress(root);
		const second = await precompress(root);
		expect(second).toEqual(first);
		expect(await readdir(root)).not.toContain('index.html.br.gz');
	});
});

describe('precompressSummary', () => {
	it('finds the scripts a page preloads, relative to the build', () => {
		expect(modulePreloads(HOME)).toEqual(['_app/immutable/entry/start.abc.js', '_app/immutable/chunks/shared.def.js']);
	});

	it('totals every file and the first page load', async () => {
		const summary = precompressSummary(await precompress(root), HOME);
		const [all, firstPage] = summary.split('\n');
		expect(all).toMatch(/^Precompressed 7 files: [\d.]+ kB plain, [\d.]+ kB brotli, [\d.]+ kB gzip$/);
		const preloaded = String(FILES['_app/immutable/entry/start.abc.js']).length + String(FILES['_app/immutable/chunks/shared.def.js']).length;
		expect(firstPage).toMatch(new RegExp(`^JS of the first page load \\(2 files\\): ${(preloaded / 1000).toFixed(1)} kB plain, `));
	});
});
