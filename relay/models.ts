/**
 * Model files for browsers on the LAN (`--models-dir`, DESIGN.md "Models on the mesh"):
 * `GET /models/` lists the `.gguf` files and the MLC model directories (for WebLLM) of the
 * directory as JSON, with their format, `GET /models/<file>.gguf` serves one with byte ranges
 * (wllama and resumable downloads fetch parts), `GET /models/<dir>/resolve/main/<file>` serves
 * the files of an MLC directory in the layout WebLLM asks for, and `/wllama/wllama.wasm` is
 * the wllama runtime from node_modules, so a browser loads a model with no internet at all.
 *
 * Only plain `.gguf` names directly in the directory, and plain file names directly inside an
 * MLC directory (one with `mlc-chat-config.json`, `tensor-cache.json` or `ndarray-cache.json`,
 * and a `.wasm` model library), are served: no deeper paths, no hidden files, no `..`.
 * `tensor-cache.json` is answered from `ndarray-cache.json` (its older name) when only that
 * exists. Symbolic links the operator put there are followed (a models directory often links
 * to weights kept elsewhere).
 */
import { createReadStream } from 'node:fs';
import type { Stats } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import {
	MLC_CONFIG_FILE,
	MLC_TENSOR_CACHE_FILES,
	MODELS_PATH,
	WLLAMA_PATH,
	mlcBasePath,
	type ModelFile
} from '../src/lib/ai/modelFiles.ts';
import { contentTypeFor } from './contentTypes.ts';
import { SECURITY_HEADERS, safePath } from './static.ts';
import type { RequestHandler } from './static.ts';

/** Options of {@link createModelFilesHandler}. */
export interface ModelFilesInit {
	/** The directory of `.gguf` files; a missing directory lists no models. */
	dir: string;
	/** The `@wllama/wllama` package directory; default: resolved from node_modules. */
	wllamaDir?: string;
}

/** Files of the wllama package a browser fetches at runtime, by URL name. */
const WLLAMA_FILES: Readonly<Record<string, string>> = { 'wllama.wasm': 'esm/wasm/wllama.wasm' };

/** Whether the model-files handler answers this URL path. */
export function isModelFilesPath(path: string): boolean {
	return path.startsWith(MODELS_PATH) || path.startsWith(WLLAMA_PATH);
}

/** The `.gguf` files and MLC model directories directly in `dir`, sorted by name; none when it is missing. */
export async function listModels(dir: string): Promise<ModelFile[]> {
	let names: string[];
	try {
		names = await readdir(dir);
	} catch (error) {
		if (isMissing(error)) return [];
		throw error;
	}
	const files: ModelFile[] = [];
	for (const name of names.filter(isPlainName).sort()) {
		const stats = await stat(join(dir, name)).catch(() => undefined);
		if (stats?.isFile() && isModelFileName(name)) {
			files.push({ id: name.replace(/\.gguf$/i, ''), name, size: stats.size, url: MODELS_PATH + encodeURIComponent(name), format: 'gguf' });
		} else if (stats?.isDirectory()) {
			const mlc = await mlcModel(dir, name);
			if (mlc) files.push(mlc);
		}
	}
	return files;
}

/** The MLC model in directory `name` of `dir`, or undefined when it is not one (see the module comment). */
async function mlcModel(dir: string, name: string): Promise<ModelFile | undefined> {
	const entries = await readdir(join(dir, name)).catch(() => [] as string[]);
	const sizes = new Map<string, number>();
	for (const entry of entries.filter(isPlainName)) {
		const stats = await stat(join(dir, name, entry)).catch(() => undefined);
		if (stats?.isFile()) sizes.set(entry, stats.size);
	}
	const lib = [...sizes.keys()].filter((entry) => /\.wasm$/i.test(entry)).sort()[0];
	if (!sizes.has(MLC_CONFIG_FILE) || !MLC_TENSOR_CACHE_FILES.some((f) => sizes.has(f)) || lib === undefined) return undefined;
	const base = mlcBasePath(name);
	return {
		id: name,
		name,
		size: [...sizes.values()].reduce((a, b) => a + b, 0),
		url: base,
		format: 'mlc',
		modelLib: base + encodeURIComponent(lib)
	};
}

/** The file on disk for `/models/<dir>/resolve/main/<file>` (see the module comment), if the path is one. */
async function mlcFile(dir: string, rest: string): Promise<string | undefined> {
	const match = /^([^/]+)\/resolve\/main\/([^/]+)$/.exec(rest);
	if (!match) return undefined;
	const [, model = '', file = ''] = match;
	if (!isPlainName(model) || !isPlainName(file)) return undefined;
	if ((await mlcModel(dir, model)) === undefined) return undefined;
	const path = join(dir, model, file);
	if (file !== MLC_TENSOR_CACHE_FILES[0] || (await stat(path).catch(() => undefined))?.isFile()) return path;
	return join(dir, model, MLC_TENSOR_CACHE_FILES[1]);
}

