/**
 * The WebLLM configuration for one MLC model the relay serves: an `AppConfig` whose
 * `model_list` names that model only, with its weights and model library at URLs on the
 * relay, never WebLLM's built-in list (which points at huggingface.co and GitHub). Pure, so
 * it is unit-tested without loading WebLLM.
 */
import type { AppConfig } from '@mlc-ai/web-llm';
import type { ModelFile } from './modelFiles.js';

/** A model the relay does not serve from its own origin, or not an MLC one. */
export class RemoteModelError extends Error {
	override name = 'RemoteModelError';
}

/**
 * The `AppConfig` for `file` (an MLC entry of the relay's `/models/` listing).
 * @param relay the relay's origin; every URL must be on it
 * @throws {RemoteModelError} for a GGUF file, a missing model library, or any URL elsewhere.
 */
export function webllmAppConfig(file: Pick<ModelFile, 'id' | 'url' | 'format' | 'modelLib'>, relay: string): AppConfig {
	if (file.format !== 'mlc') throw new RemoteModelError(`"${file.id}" is not an MLC model: WebLLM runs MLC model directories only.`);
	if (file.modelLib === undefined) throw new RemoteModelError(`"${file.id}" has no model library (.wasm) on the relay.`);
	const origin = new URL(relay).origin;
	const onRelay = (url: string): string => {
		const absolute = new URL(url, origin);
		if (absolute.origin !== origin) throw new RemoteModelError(`"${file.id}" points outside the relay (${absolute.origin}); only the relay's own files are loaded.`);
		return absolute.href;
	};
	let model = onRelay(file.url);
	// WebLLM adds `resolve/main/` to a model URL that lacks a `/resolve/<rev>/` part.
	if (!model.endsWith('/')) model += '/';
	if (!/\/resolve\/[^/]+\/$/.test(model)) model += 'resolve/main/';
	return {
		model_list: [{ model, model_id: file.id, model_lib: onRelay(file.modelLib) }],
		// Weights stay in IndexedDB for offline reloads (the Cache API needs a secure context).
		cacheBackend: 'indexeddb'
	};
}

/** Every URL an `AppConfig` names (for checks that none is remote). */
export function appConfigUrls(config: AppConfig): string[] {
	return config.model_list.flatMap((record) => [record.model, record.model_lib, ...(record.model_manifest ? [record.model_manifest] : [])]);
}
