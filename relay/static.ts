/**
 * Serves the SvelteKit static build (`build/`): files with the right content type and
 * cache policy, cross-origin isolation headers (so wllama can run multithreaded), and the
 * adapter-static fallback page for client-side routes. Never reads outside the root.
 */
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { cacheControlFor, contentTypeFor } from './contentTypes.ts';

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
	'X-Content-Type-Options': 'nosniff'
};

interface Found {
	file: string;
	stats: Stats;
	/** URL path the cache policy is chosen for. */
	urlPath: string;
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

		const etag = `W/"${found.stats.size.toString(16)}-${Math.floor(found.stats.mtimeMs).toString(16)}"`;
		res.setHeader('Content-Type', contentTypeFor(found.file));
		res.setHeader('Cache-Control', cacheControlFor(found.urlPath));
		res.setHeader('ETag', etag);
		res.setHeader('Last-Modified', found.stats.mtime.toUTCString());
		if (req.headers['if-none-match'] === etag) {
			res.statusCode = 304;
			res.end();
			return;
		}
		res.setHeader('Content-Length', found.stats.size);
		res.statusCode = 200;
		if (req.method === 'HEAD') {
			res.end();
			return;
		}
		await pipeline(createReadStream(found.file), res);
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
