/**
 * What the wllama Chromium test's page imports: the engine, the model listing, and a small
 * harness that runs generations and streams every chunk back to the test through functions
 * the test exposes on `window` (see wllamaEngine.test.ts).
 */
import type { GenerateRequest } from '../../src/lib/ai/engine.js';
import { listModelFiles } from '../../src/lib/ai/modelFiles.js';
import { WllamaEngine, type WllamaEngineInit } from '../../src/lib/ai/wllamaEngine.js';

export { listModelFiles, WllamaEngine };

/** A thrown value as plain data, for the trip back to Node. */
export interface PageError {
	name: string;
	message: string;
	problem?: string;
}

interface Exposed {
	outpostChunk(id: number, chunk: unknown): Promise<void>;
	outpostEnd(id: number, error: PageError | null): Promise<void>;
}

const running = new Map<number, AbortController>();
let engine: WllamaEngine | undefined;

/** Creates the page's engine and loads a model; returns the model, the progress seen, its threads and GPU layers. */
export async function loadEngine(init: WllamaEngineInit, url: string) {
	await engine?.unload();
	engine = new WllamaEngine(init);
	const progress: { loaded: number; total: number }[] = [];
	const model = await engine.load(url, { onProgress: (p) => progress.push({ ...p }) });
	return { model, progress, isolated: crossOriginIsolated, threads: engine.threads, gpuLayers: engine.gpuLayers };
}

/** The page engine's models. */
export function models() {
	return engine!.models();
}

/** Starts a generation; its chunks and its end reach the test through the exposed functions. */
export function start(id: number, request: GenerateRequest): void {
	const exposed = window as unknown as Exposed;
	const controller = new AbortController();
	running.set(id, controller);
	void (async () => {
		let error: PageError | null = null;
		try {
			for await (const chunk of engine!.generate(request, controller.signal)) await exposed.outpostChunk(id, chunk);
		} catch (thrown) {
			const e = thrown as Error & { problem?: string };
			error = { name: e?.name ?? 'Error', message: e?.message ?? String(thrown), ...(e?.problem ? { problem: e.problem } : {}) };
		}
		running.delete(id);
		await exposed.outpostEnd(id, error);
	})();
}

/**
 * What WebGPU offers wllama here: no adapter; an adapter without `shader-f16`, which
 * llama.cpp's WebGPU backend needs (it then registers no device and runs on the CPU, as on
 * headless Chromium's SwiftShader adapter); or one it can run on.
 */
export async function webGpuSupport(): Promise<'none' | 'no-shader-f16' | 'usable'> {
	const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<{ features: { has(name: string): boolean } } | null> } }).gpu;
	const adapter = await gpu?.requestAdapter().catch(() => null);
	if (!adapter) return 'none';
	return adapter.features.has('shader-f16') ? 'usable' : 'no-shader-f16';
}

/** Aborts a running generation. */
export function abort(id: number): void {
	running.get(id)?.abort();
}
