/**
 * Serves the SvelteKit static build (`build/`): files with the right content type and
 * cache policy, brotli or gzip from the `.br`/`.gz` files the build wrote beside them when
 * the client accepts it, cross-origin isolation headers (so wllama can run multithreaded),
 * and the adapter-static fallback page for client-side routes. Never reads outside the root.
 */
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ENCODING_SUFFIX, acceptedEncodings } from './acceptEncoding.ts';
import type { Precompressed } from './acceptEncoding.ts';
import { cacheControlFor, contentTypeFor, isCompressible } from './contentTypes.ts';

/** Options of {@link createStaticHandler}. */
export interface StaticInit {
	/** The directory to serve, e.g. the app's `build/`. */
	root: string;
	/** The page served for unknown navigations (adapter-static `fallback`). */
	fallback?: string;
}

/** Handles one request completely. */
export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** Headers sent with every response, errors included. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
	'Cross-Origin-Opener-Policy': 'same-origin',
	'Cross-Origin-Embedder-Policy': 'require-corp',
	'Cross-Origin-Resource-Policy': 'same-origin',
	'X-Content-Type-Options': 'nosniff',
	// The pages carry the app's policy in a meta tag (svelte.config.js `kit.csp`); what only a
	// header can say: no site may frame the app.
	'Content-Security-Policy': "frame-ancestors 'none'"
};

interface Found {
	file: string;
	stats: Stats;
	/** URL path the cache policy is chosen for. */
	urlPath: string;
}

/** The file a response sends: the found one, or a precompressed variant of it. */
interface Sent {
	file: string;
	stats: Stats;
	/** The `Content-Encoding` of a variant; undefined for the plain file. */
	encoding?: Precompressed;
}

/** Creates the request handler for a static build directory. */
export function createStaticHandler(init: StaticInit): RequestHandler {
	const root = resolve(init.root);
	const fallback = init.fallback ?? '200.html';
	// Resolved lazily: the build may appear after the server starts.
	let realRoot: string | undefined;

	/** A regular file inside the root, or undefined (missing, a directory, or outside). */
	async function fileAt(relative: string): Promise<Omit<Found, 'urlPath'> | undefined> {
		const candidate = join(root, relative);
		try {
			realRoot ??= await realpath(root);
			const real = await realpath(candidate);
			if (real !== realRoot && !real.startsWith(realRoot + sep)) return undefined;
			const stats = await stat(real);
			return stats.isFile() ? { file: real, stats } : undefined;
		} catch {
			return undefined;
		}
	}

	async function find(urlPath: string, acceptsHtml: boolean): Promise<Found | undefined> {
		const candidates = urlPath.endsWith('/')
			? [urlPath + 'index.html']
			: [urlPath, urlPath + '.html', urlPath + '/index.html'];
		for (const candidate of candidates) {
			const hit = await fileAt(candidate);
			if (hit) return { ...hit, urlPath: candidate };
		}
		// Client-side routes: any navigation outside the asset tree gets the app shell.
		const navigation = acceptsHtml || extname(urlPath) === '';
		if (navigation && !urlPath.startsWith('/_app/')) {
			const hit = await fileAt(fallback);
			if (hit) return { ...hit, urlPath: '/' + fallback };
		}
		return undefined;
	}

	/**
	 * The file to send for `found`: its first precompressed variant the client accepts, or
	 * the plain file. A variant older than its file (left from an earlier build) is ignored.
	 */
	async function variantOf(found: Found, accepted: readonly Precompressed[]): Promise<Sent> {
		for (const encoding of accepted) {
			const hit = await fileAt(found.urlPath + ENCODING_SUFFIX[encoding]);
			if (hit && hit.stats.mtimeMs >= found.stats.mtimeMs) return { ...hit, encoding };
		}
		return found;
	}

	return async (req, res) => {
		for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
		if (req.method !== 'GET' && req.method !== 'HEAD') {
			res.setHeader('Allow', 'GET, HEAD');
			return sendText(res, 405, 'Method Not Allowed');
		}
		const urlPath = safePath(req.url ?? '/');
		if (urlPath === undefined) return sendText(res, 400, 'Bad Request');

		const found = await find(urlPath, (req.headers.accept ?? '').includes('text/html'));
		if (!found) return sendText(res, 404, 'Not Found');

		const compressible = isCompressible(found.file);
		const sent: Sent = compressible ? await variantOf(found, acceptedEncodings(req.headers['accept-encoding'])) : found;
		// Each encoding is its own representation, so it needs its own validator.
		const tag = `${sent.stats.size.toString(16)}-${Math.floor(sent.stats.mtimeMs).toString(16)}`;
		const etag = `W/"${sent.encoding === undefined ? tag : `${tag}-${sent.encoding}`}"`;
		res.setHeader('Content-Type', contentTypeFor(found.file));
		res.setHeader('Cache-Control', cacheControlFor(found.urlPath));
		if (compressible) res.setHeader('Vary', 'Accept-Encoding');
		res.setHeader('ETag', etag);
		res.setHeader('Last-Modified', found.stats.mtime.toUTCString());
		if (req.headers['if-none-match'] === etag) {
			res.statusCode = 304;
			res.end();
			return;
		}
		if (sent.encoding !== undefined) res.setHeader('Content-Encoding', sent.encoding);
		res.setHeader('Content-Length', sent.stats.size);
		res.statusCode = 200;
		if (req.method === 'HEAD') {
			res.end();
			return;
		}
		await pipeline(createReadStream(sent.file), res);
	};
}

/**
 * The decoded URL path, or undefined when it must be refused: not absolute, badly
 * encoded, or containing NUL, backslashes or `.`/`..` segments (in any encoding).
 */
export function safePath(rawUrl: string): string | undefined {
	const path = rawUrl.split(/[?#]/, 1)[0] ?? '';
	if (!path.startsWith('/')) return undefined;
	let decoded: string;
	try {
		decoded = decodeURIComponent(path);
	} catch {
		return undefined;
	}
	if (decoded.includes('\0') || decoded.includes('\\')) return undefined;
	if (decoded.split('/').some((segment) => segment === '..' || segment === '.')) return undefined;
	return decoded;
}

function sendText(res: ServerResponse, status: number, text: string): void {
	res.statusCode = status;
	res.setHeader('Content-Type', 'text/plain; charset=utf-8');
	res.setHeader('Cache-Control', 'no-store');
	res.end(text);
}
