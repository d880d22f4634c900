/** UI text of the webllm feature in English (spread into en.ts; the Chinese is in webllm.zh.ts, loaded only when chosen). */
export const webllmEn = {
	'webllm.engineWebllm': 'runs in WebLLM on WebGPU',
	'webllm.engineWllamaGpu': 'runs in wllama on WebGPU',
	'webllm.engineWllamaCpu': 'runs in wllama on the CPU',
	'webllm.needsWebgpu': 'needs WebGPU, which this browser does not offer',
	'webllm.detecting': 'checking for WebGPU…',
	'webllm.formatMlc': 'MLC model'
} as const;
