/**
 * Model files the relay serves to browsers on the LAN (DESIGN.md "Models on the mesh"):
 * the URL layout shared by the relay (relay/models.ts) and the in-browser engines, and
 * the listing a model picker reads. No internet is involved: weights and the wllama
 * runtime both come from the relay.
 */

/** Where the relay lists (`GET /models/`) and serves (`GET /models/<file>.gguf`) model files. */
export const MODELS_PATH = '/models/';

/** Where the relay serves the wllama runtime's files. */
export const WLLAMA_PATH = '/wllama/';

/** The wllama WebAssembly module, as the relay serves it. */
export const WLLAMA_WASM_PATH = `${WLLAMA_PATH}wllama.wasm`;

/** One model file of `GET /models/`. */
export interface ModelFile {
	/** The file name without `.gguf`: the model id the wllama engine reports. */
	id: string;
	/** The file name. */
	name: string;
	/** Size in bytes. */
	size: number;
	/** Path of the file on the relay (`/models/<encoded name>`). */
	url: string;
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
	return files.map((file) => ({ ...file, url: new URL(file.url, base).href }));
}
