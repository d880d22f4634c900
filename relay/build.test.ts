/** When `npm start` decides the app must be rebuilt. */
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { needsBuild, newestMtime } from './build.ts';

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
