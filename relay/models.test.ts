/** Model files and the wllama runtime served to browsers: listing, ranges, traversal, routing. */
import '../src/lib/mesh/polyfills.node.ts'; // before anything that loads libp2p (runRelay)
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFlags } from './cli.ts';
import { createModelFilesHandler, listModels, parseRange } from './models.ts';
import { runRelay } from './run.ts';
import { startRelay } from './server.ts';
import type { Relay } from './server.ts';

interface Answer {
	status: number;
	headers: Record<string, string | string[] | undefined>;
	body: Buffer;
}

/** A raw request: the path goes out exactly as written (fetch would normalise `..`). */
function get(base: string, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Answer> {
	const url = new URL(base);
	return new Promise((resolve, reject) => {
		const req = request({ host: url.hostname, port: url.port, path, method, headers }, (res) => {
			const chunks: Buffer[] = [];
			res.on('data', (chunk: Buffer) => chunks.push(chunk));
			res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
			res.on('error', reject);
		});
		req.on('error', reject);
		req.end();
	});
}

describe('model files', () => {
	let root: string;
	let models: string;
	let relay: Relay;
	const bytes = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));

	beforeAll(async () => {
		root = await mkdtemp(join(tmpdir(), 'outpost-models-'));
		models = join(root, 'models');
		await mkdir(join(root, 'app'));
		await writeFile(join(root, 'app', 'index.html'), '<!doctype html><title>app</title>');
		await writeFile(join(root, 'secret.gguf'), 'outside the models directory');
		await mkdir(join(models, 'sub.gguf'), { recursive: true });
		await writeFile(join(models, 'b-model.gguf'), bytes);
		await writeFile(join(models, 'A Model ü.GGUF'), 'x');
		await writeFile(join(models, '.hidden.gguf'), 'x');
		await writeFile(join(models, 'notes.txt'), 'x');
		await writeFile(join(models, 'sub.gguf', 'inner.gguf'), 'x');
		await symlink(join(root, 'secret.gguf'), join(models, 'linked.gguf'));
		// An MLC model directory (the older ndarray-cache.json name), and one without a model library.
		await mkdir(join(models, 'tiny-mlc'));
		await writeFile(join(models, 'tiny-mlc', 'mlc-chat-config.json'), '{"context_window_size":256}');
		await writeFile(join(models, 'tiny-mlc', 'ndarray-cache.json'), '{"records":[]}');
		await writeFile(join(models, 'tiny-mlc', 'params_shard_0.bin'), bytes);
		await writeFile(join(models, 'tiny-mlc', 'tiny-webgpu.wasm'), 'wasm');
		await writeFile(join(models, 'tiny-mlc', '.secret'), 'x');
		await mkdir(join(models, 'no-lib-mlc'));
		await writeFile(join(models, 'no-lib-mlc', 'mlc-chat-config.json'), '{}');
		await writeFile(join(models, 'no-lib-mlc', 'tensor-cache.json'), '{}');
		relay = await startRelay({
			root: join(root, 'app'),
			host: '127.0.0.1',
			port: 0,
			signalling: false,
			models: createModelFilesHandler({ dir: models })
		});
	});
	afterAll(async () => {
		await relay?.close();
		await rm(root, { recursive: true, force: true });
	});

	it('lists the .gguf files and MLC model directories, sorted, with ids, sizes, URLs and formats', async () => {
		const answer = await get(relay.url, '/models/');
		expect(answer.status).toBe(200);
		expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
		expect(answer.headers['cross-origin-embedder-policy']).toBe('require-corp');
		expect(JSON.parse(answer.body.toString())).toEqual([
			{ id: 'A Model ü', name: 'A Model ü.GGUF', size: 1, url: '/models/A%20Model%20%C3%BC.GGUF', format: 'gguf' },
			{ id: 'b-model', name: 'b-model.gguf', size: 1000, url: '/models/b-model.gguf', format: 'gguf' },
			{ id: 'linked', name: 'linked.gguf', size: 28, url: '/models/linked.gguf', format: 'gguf' },
			{
				id: 'tiny-mlc',
				name: 'tiny-mlc',
				size: 27 + 14 + 1000 + 4, // the hidden file is not part of the model
				url: '/models/tiny-mlc/resolve/main/',
				format: 'mlc',
				modelLib: '/models/tiny-mlc/resolve/main/tiny-webgpu.wasm'
			}
		]);
	});

	it('serves the files of an MLC directory in the layout WebLLM asks for, and nothing else there', async () => {
		const config = await get(relay.url, '/models/tiny-mlc/resolve/main/mlc-chat-config.json');
		expect([config.status, config.body.toString()]).toEqual([200, '{"context_window_size":256}']);
		const shard = await get(relay.url, '/models/tiny-mlc/resolve/main/params_shard_0.bin', { range: 'bytes=0-9' });
		expect([shard.status, shard.body.equals(bytes.subarray(0, 10))]).toEqual([206, true]);
		expect((await get(relay.url, '/models/tiny-mlc/resolve/main/tiny-webgpu.wasm')).headers['content-type']).toBe('application/wasm');
		// WebLLM asks for tensor-cache.json: the older ndarray-cache.json answers.
		const manifest = await get(relay.url, '/models/tiny-mlc/resolve/main/tensor-cache.json');
		expect([manifest.status, manifest.body.toString()]).toEqual([200, '{"records":[]}']);
		for (const path of [
			'/models/tiny-mlc/mlc-chat-config.json',
			'/models/tiny-mlc/resolve/main/.secret',
			'/models/tiny-mlc/resolve/main/missing.bin',
			'/models/tiny-mlc/resolve/other/mlc-chat-config.json',
			'/models/no-lib-mlc/resolve/main/mlc-chat-config.json',
			'/models/sub.gguf/resolve/main/inner.gguf'
		])
			expect((await get(relay.url, path)).status, path).toBe(404);
		expect((await get(relay.url, '/models/tiny-mlc/resolve/main/..%2f..%2fb-model.gguf')).status).not.toBe(200);
	});

	it('lists nothing when the directory is missing', async () => {
		expect(await listModels(join(root, 'none'))).toEqual([]);
		const other = await startRelay({
			root: join(root, 'app'),
			host: '127.0.0.1',
			port: 0,
			signalling: false,
			models: createModelFilesHandler({ dir: join(root, 'none') })
		});
		try {
			expect(JSON.parse((await get(other.url, '/models/')).body.toString())).toEqual([]);
			expect((await get(other.url, '/models/b-model.gguf')).status).toBe(404);
		} finally {
			await other.close();
		}
	});

	it('serves a file whole, with its type, length and validators', async () => {
		const answer = await get(relay.url, '/models/b-model.gguf');
		expect(answer.status).toBe(200);
		expect(answer.headers['content-type']).toBe('application/octet-stream');
		expect(answer.headers['content-length']).toBe('1000');
		expect(answer.headers['accept-ranges']).toBe('bytes');
		expect(answer.headers['cross-origin-resource-policy']).toBe('same-origin');
		// Opened as a page, a model file runs nothing in the app's origin (found in review).
		expect(answer.headers['content-security-policy']).toMatch(/^sandbox; default-src 'none'/);
		expect(answer.body.equals(bytes)).toBe(true);
		const etag = String(answer.headers.etag);
		expect((await get(relay.url, '/models/b-model.gguf', { 'if-none-match': etag })).status).toBe(304);
		const head = await get(relay.url, '/models/A%20Model%20%C3%BC.GGUF', {}, 'HEAD');
		expect(head.status).toBe(200);
		expect(head.headers['content-length']).toBe('1');
		expect(head.body.length).toBe(0);
	});

	it('serves byte ranges', async () => {
		const part = await get(relay.url, '/models/b-model.gguf', { range: 'bytes=100-199' });
		expect(part.status).toBe(206);
		expect(part.headers['content-range']).toBe('bytes 100-199/1000');
		expect(part.headers['content-length']).toBe('100');
		expect(part.body.equals(bytes.subarray(100, 200))).toBe(true);

		const open = await get(relay.url, '/models/b-model.gguf', { range: 'bytes=990-' });
		expect(open.headers['content-range']).toBe('bytes 990-999/1000');
		expect(open.body.equals(bytes.subarray(990))).toBe(true);

		const suffix = await get(relay.url, '/models/b-model.gguf', { range: 'bytes=-5' });
		expect(suffix.status).toBe(206);
		expect(suffix.body.equals(bytes.subarray(995))).toBe(true);

		const past = await get(relay.url, '/models/b-model.gguf', { range: 'bytes=995-5000' });
		expect(past.headers['content-range']).toBe('bytes 995-999/1000');

		const beyond = await get(relay.url, '/models/b-model.gguf', { range: 'bytes=1000-' });
		expect(beyond.status).toBe(416);
		expect(beyond.headers['content-range']).toBe('bytes */1000');

		// Several ranges, or a stale If-Range: the whole file.
		expect((await get(relay.url, '/models/b-model.gguf', { range: 'bytes=0-1,5-6' })).status).toBe(200);
		expect((await get(relay.url, '/models/b-model.gguf', { range: 'bytes=0-1', 'if-range': '"old"' })).status).toBe(200);
	});

	it('parses ranges as RFC 9110 says', () => {
		expect(parseRange('bytes=0-0', 10)).toEqual([0, 0]);
		expect(parseRange('bytes=-20', 10)).toEqual([0, 9]);
		expect(parseRange('bytes=-0', 10)).toBe('unsatisfiable');
		expect(parseRange('bytes=5-2', 10)).toBeUndefined();
		expect(parseRange('items=0-1', 10)).toBeUndefined();
		expect(parseRange('bytes=-', 10)).toBeUndefined();
		expect(parseRange('bytes=0-', 0)).toBe('unsatisfiable');
	});

	it('never serves anything outside the directory, hidden files or subdirectories', async () => {
		for (const path of [
			'/models/../secret.gguf',
			'/models/%2e%2e/secret.gguf',
			'/models/..%2fsecret.gguf',
			'/models/..%5csecret.gguf',
			'/models/sub.gguf/inner.gguf',
			'/models/sub.gguf',
			'/models/.hidden.gguf',
			'/models/notes.txt',
			'/models/%00.gguf',
			'/models/%E0%A4%A.gguf'
		]) {
			const answer = await get(relay.url, path);
			expect([400, 404], path).toContain(answer.status);
			expect(answer.body.toString(), path).not.toContain('outside');
		}
		expect((await get(relay.url, '/models/b-model.gguf', {}, 'POST')).status).toBe(405);
	});

	it('serves the wllama runtime from node_modules, and nothing else from there', async () => {
		const wasm = await get(relay.url, '/wllama/wllama.wasm', {}, 'HEAD');
		expect(wasm.status).toBe(200);
		expect(wasm.headers['content-type']).toBe('application/wasm');
		expect(Number(wasm.headers['content-length'])).toBeGreaterThan(1_000_000);
		expect(wasm.headers['cross-origin-embedder-policy']).toBe('require-corp');
		const magic = await get(relay.url, '/wllama/wllama.wasm', { range: 'bytes=0-3' });
		expect([...magic.body]).toEqual([0x00, 0x61, 0x73, 0x6d]); // "\0asm"
		expect((await get(relay.url, '/wllama/package.json')).status).toBe(404);
		expect((await get(relay.url, '/wllama/../package.json')).status).toBe(400);
	});

	it('leaves other paths to the app', async () => {
		const answer = await get(relay.url, '/models', { accept: 'text/html' });
		expect(answer.status).toBe(404); // no fallback page in this build: the static handler answered
		expect((await get(relay.url, '/index.html')).body.toString()).toContain('<title>app</title>');
	});

	it('takes --models-dir on the command line', () => {
		expect(parseFlags(['--models-dir', '/srv/models']).modelsDir).toBe('/srv/models');
		expect(parseFlags([]).modelsDir).toBeUndefined();
		expect(() => parseFlags(['--models-dir', ' '])).toThrow(/--models-dir/);
	});
});