/** Creates the handler of `/models/…` and `/wllama/…`; see the module comment. */
export function createModelFilesHandler(init: ModelFilesInit): RequestHandler {
	let wllamaDir = init.wllamaDir;
	const wllamaFile = (name: string): string | undefined => {
		const relative = WLLAMA_FILES[name];
		if (relative === undefined) return undefined;
		wllamaDir ??= dirname(createRequire(import.meta.url).resolve('@wllama/wllama/package.json'));
		return join(wllamaDir, relative);
	};

	return async (req, res) => {
		for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
		if (req.method !== 'GET' && req.method !== 'HEAD') {
			res.setHeader('Allow', 'GET, HEAD');
			return sendText(res, 405, 'Method Not Allowed');
		}
		const path = safePath(req.url ?? '/');
		if (path === undefined) return sendText(res, 400, 'Bad Request');

		if (path === MODELS_PATH) {
			const body = JSON.stringify(await listModels(init.dir));
			res.statusCode = 200;
			res.setHeader('Content-Type', 'application/json; charset=utf-8');
			res.setHeader('Cache-Control', 'no-cache');
			res.setHeader('Content-Length', Buffer.byteLength(body));
			res.end(req.method === 'HEAD' ? undefined : body);
			return;
		}
		const [prefix, name] = path.startsWith(MODELS_PATH)
			? [MODELS_PATH, path.slice(MODELS_PATH.length)]
			: [WLLAMA_PATH, path.slice(WLLAMA_PATH.length)];
		const file =
			prefix === MODELS_PATH
				? isModelFileName(name)
					? join(init.dir, name)
					: await mlcFile(init.dir, name)
				: wllamaFile(name);
		const stats = file === undefined ? undefined : await stat(file).catch(() => undefined);
		if (file === undefined || !stats?.isFile()) return sendText(res, 404, 'Not Found');
		await sendFile(req, res, file, stats);
	};
}

/** A plain `.gguf` file name: one path segment, not hidden. */
function isModelFileName(name: string): boolean {
	return /\.gguf$/i.test(name) && isPlainName(name);
}

/** One path segment, not hidden. */
function isPlainName(name: string): boolean {
	return name !== '' && !name.startsWith('.') && !name.includes('/') && !name.includes('\\');
}

/**
 * Sends a file with its validators, honouring a single `Range` (and `If-Range`); several
 * ranges or a malformed header get the whole file, as RFC 9110 allows.
 */
async function sendFile(req: IncomingMessage, res: ServerResponse, file: string, stats: Stats): Promise<void> {
	const size = stats.size;
	const etag = `"${size.toString(16)}-${Math.floor(stats.mtimeMs).toString(16)}"`;
	res.setHeader('Content-Type', contentTypeFor(file));
	// Model files are data fetched by the app: opened as a page (an .html or .svg someone put in
	// the directory), one runs nothing in the app's origin (found in review).
	res.setHeader('Content-Security-Policy', "sandbox; default-src 'none'; frame-ancestors 'none'");
	res.setHeader('Cache-Control', 'no-cache');
	res.setHeader('Accept-Ranges', 'bytes');
	res.setHeader('ETag', etag);
	res.setHeader('Last-Modified', stats.mtime.toUTCString());
	if (req.headers['if-none-match'] === etag) {
		res.statusCode = 304;
		res.end();
		return;
	}
	const ifRange = req.headers['if-range'];
	const rangeHeader = ifRange === undefined || ifRange === etag ? req.headers.range : undefined;
	const range = rangeHeader === undefined ? undefined : parseRange(rangeHeader, size);
	if (range === 'unsatisfiable') {
		res.setHeader('Content-Range', `bytes */${size}`);
		return sendText(res, 416, 'Range Not Satisfiable');
	}
	const [start, end] = range ?? [0, size - 1];
	res.statusCode = range ? 206 : 200;
	if (range) res.setHeader('Content-Range', `bytes ${start}-${end}/${size}`);
	res.setHeader('Content-Length', Math.max(0, end - start + 1));
	if (req.method === 'HEAD' || size === 0) {
		res.end();
		return;
	}
	await pipeline(createReadStream(file, { start, end }), res);
}

/**
 * The inclusive byte range of a `Range: bytes=…` header over a file of `size` bytes;
 * undefined to serve the whole file (malformed, not bytes, or several ranges).
 */
export function parseRange(header: string, size: number): [number, number] | 'unsatisfiable' | undefined {
	const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
	if (!match) return undefined;
	const [, from = '', to = ''] = match;
	if (from === '' && to === '') return undefined;
	if (from === '') {
		const suffix = Number(to);
		if (suffix === 0 || size === 0) return 'unsatisfiable';
		return [Math.max(0, size - suffix), size - 1];
	}
	const start = Number(from);
	const end = to === '' ? size - 1 : Math.min(Number(to), size - 1);
	if (to !== '' && Number(to) < start) return undefined; // invalid: ignore the header
	if (start >= size) return 'unsatisfiable';
	return [start, end];
}

function isMissing(error: unknown): boolean {
	const code = error instanceof Error && 'code' in error ? error.code : undefined;
	return code === 'ENOENT' || code === 'ENOTDIR';
}

function sendText(res: ServerResponse, status: number, text: string): void {
	res.statusCode = status;
	res.setHeader('Content-Type', 'text/plain; charset=utf-8');
	res.setHeader('Cache-Control', 'no-store');
	res.end(text);
}
