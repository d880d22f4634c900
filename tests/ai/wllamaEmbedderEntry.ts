/**
 * What the wllama embedder's Chromium test page imports (see wllamaEmbedder.test.ts): load
 * the embedder, embed texts (vectors go back to Node as plain arrays).
 */
import { WllamaEmbedder, type WllamaEmbedderInit } from '../../src/lib/ai/wllamaEmbedder.js';

let embedder: WllamaEmbedder | undefined;

/** Loads the model for embeddings; returns the embedder's id and vector length. */
export async function loadEmbedder(url: string, init: WllamaEmbedderInit = {}) {
	await embedder?.unload();
	embedder = await WllamaEmbedder.load(url, init);
	return { id: embedder.id, dimensions: embedder.dimensions, isolated: crossOriginIsolated };
}

/** The vectors of `texts`. */
export async function embed(texts: string[]): Promise<number[][]> {
	return (await embedder!.embed(texts)).map((v) => [...v]);
}

/** Embeds after unloading: the error's name and message. */
export async function embedAfterUnload(): Promise<{ name: string; message: string }> {
	await embedder!.unload();
	try {
		await embedder!.embed(['x']);
		return { name: 'none', message: '' };
	} catch (error) {
		const e = error as Error;
		return { name: e.name, message: e.message };
	}
}