describe('the relay with --models-dir', () => {
	it('serves <data>/models by default, and the directory it is given', async () => {
		const tmp = await mkdtemp(join(tmpdir(), 'outpost-models-run-'));
		try {
			await mkdir(join(tmp, 'build'));
			await mkdir(join(tmp, 'data', 'models'), { recursive: true });
			await mkdir(join(tmp, 'elsewhere'));
			await writeFile(join(tmp, 'data', 'models', 'default.gguf'), 'x');
			await writeFile(join(tmp, 'elsewhere', 'given.gguf'), 'xy');
			const base = { root: join(tmp, 'build'), dataDir: join(tmp, 'data'), host: '127.0.0.1', port: 0, mdns: false, log: () => undefined };
			for (const [init, expected] of [
				[base, ['default']],
				[{ ...base, modelsDir: join(tmp, 'elsewhere') }, ['given']]
			] as const) {
				const relay = await runRelay(init);
				try {
					const listed = JSON.parse((await get(relay.server.url, '/models/')).body.toString()) as { id: string }[];
					expect(listed.map((m) => m.id)).toEqual(expected);
					expect((await get(relay.server.url, '/wllama/wllama.wasm', {}, 'HEAD')).status).toBe(200);
				} finally {
					await relay.close();
				}
			}
		} finally {
			await rm(tmp, { recursive: true, force: true });
		}
	}, 20_000);
});
