/**
 * The relay's static server against a fixture build: content types, isolation and cache
 * headers, precompressed brotli and gzip, the SPA fallback, and refusal of anything that
 * could read outside the root.
 */
import { mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRelay } from './server.ts';
import type { Relay } from './server.ts';

const FILES: Record<string, string> = {
	'index.html': '<!doctype html><title>home</title>',
	'200.html': '<!doctype html><title>shell</title>',
	'about.html': '<!doctype html><title>about</title>',
	'docs/index.html': '<!doctype html><title>docs</title>',
	'service-worker.js': 'self.addEventListener("fetch", () => {});',
	'manifest.webmanifest': '{"name":"Outpost"}',
	'_app/version.json': '{"version":"1"}',
	'_app/immutable/entry/app.abc123.js': 'export const app = 1;',
	'_app/immutable/assets/app.abc123.css': 'body { color: black; }',
	'icon-192.png': '\x89PNG fake',
	'logo.svg': '<svg xmlns="http://www.w3.org/2000/svg"/>',
	'engine.wasm': '\0asm',
	'models/tiny.gguf': 'GGUF',
	'robots.txt': 'User-agent: *',
	'favicon.ico': 'ico',
	'fonts/inter.woff2': 'wOF2',
	'blob.unknownext': 'bytes',
	'_app/immutable/chunks/big.abc123.js': 'export const word = "outpost";\n'.repeat(200),
	'_app/immutable/chunks/gz-only.abc123.js': 'export const gz = "only";\n'.repeat(200),
	'_app/immutable/chunks/plain-only.abc123.js': 'export const plain = "only";\n'.repeat(200),
	'stale.js': 'export const fresh = true;\n'.repeat(200)
};

/** The precompressed files of the fixture, as the build writes them beside their files. */
const COMPRESSED: Record<string, 'br' | 'gz'> = {
	'index.html.br': 'br',
	'index.html.gz': 'gz',
	'200.html.br': 'br',
	'200.html.gz': 'gz',
	'service-worker.js.br': 'br',
	'service-worker.js.gz': 'gz',
	'_app/immutable/chunks/big.abc123.js.br': 'br',
	'_app/immutable/chunks/big.abc123.js.gz': 'gz',
	'_app/immutable/chunks/gz-only.abc123.js.gz': 'gz',
	'stale.js.br': 'br',
	// An image is never sent compressed, even where a variant lies beside it.
	'icon-192.png.gz': 'gz'
};

/** Lives next to the root: no request may ever return it. */
const SECRET = 'top secret outside the build';

interface RawResponse {
	status: number;
	headers: IncomingHttpHeaders;
	/** The body as latin1 text. */
	body: string;
	/** The body as sent, before any decoding. */
	bytes: Buffer;
}

let tmp: string;
let relay: Relay;

/** Sends the path exactly as given (fetch would normalise `..` away before sending). */
function raw(path: string, init: { method?: string; headers?: Record<string, string> } = {}) {
	const { port } = relay;
	return new Promise<RawResponse>((resolve, reject) => {
		const req = request({ host: '127.0.0.1', port, path, method: init.method ?? 'GET', headers: init.headers }, (res) => {
			const chunks: Buffer[] = [];
			res.on('data', (chunk: Buffer) => chunks.push(chunk));
			res.on('end', () => {
				const bytes = Buffer.concat(chunks);
				resolve({ status: res.statusCode ?? 0, headers: res.headers, body: bytes.toString('latin1'), bytes });
			});
		});
		req.on('error', reject);
		req.end();
	});
}

