/**
 * Builds the app with Vite when `build/` is missing or older than its sources, so
 * `npm start` on a fresh clone or after an edit serves the current app.
 */
import { spawn } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BuildError } from './errors.ts';

/** What the app is built from, relative to the project root. */
export const BUILD_INPUTS = ['src', 'static', 'svelte.config.js', 'vite.config.ts'] as const;

/** A file every complete build writes (the adapter-static fallback page). */
export const BUILD_MARKER = join('build', '200.html');

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

/**
 * Runs `npx vite build` in `projectRoot` if {@link needsBuild} says so.
 * @returns whether a build ran.
 * @throws {BuildError} when the build fails.
 */
export async function ensureBuilt(
	projectRoot: string,
	log: (line: string) => void = console.log
): Promise<boolean> {
	if (!(await needsBuild(projectRoot))) return false;
	log('Building the app (npx vite build)…');
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
	return true;
}
