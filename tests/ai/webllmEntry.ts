/**
 * What the WebLLM Chromium test's page imports: WebGPU detection, engine selection and the
 * relay's model listing, statically; the WebLLM engine only inside {@link loadWebllm}, so the
 * test can tell that WebLLM arrives on demand (see webllmEngine.test.ts).
 */
import { chooseEngine, detectWebGpu } from '../../src/lib/ai/engineChoice.js';
import { listModelFiles, type ModelFile } from '../../src/lib/ai/modelFiles.js';

/** A thrown value as plain data, for the trip back to Node. */
export interface PageError {
	name: string;
	message: string;
	problem?: string;
}

/** The relay's models, each with the engine chosen for it in this browser. */
export async function models() {
	const webgpu = await detectWebGpu();
	const files = await listModelFiles(location.origin);
	return { webgpu, files: files.map((file) => ({ ...file, choice: chooseEngine(file, { webgpu }) })) };
}

/**
 * Loads the relay's model `id` (or the listing entry `entry` as given) with the WebLLM
 * engine; the model, or the error as data.
 */
export async function loadWebllm(
	id: string,
	entry?: ModelFile
): Promise<{ ok: true; model: unknown } | { ok: false; error: PageError; progress: number[] }> {
	const file = entry ?? (await listModelFiles(location.origin)).find((f) => f.id === id);
	if (file === undefined) throw new Error(`no model ${id} on the relay`);
	const { WebllmEngine } = await import('../../src/lib/ai/webllmEngine.js');
	const engine = new WebllmEngine();
	const progress: number[] = [];
	try {
		return { ok: true, model: await engine.load(file, { onProgress: (p) => progress.push(p.progress) }) };
	} catch (error) {
		const e = error as Error & { problem?: string };
		return { ok: false, error: { name: e.name, message: e.message, ...(e.problem ? { problem: e.problem } : {}) }, progress };
	}
}
