/**
 * Writes `.br` and `.gz` beside every compressible file of the static build, once at build
 * time and at high quality, so the relay (static.ts) sends them as they are instead of
 * compressing on every request.
 */
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import { ENCODING_SUFFIX } from './acceptEncoding.ts';
import { isCompressible } from './contentTypes.ts';

const brotli = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

/**
 * Files above this size get brotli quality 9 instead of 11: on a 6 MB model-runtime chunk
 * quality 11 takes ~10 s on one core for ~13 % fewer bytes, and that chunk is loaded only
 * with a model.
 */
const MAX_BEST_QUALITY_BYTES = 2 * 1024 * 1024;

/** Files compressed at once; zlib works on libuv's thread pool (4 threads by default). */
const CONCURRENCY = 4;

/** The sizes of one file and of the variants written for it. */
export interface Compressed {
	/** Path relative to the build root, with `/` separators. */
	path: string;
	/** Size of the plain file in bytes. */
	plain: number;
	/** Size of the `.br` file, or undefined when brotli did not make it smaller. */
	br?: number;
	/** Size of the `.gz` file, or undefined when gzip did not make it smaller. */
	gzip?: number;
}

/** Every regular file below `dir`, relative to it, with `/` separators. */
async function filesBelow(dir: string, prefix = ''): Promise<string[]> {
	const files: string[] = [];
	for (const entry of await readdir(dir, { withFileTypes: true })) {
		const relative = prefix + entry.name;
		if (entry.isDirectory()) files.push(...(await filesBelow(join(dir, entry.name), relative + '/')));
		else if (entry.isFile()) files.push(relative);
	}
	return files;
}

async function compressOne(root: string, path: string): Promise<Compressed> {
	const plain = await readFile(join(root, path));
	const [br, gz] = await Promise.all([
		brotli(plain, {
			params: {
				[constants.BROTLI_PARAM_QUALITY]: plain.length > MAX_BEST_QUALITY_BYTES ? 9 : constants.BROTLI_MAX_QUALITY,
				[constants.BROTLI_PARAM_MODE]: path.endsWith('.wasm') ? constants.BROTLI_MODE_GENERIC : constants.BROTLI_MODE_TEXT,
				[constants.BROTLI_PARAM_SIZE_HINT]: plain.length
			}
		}),
		gzipAsync(plain, { level: constants.Z_BEST_COMPRESSION })
	]);
	const result: Compressed = { path, plain: plain.length };
	// A variant no smaller than the file (tiny files) would only cost a header and a stat.
	if (br.length < plain.length) {
		await writeFile(join(root, path + ENCODING_SUFFIX.br), br);
		result.br = br.length;
	}
	if (gz.length < plain.length) {
		await writeFile(join(root, path + ENCODING_SUFFIX.gzip), gz);
		result.gzip = gz.length;
	}
	return result;
}

/**
 * Compresses every compressible file below `root` (see `isCompressible`) into `.br` and
 * `.gz` beside it, overwriting earlier ones.
 * @returns one entry per compressible file, in path order.
 */
export async function precompress(root: string): Promise<Compressed[]> {
	const paths = (await filesBelow(root)).filter(isCompressible);
	const sizes = new Map(await Promise.all(paths.map(async (path) => [path, (await stat(join(root, path))).size] as const)));
	// Largest first, so the big chunks do not start last and leave the other workers idle.
	const queue = paths.sort((a, b) => (sizes.get(b) ?? 0) - (sizes.get(a) ?? 0));
	const results: Compressed[] = [];
	const worker = async (): Promise<void> => {
		for (let path = queue.shift(); path !== undefined; path = queue.shift()) {
			results.push(await compressOne(root, path));
		}
	};
	await Promise.all(Array.from({ length: CONCURRENCY }, worker));
	return results.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Bytes sent for `files` plain, as brotli and as gzip (the plain size where a variant is missing). */
function totals(files: readonly Compressed[]): string {
	const sum = (size: (file: Compressed) => number): string =>
		`${(files.reduce((total, file) => total + size(file), 0) / 1000).toFixed(1)} kB`;
	return `${sum((f) => f.plain)} plain, ${sum((f) => f.br ?? f.plain)} brotli, ${sum((f) => f.gzip ?? f.plain)} gzip`;
}

/** The build-relative paths of the `<link rel="modulepreload">` scripts of a page. */
export function modulePreloads(html: string): string[] {
	const paths: string[] = [];
	for (const [link] of html.matchAll(/<link\b[^>]*>/gi)) {
		if (!/\brel=["']?modulepreload\b/i.test(link)) continue;
		const href = /\bhref=["']([^"']+)["']/i.exec(link)?.[1];
		if (href !== undefined) paths.push(href.replace(/^\.?\//, ''));
	}
	return paths;
}

/**
 * A two-line account of what {@link precompress} did: every file, and the scripts the home
 * page (`index.html`, the first page load) preloads.
 */
export function precompressSummary(results: readonly Compressed[], homePage: string): string {
	const preloads = new Set(modulePreloads(homePage));
	const firstPage = results.filter((file) => preloads.has(file.path));
	return [
		`Precompressed ${results.length} files: ${totals(results)}`,
		`JS of the first page load (${firstPage.length} files): ${totals(firstPage)}`
	].join('\n');
}