beforeAll(async () => {
	tmp = await mkdtemp(join(tmpdir(), 'outpost-static-'));
	const root = join(tmp, 'build');
	for (const [name, content] of Object.entries(FILES)) {
		await mkdir(dirname(join(root, name)), { recursive: true });
		await writeFile(join(root, name), content, 'latin1');
	}
	for (const [name, encoding] of Object.entries(COMPRESSED)) {
		const plain = Buffer.from(FILES[name.replace(/\.(br|gz)$/, '')] ?? '', 'latin1');
		await writeFile(join(root, name), encoding === 'br' ? brotliCompressSync(plain) : gzipSync(plain));
	}
	// A variant left from an earlier build: older than its file, so it must not be sent.
	await utimes(join(root, 'stale.js.br'), 1000, 1000);
	await writeFile(join(tmp, 'secret.txt'), SECRET);
	await writeFile(join(tmp, 'build-secret.txt'), SECRET); // shares the root's name prefix
	// Symlinks inside the root that point out of it must not be followed.
	await symlink(tmp, join(root, 'escape'));
	await symlink(join(tmp, 'secret.txt'), join(root, 'escape-file.txt'));
	relay = await startRelay({ root, host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
	await relay?.close();
	await rm(tmp, { recursive: true, force: true });
});

describe('content types', () => {
	it.each([
		['/', 'text/html; charset=utf-8', FILES['index.html']],
		['/about.html', 'text/html; charset=utf-8', FILES['about.html']],
		['/_app/immutable/entry/app.abc123.js', 'text/javascript; charset=utf-8', FILES['_app/immutable/entry/app.abc123.js']],
		['/_app/immutable/assets/app.abc123.css', 'text/css; charset=utf-8', FILES['_app/immutable/assets/app.abc123.css']],
		['/_app/version.json', 'application/json; charset=utf-8', FILES['_app/version.json']],
		['/manifest.webmanifest', 'application/manifest+json; charset=utf-8', FILES['manifest.webmanifest']],
		['/icon-192.png', 'image/png', FILES['icon-192.png']],
		['/logo.svg', 'image/svg+xml', FILES['logo.svg']],
		['/engine.wasm', 'application/wasm', FILES['engine.wasm']],
		['/models/tiny.gguf', 'application/octet-stream', FILES['models/tiny.gguf']],
		['/robots.txt', 'text/plain; charset=utf-8', FILES['robots.txt']],
		['/favicon.ico', 'image/x-icon', FILES['favicon.ico']],
		['/fonts/inter.woff2', 'font/woff2', FILES['fonts/inter.woff2']],
		['/blob.unknownext', 'application/octet-stream', FILES['blob.unknownext']]
	])('GET %s is %s with the file as body', async (path, type, content) => {
		const res = await raw(path);
		expect(res.status).toBe(200);
		expect(res.headers['content-type']).toBe(type);
		expect(res.body).toBe(content);
		expect(res.headers['content-length']).toBe(String(Buffer.byteLength(content ?? '', 'latin1')));
	});

	it('serves prerendered pages without their .html and directory index pages', async () => {
		expect((await raw('/about')).body).toBe(FILES['about.html']);
		expect((await raw('/docs/')).body).toBe(FILES['docs/index.html']);
		expect((await raw('/docs')).body).toBe(FILES['docs/index.html']);
	});

	it('ignores the query string', async () => {
		expect((await raw('/robots.txt?v=2#x')).body).toBe(FILES['robots.txt']);
	});
});

describe('headers on every response', () => {
	it.each(['/', '/robots.txt', '/_app/immutable/missing.js', '/..%2fsecret.txt'])(
		'%s carries COOP, COEP, CORP, nosniff and frame-ancestors none',
		async (path) => {
			const { headers } = await raw(path);
			expect(headers['cross-origin-opener-policy']).toBe('same-origin');
			expect(headers['cross-origin-embedder-policy']).toBe('require-corp');
			expect(headers['cross-origin-resource-policy']).toBe('same-origin');
			expect(headers['x-content-type-options']).toBe('nosniff');
			expect(headers['content-security-policy']).toBe("frame-ancestors 'none'");
		}
	);
});

describe('caching', () => {
	it.each(['/', '/about', '/service-worker.js', '/manifest.webmanifest', '/some/client/route'])(
		'%s must be revalidated',
		async (path) => {
			expect((await raw(path)).headers['cache-control']).toBe('no-cache');
		}
	);

	it('content-hashed files are immutable for a year', async () => {
		const res = await raw('/_app/immutable/entry/app.abc123.js');
		expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
	});

	it('answers a matching If-None-Match with 304 and no body', async () => {
		const first = await raw('/robots.txt');
		const etag = first.headers.etag;
		expect(etag).toBeTruthy();
		const again = await raw('/robots.txt', { headers: { 'If-None-Match': etag ?? '' } });
		expect(again.status).toBe(304);
		expect(again.body).toBe('');
	});
});

/** The body of a response decoded by its Content-Encoding, as latin1 text. */
function decoded(res: RawResponse): string {
	const encoding = res.headers['content-encoding'];
	const bytes = encoding === 'br' ? brotliDecompressSync(res.bytes) : encoding === 'gzip' ? gunzipSync(res.bytes) : res.bytes;
	return bytes.toString('latin1');
}

describe('precompressed files', () => {
	const BIG = '/_app/immutable/chunks/big.abc123.js';

	it.each([
		['gzip, deflate, br, zstd', 'br'],
		['br', 'br'],
		['gzip, deflate', 'gzip'],
		['x-gzip', 'gzip'],
		['br;q=0, gzip', 'gzip'],
		['gzip;q=1.0, br;q=0.5', 'gzip'],
		['br;q=0.8, gzip;q=0.8', 'br'],
		['*', 'br'],
		['br;q=0, *', 'gzip'],
		['identity', undefined],
		['deflate, zstd', undefined],
		['gzip;q=0, br;q=0', undefined],
		['*;q=0', undefined],
		['gzip;q=nonsense', undefined],
		['', undefined]
	])('Accept-Encoding %j gets %s', async (accept, encoding) => {
		const res = await raw(BIG, { headers: { 'Accept-Encoding': accept } });
		expect(res.status).toBe(200);
		expect(res.headers['content-encoding']).toBe(encoding);
		expect(res.headers['content-type']).toBe('text/javascript; charset=utf-8');
		expect(res.headers.vary).toBe('Accept-Encoding');
		expect(res.headers['content-length']).toBe(String(res.bytes.length));
		expect(decoded(res)).toBe(FILES['_app/immutable/chunks/big.abc123.js']);
	});

	it('sends the plain file, with Vary, when the request has no Accept-Encoding', async () => {
		const res = await raw(BIG);
		expect(res.headers['content-encoding']).toBeUndefined();
		expect(res.headers.vary).toBe('Accept-Encoding');
		expect(res.body).toBe(FILES['_app/immutable/chunks/big.abc123.js']);
	});

	it.each([
		['/', 'index.html'],
		['/service-worker.js', 'service-worker.js'],
		['/channel/general', '200.html'],
		[BIG, '_app/immutable/chunks/big.abc123.js']
	])('%s decodes to the plain file from brotli and from gzip, smaller than it', async (path, file) => {
		for (const encoding of ['br', 'gzip']) {
			const res = await raw(path, { headers: { 'Accept-Encoding': encoding } });
			expect(res.headers['content-encoding']).toBe(encoding);
			expect(decoded(res)).toBe(FILES[file]);
			if (file === '_app/immutable/chunks/big.abc123.js') expect(res.bytes.length).toBeLessThan(decoded(res).length / 4);
		}
	});

	it('falls back from a missing .br to .gz, and from a missing .gz to the plain file', async () => {
		const gzOnly = await raw('/_app/immutable/chunks/gz-only.abc123.js', { headers: { 'Accept-Encoding': 'br, gzip' } });
		expect(gzOnly.headers['content-encoding']).toBe('gzip');
		expect(decoded(gzOnly)).toBe(FILES['_app/immutable/chunks/gz-only.abc123.js']);

		const brOnlyAsked = await raw('/_app/immutable/chunks/gz-only.abc123.js', { headers: { 'Accept-Encoding': 'br' } });
		expect(brOnlyAsked.headers['content-encoding']).toBeUndefined();
		expect(brOnlyAsked.body).toBe(FILES['_app/immutable/chunks/gz-only.abc123.js']);

		const plain = await raw('/_app/immutable/chunks/plain-only.abc123.js', { headers: { 'Accept-Encoding': 'br, gzip' } });
		expect(plain.headers['content-encoding']).toBeUndefined();
		expect(plain.headers.vary).toBe('Accept-Encoding');
		expect(plain.headers['content-length']).toBe(String(FILES['_app/immutable/chunks/plain-only.abc123.js']?.length));
		expect(plain.body).toBe(FILES['_app/immutable/chunks/plain-only.abc123.js']);
	});

	it('ignores a variant older than its file (left from an earlier build)', async () => {
		const res = await raw('/stale.js', { headers: { 'Accept-Encoding': 'br' } });
		expect(res.headers['content-encoding']).toBeUndefined();
		expect(res.body).toBe(FILES['stale.js']);
	});

	it('sends images as they are, without Vary, even with a variant beside them', async () => {
		const res = await raw('/icon-192.png', { headers: { 'Accept-Encoding': 'gzip, br' } });
		expect(res.headers['content-encoding']).toBeUndefined();
		expect(res.headers.vary).toBeUndefined();
		expect(res.body).toBe(FILES['icon-192.png']);
	});

	it('keeps hashed assets immutable and revalidates the rest, whatever the encoding', async () => {
		for (const encoding of ['br', 'gzip', 'identity']) {
			const headers = { 'Accept-Encoding': encoding };
			expect((await raw(BIG, { headers })).headers['cache-control']).toBe('public, max-age=31536000, immutable');
			for (const path of ['/', '/service-worker.js', '/channel/general']) {
				expect((await raw(path, { headers })).headers['cache-control']).toBe('no-cache');
			}
		}
	});

	it('gives each encoding its own ETag and answers 304 to the one it was sent', async () => {
		const br = await raw(BIG, { headers: { 'Accept-Encoding': 'br' } });
		const gzip = await raw(BIG, { headers: { 'Accept-Encoding': 'gzip' } });
		const plain = await raw(BIG);
		expect(new Set([br.headers.etag, gzip.headers.etag, plain.headers.etag]).size).toBe(3);
		const again = await raw(BIG, { headers: { 'Accept-Encoding': 'br', 'If-None-Match': br.headers.etag ?? '' } });
		expect(again.status).toBe(304);
		expect(again.headers.vary).toBe('Accept-Encoding');
		const other = await raw(BIG, { headers: { 'Accept-Encoding': 'gzip', 'If-None-Match': br.headers.etag ?? '' } });
		expect(other.status).toBe(200);
		expect(other.headers['content-encoding']).toBe('gzip');
	});

	it('HEAD gives the encoding and length of what GET would send, without a body', async () => {
		const get = await raw(BIG, { headers: { 'Accept-Encoding': 'br' } });
		const head = await raw(BIG, { method: 'HEAD', headers: { 'Accept-Encoding': 'br' } });
		expect(head.status).toBe(200);
		expect(head.headers['content-encoding']).toBe('br');
		expect(head.headers['content-length']).toBe(String(get.bytes.length));
		expect(head.body).toBe('');
	});
});

describe('SPA fallback', () => {
	it('serves 200.html for an unknown client-side route', async () => {
		const res = await raw('/channel/general/thread/42');
		expect(res.status).toBe(200);
		expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
		expect(res.body).toBe(FILES['200.html']);
	});

	it('serves 200.html for a navigation that accepts HTML even with a dot in the path', async () => {
		const res = await raw('/user/ana.lopez', { headers: { Accept: 'text/html,*/*' } });
		expect(res.status).toBe(200);
		expect(res.body).toBe(FILES['200.html']);
	});

	it('gives 404, not the shell, for a missing asset', async () => {
		const res = await raw('/_app/immutable/chunks/missing.js');
		expect(res.status).toBe(404);
		expect(res.body).not.toContain('<title>shell');
		expect((await raw('/missing.png')).status).toBe(404);
	});
});

describe('path traversal', () => {
	it.each([
		['/../secret.txt', 400],
		['/../../../../etc/passwd', 400],
		['/%2e%2e/secret.txt', 400],
		['/%2E%2E%2Fsecret.txt', 400],
		['/..%2fsecret.txt', 400],
		['/..%5csecret.txt', 400],
		['/docs/%2e%2e/%2e%2e/secret.txt', 400],
		['/../build-secret.txt', 400],
		['/./robots.txt', 400],
		['/robots.txt%00.png', 400],
		['/robots.txt%00', 400],
		['/%E0%A4%A', 400],
		['/escape/secret.txt', 404],
		['/escape-file.txt', 404]
	])('%s is refused with %i and never leaks outside the root', async (path, status) => {
		const res = await raw(path, { headers: { Accept: '*/*' } });
		expect(res.status).toBe(status);
		expect(res.body).not.toContain(SECRET);
	});

	it('treats an absolute-looking path as a path inside the root', async () => {
		for (const path of ['//etc/passwd', '/etc/passwd']) {
			const res = await raw(path);
			expect(res.body).toBe(FILES['200.html']);
		}
	});
});

describe('methods', () => {
	it('HEAD returns the headers of GET without a body', async () => {
		const res = await raw('/_app/version.json', { method: 'HEAD' });
		expect(res.status).toBe(200);
		expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
		expect(res.headers['content-length']).toBe(String(FILES['_app/version.json']?.length));
		expect(res.body).toBe('');
	});

	it.each(['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'])('%s is 405 with Allow', async (method) => {
		const res = await raw('/robots.txt', { method });
		expect(res.status).toBe(405);
		expect(res.headers.allow).toBe('GET, HEAD');
	});
});

describe('lifecycle', () => {
	it('reports a URL that fetch can reach', async () => {
		expect(relay.url).toBe(`http://127.0.0.1:${relay.port}`);
		const res = await fetch(`${relay.url}/robots.txt`);
		expect(await res.text()).toBe(FILES['robots.txt']);
	});

	it('closes even while a client holds a keep-alive connection', async () => {
		const other = await startRelay({ root: join(tmp, 'build'), host: '127.0.0.1', port: 0 });
		await fetch(`${other.url}/`);
		await other.close();
		await expect(fetch(`${other.url}/`)).rejects.toThrow();
	});
});
