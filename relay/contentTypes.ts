/**
 * Content types, compressibility and cache policy for the files of the static build.
 */
import { extname } from 'node:path';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
	'.html': 'text/html; charset=utf-8',
	'.js': 'text/javascript; charset=utf-8',
	'.mjs': 'text/javascript; charset=utf-8',
	'.css': 'text/css; charset=utf-8',
	'.json': 'application/json; charset=utf-8',
	'.map': 'application/json; charset=utf-8',
	'.webmanifest': 'application/manifest+json; charset=utf-8',
	'.txt': 'text/plain; charset=utf-8',
	'.png': 'image/png',
	'.jpg': 'image/jpeg',
	'.jpeg': 'image/jpeg',
	'.webp': 'image/webp',
	'.svg': 'image/svg+xml',
	'.ico': 'image/x-icon',
	'.woff2': 'font/woff2',
	'.wasm': 'application/wasm',
	// GGUF has no registered type; binary keeps browsers from sniffing or rendering it.
	'.gguf': 'application/octet-stream'
};

/** The `Content-Type` for a file name; unknown extensions are served as opaque bytes. */
export function contentTypeFor(fileName: string): string {
	return CONTENT_TYPES[extname(fileName).toLowerCase()] ?? 'application/octet-stream';
}

/** Text and wasm: what the build precompresses. Images and fonts are compressed already. */
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.json', '.map', '.webmanifest', '.txt', '.svg', '.wasm']);

/** Whether a file is worth serving compressed (the build writes `.br` and `.gz` beside it). */
export function isCompressible(fileName: string): boolean {
	return COMPRESSIBLE.has(extname(fileName).toLowerCase());
}

/** Cache lifetime of content-hashed files: they never change under the same name. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

/**
 * The `Cache-Control` for a URL path of the build. Everything that is not content-hashed
 * is revalidated on every use (cheap thanks to ETags), so a new build is picked up at
 * once and the service worker sees its own updates.
 */
export function cacheControlFor(urlPath: string): string {
	return urlPath.startsWith('/_app/immutable/') ? IMMUTABLE : 'no-cache';
}
