/** When `npm start` decides the app must be rebuilt or only compressed. */
import { mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { gunzipSync } from 'node:zlib';
import { ensureBuilt, needsBuild, needsCompression, newestMtime } from './build.ts';

let project: string;

/** Writes a file with a given modification time (seconds since the epoch). */
async function file(relative: string, mtime: number): Promise<void> {
	const path = join(project, relative);
	await mkdir(join(path, '..'), { recursive: true });
	await writeFile(path, relative);
	await utimes(path, mtime, mtime);
}

beforeEach(async () => {
	project = await mkdtemp(join(tmpdir(), 'outpost-build-'));
	await file('src/routes/+page.svelte', 1000);
	await file('static/icon.png', 1000);
	await file('svelte.config.js', 1000);
	await file('vite.config.ts', 1000);
	// Directories get the time of their last change; keep them old too.
	for (const dir of ['src/routes', 'src', 'static']) await utimes(join(project, dir), 1000, 1000);
});

afterEach(async () => {
	await rm(project, { recursive: true, force: true });
});

describe('needsBuild', () => {
	it('is true when there is no build', async () => {
		expect(await needsBuild(project)).toBe(true);
	});

	it('is false when the build is newer than every input', async () => {
		await file('build/200.html', 2000);
		expect(await needsBuild(project)).toBe(false);
	});

	it.each(['src/lib/deep/nested/file.ts', 'static/manifest.webmanifest', 'svelte.config.js', 'vite.config.ts'])(
		'is true when %s changed after the build',
		async (changed) => {
			await file('build/200.html', 2000);
			await file(changed, 3000);
			expect(await needsBuild(project)).toBe(true);
		}
	);

	it('ignores files that are not inputs', async () => {
		await file('build/200.html', 2000);
		await file('README.md', 3000);
		await file('relay/start.ts', 3000);
		expect(await needsBuild(project)).toBe(false);
	});
});

describe('newestMtime', () => {
	it('is 0 for a missing path', async () => {
		expect(await newestMtime(join(project, 'nope'))).toBe(0);
	});
});

describe('needsCompression', () => {
	it('is true for a build without its compressed files, false once they are written', async () => {
		await file('build/200.html', 2000);
		expect(await needsCompression(project)).toBe(true);
		await file('build/200.html.gz', 2000);
		expect(await needsCompression(project)).toBe(false);
	});
});

describe('ensureBuilt', () => {
	it('does nothing when the build is fresh and compressed (npm start after npm install)', async () => {
		await file('build/200.html', 2000);
		await file('build/200.html.gz', 2000);
		const log: string[] = [];
		expect(await ensureBuilt(project, (line) => log.push(line))).toBe(false);
		expect(log).toEqual([]);
	});

	it('compresses a fresh build from a bare vite build without rebuilding it', async () => {
		const shell = '<!doctype html><title>shell</title>'.repeat(20);
		await file('build/200.html', 2000);
		await writeFile(join(project, 'build/200.html'), shell);
		await utimes(join(project, 'build/200.html'), 2000, 2000);
		const log: string[] = [];
		expect(await ensureBuilt(project, (line) => log.push(line))).toBe(true);
		expect(log[0]).toBe('Compressing the app (brotli, gzip)…');
		expect(gunzipSync(await readFile(join(project, 'build/200.html.gz'))).toString()).toBe(shell);
		expect(await needsBuild(project)).toBe(false);
		expect(await needsCompression(project)).toBe(false);
	});
});
