/**
 * Builds the app as `npm run build` does (Vite, then `.br`/`.gz` beside the compressible
 * files) when `build/` is missing or older than its sources, so `npm start` after an edit
 * serves the current app. `npm install` builds already (the `prepare` script), so on a
 * fresh clone this finds the build fresh and the relay starts at once.
 */
import { spawn } from 'node:child_process';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BuildError } from './errors.ts';
import { precompress, precompressSummary } from './precompress.ts';

/** What the app is built from, relative to the project root. */
export const BUILD_INPUTS = ['src', 'static', 'svelte.config.js', 'vite.config.ts'] as const;

/** A file every complete build writes (the adapter-static fallback page). */
export const BUILD_MARKER = join('build', '200.html');

/**
 * Written by {@link precompress} for every complete build: a build without it came from a
 * bare `vite build` (as `npm run test:e2e` runs) and only needs compressing.
 */
export const COMPRESSED_MARKER = `${BUILD_MARKER}.gz`;

/** Newest modification time (ms) of a file or of any file below a directory; 0 if absent. */
export async function newestMtime(path: string): Promise<number> {
	let stats;
	try {
		stats = await stat(path);
	} catch {
		return 0;
	}
	if (!stats.isDirectory()) return stats.mtimeMs;
	let newest = stats.mtimeMs;
	for (const entry of await readdir(path)) {
		newest = Math.max(newest, await newestMtime(join(path, entry)));
	}
	return newest;
}

/** Whether the build in `projectRoot` is missing or older than any of its inputs. */
export async function needsBuild(projectRoot: string): Promise<boolean> {
	let built: number;
	try {
		built = (await stat(join(projectRoot, BUILD_MARKER))).mtimeMs;
	} catch {
		return true;
	}
	for (const input of BUILD_INPUTS) {
		if ((await newestMtime(join(projectRoot, input))) > built) return true;
	}
	return false;
}

/** Whether the build in `projectRoot` lacks its precompressed files. */
export async function needsCompression(projectRoot: string): Promise<boolean> {
	try {
		await stat(join(projectRoot, COMPRESSED_MARKER));
		return false;
	} catch {
		return true;
	}
}

/** Runs `npx vite build` in `projectRoot`. @throws {BuildError} when it fails. */
async function viteBuild(projectRoot: string): Promise<void> {
	const code = await new Promise<number | null>((resolve, reject) => {
		const child = spawn('npx', ['vite', 'build'], {
			cwd: projectRoot,
			stdio: 'inherit',
			shell: process.platform === 'win32'
		});
		child.once('error', reject);
		child.once('exit', resolve);
	});
	if (code !== 0) throw new BuildError(`vite build failed (exit code ${code ?? 'none'})`);
}

/**
 * Builds the app in `projectRoot` if {@link needsBuild} says so, and writes its
 * precompressed files if they are missing.
 * @returns whether anything was built or compressed.
 * @throws {BuildError} when the build fails.
 */
export async function ensureBuilt(
	projectRoot: string,
	log: (line: string) => void = console.log
): Promise<boolean> {
	const stale = await needsBuild(projectRoot);
	if (!stale && !(await needsCompression(projectRoot))) return false;
	if (stale) {
		log('Building the app (npx vite build)…');
		await viteBuild(projectRoot);
	} else log('Compressing the app (brotli, gzip)…');
	const root = join(projectRoot, 'build');
	const results = await precompress(root);
	log(precompressSummary(results, await readFile(join(root, 'index.html'), 'utf8').catch(() => '')));
	return true;
}
