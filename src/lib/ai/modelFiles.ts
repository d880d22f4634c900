/**
 * Model files the relay serves to browsers on the LAN (DESIGN.md "Models on the mesh"):
 * the URL layout shared by the relay (relay/models.ts) and the in-browser engines, and
 * the listing a model picker reads. No internet is involved: weights and the wllama
 * runtime both come from the relay.
 *
 * Two formats: a single `.gguf` file (wllama), and an MLC model directory (WebLLM) holding
 * `mlc-chat-config.json`, `tensor-cache.json` (or the older `ndarray-cache.json`), the weight
 * shards, the tokenizer files and the compiled model library (`.wasm`). A directory is
 * served in the Hugging Face layout WebLLM asks for: `/models/<dir>/resolve/main/<file>`.
 */

/** Where the relay lists (`GET /models/`) and serves (`GET /models/<file>.gguf`) model files. */
export const MODELS_PATH = '/models/';

/** Where the relay serves the wllama runtime's files. */
export const WLLAMA_PATH = '/wllama/';

/** The wllama WebAssembly module, as the relay serves it. */
export const WLLAMA_WASM_PATH = `${WLLAMA_PATH}wllama.wasm`;

/** How a model is stored: a GGUF file (wllama) or an MLC model directory (WebLLM). */
export type ModelFormat = 'gguf' | 'mlc';

/** Files that make a directory an MLC model (besides a `.wasm` model library). */
export const MLC_CONFIG_FILE = 'mlc-chat-config.json';
/** The weights manifest WebLLM fetches; `ndarray-cache.json` is its older name. */
export const MLC_TENSOR_CACHE_FILES = ['tensor-cache.json', 'ndarray-cache.json'] as const;

/** The path prefix of an MLC model directory's files on the relay (the Hugging Face layout). */
export function mlcBasePath(dirName: string): string {
	return `${MODELS_PATH}${encodeURIComponent(dirName)}/resolve/main/`;
}

/** One model of `GET /models/`. */
export interface ModelFile {
	/** The file name without `.gguf`, or the MLC directory's name: the model id engines report. */
	id: string;
	/** The file or directory name. */
	name: string;
	/** Size in bytes (all files of an MLC directory). */
	size: number;
	/**
	 * Where it is on the relay: the file (`/models/<encoded name>`), or for an MLC model the
	 * base of its files (`/models/<dir>/resolve/main/`).
	 */
	url: string;
	/** Absent in the listing of an older relay: `gguf`. */
	format: ModelFormat;
	/** MLC only: the compiled model library (`…/resolve/main/<lib>.wasm`). */
	modelLib?: string;
}

/** The model id of a `.gguf` file name or URL: its last path segment without `.gguf`. */
export function modelIdOf(fileNameOrUrl: string): string {
	const path = fileNameOrUrl.split(/[?#]/, 1)[0] ?? '';
	const last = path.slice(path.lastIndexOf('/') + 1);
	let name = last;
	try {
		name = decodeURIComponent(last);
	} catch {
		// A badly encoded name is used as it is.
	}
	return name.replace(/\.gguf$/i, '');
}

/**
 * The model files a relay serves, with absolute URLs.
 * @param base the relay's URL (the app's origin when the relay serves the app)
 */
export async function listModelFiles(base: string | URL, signal?: AbortSignal): Promise<ModelFile[]> {
	const response = await fetch(new URL(MODELS_PATH, base), { signal, headers: { accept: 'application/json' } });
	if (!response.ok) throw new Error(`The relay did not list its models (HTTP ${response.status}).`);
	const files = (await response.json()) as ModelFile[];
	return files.map((file) => ({
		...file,
		format: file.format === 'mlc' ? 'mlc' : 'gguf',
		url: new URL(file.url, base).href,
		...(file.modelLib !== undefined ? { modelLib: new URL(file.modelLib, base).href } : {})
	}));
}
