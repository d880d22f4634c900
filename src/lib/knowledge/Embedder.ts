/**
 * What retrieval needs from an embedding model: texts in, unit vectors out. Implemented over
 * node-llama-cpp on the relay (relay/ai/nodeLlamaEmbedder.ts) and over wllama in the browser
 * (ai/wllamaEmbedder.ts); both read the same GGUF files as the chat engines.
 */

/** Computes embeddings; see the module comment. */
export interface Embedder {
	/**
	 * Names the vector space (the model, as `gguf:<model id>`): vectors are stored per id, so
	 * switching models never mixes vectors of two spaces.
	 */
	readonly id: string;
	/**
	 * One unit-length vector per text, in order, all of the same length. Text beyond the
	 * model's context is cut off. Aborting rejects with the signal's reason.
	 */
	embed(texts: string[], signal?: AbortSignal): Promise<Float32Array[]>;
}

/** Thrown when an embedder cannot compute vectors (the model failed or returned none). */
export class EmbedderError extends Error {
	override name = 'EmbedderError';
}
