/** The Simplified Chinese of webllm.ts (spread into zh-CN.ts, which loads only when chosen). */
import type { webllmEn } from './webllm.js';

export const webllmZh: Record<keyof typeof webllmEn, string> = {
	'webllm.engineWebllm': '在 WebGPU 上由 WebLLM 运行',
	'webllm.engineWllamaGpu': '在 WebGPU 上由 wllama 运行',
	'webllm.engineWllamaCpu': '在 CPU 上由 wllama 运行',
	'webllm.needsWebgpu': '需要 WebGPU，但此浏览器不支持',
	'webllm.detecting': '正在检测 WebGPU…',
	'webllm.formatMlc': 'MLC 模型'
};
