/**
 * Which in-browser engine runs a model the relay serves (issue 4: "WebLLM when WebGPU is
 * available, wllama otherwise"): an MLC model directory needs WebLLM, and WebLLM needs
 * WebGPU; a GGUF file runs in wllama, on WebGPU when there is an adapter and on the CPU
 * otherwise. {@link chooseEngine} is pure; {@link detectWebGpu} asks the browser.
 */
import type { ModelFormat } from './modelFiles.js';

/** What this browser offers for inference. */
export interface GpuSupport {
	/** `navigator.gpu` exists and gave an adapter. */
	webgpu: boolean;
}

/** How a model would run here, or why it cannot. */
export type EngineChoice =
	| { engine: 'webllm'; gpu: true }
	| { engine: 'wllama'; gpu: boolean }
	| { engine: undefined; reason: 'mlc-needs-webgpu' };

/** See the module comment. */
export function chooseEngine(model: { format: ModelFormat }, support: GpuSupport): EngineChoice {
	if (model.format === 'mlc') return support.webgpu ? { engine: 'webllm', gpu: true } : { engine: undefined, reason: 'mlc-needs-webgpu' };
	return { engine: 'wllama', gpu: support.webgpu };
}

/** The part of `navigator` WebGPU detection reads. */
interface GpuNavigator {
	gpu?: { requestAdapter(): Promise<unknown> };
}

/**
 * Whether WebGPU works here: `navigator.gpu` exists and hands out an adapter within
 * `timeoutMs` (a missing adapter, an error or a hang all count as no WebGPU).
 */
export async function detectWebGpu(nav: GpuNavigator | undefined = globalThis.navigator as GpuNavigator | undefined, timeoutMs = 3000): Promise<boolean> {
	const gpu = nav?.gpu;
	if (gpu === undefined || typeof gpu.requestAdapter !== 'function') return false;
	let timer: ReturnType<typeof setTimeout> | undefined;
	try {
		const adapter = await Promise.race([
			gpu.requestAdapter(),
			new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), timeoutMs)))
		]);
		return adapter !== null && adapter !== undefined;
	} catch {
		return false;
	} finally {
		clearTimeout(timer);
	}
}
