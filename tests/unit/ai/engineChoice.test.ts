/** Which in-browser engine runs a model (engineChoice.ts), and how WebGPU is detected. */
import { describe, expect, it } from 'vitest';
import { chooseEngine, detectWebGpu } from '../../../src/lib/ai/engineChoice.js';

describe('chooseEngine', () => {
	it('runs an MLC model in WebLLM when WebGPU is available', () => {
		expect(chooseEngine({ format: 'mlc' }, { webgpu: true })).toEqual({ engine: 'webllm', gpu: true });
	});

	it('cannot run an MLC model without WebGPU, and says why', () => {
		expect(chooseEngine({ format: 'mlc' }, { webgpu: false })).toEqual({ engine: undefined, reason: 'mlc-needs-webgpu' });
	});

	it('runs a GGUF file in wllama, on WebGPU when there is an adapter and on the CPU otherwise', () => {
		expect(chooseEngine({ format: 'gguf' }, { webgpu: true })).toEqual({ engine: 'wllama', gpu: true });
		expect(chooseEngine({ format: 'gguf' }, { webgpu: false })).toEqual({ engine: 'wllama', gpu: false });
	});
});

describe('detectWebGpu', () => {
	it('needs navigator.gpu and an adapter', async () => {
		expect(await detectWebGpu(undefined)).toBe(false);
		expect(await detectWebGpu({})).toBe(false);
		expect(await detectWebGpu({ gpu: { requestAdapter: async () => null } })).toBe(false);
		expect(await detectWebGpu({ gpu: { requestAdapter: async () => ({ features: new Set() }) } })).toBe(true);
	});

	it('counts a failing or hanging adapter request as no WebGPU', async () => {
		expect(await detectWebGpu({ gpu: { requestAdapter: () => Promise.reject(new Error('lost')) } })).toBe(false);
		const started = Date.now();
		expect(await detectWebGpu({ gpu: { requestAdapter: () => new Promise(() => {}) } }, 50)).toBe(false);
		expect(Date.now() - started).toBeLessThan(5000);
	});
});
