/** UI text of the webllm feature, English and Simplified Chinese (spread into en.ts and zh-CN.ts). */
export const webllmEn = {
	'webllm.engineWebllm': 'runs in WebLLM on WebGPU',
	'webllm.engineWllamaGpu': 'runs in wllama on WebGPU',
	'webllm.engineWllamaCpu': 'runs in wllama on the CPU',
	'webllm.needsWebgpu': 'needs WebGPU, which this browser does not offer',
	'webllm.detecting': 'checking for WebGPU…',
	'webllm.formatMlc': 'MLC model'
} as const;

export const webllmZh: Record<keyof typeof webllmEn, string> = {
	'webllm.engineWebllm': '在 WebGPU 上由 WebLLM 运行',
	'webllm.engineWllamaGpu': '在 WebGPU 上由 wllama 运行',
	'webllm.engineWllamaCpu': '在 CPU 上由 wllama 运行',
	'webllm.needsWebgpu': '需要 WebGPU，但此浏览器不支持',
	'webllm.detecting': '正在检测 WebGPU…',
	'webllm.formatMlc': 'MLC 模型'
};
