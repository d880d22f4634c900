/** The WebLLM AppConfig for a relay-served MLC model (webllmConfig.ts): the relay's URLs only. */
import { describe, expect, it } from 'vitest';
import { listModelFiles } from '../../../src/lib/ai/modelFiles.js';
import { appConfigUrls, RemoteModelError, webllmAppConfig } from '../../../src/lib/ai/webllmConfig.js';

const RELAY = 'https://10.0.0.5:8443';
const mlc = {
	id: 'Tiny-q4f32_1-MLC',
	url: `${RELAY}/models/Tiny-q4f32_1-MLC/resolve/main/`,
	format: 'mlc' as const,
	modelLib: `${RELAY}/models/Tiny-q4f32_1-MLC/resolve/main/Tiny-webgpu.wasm`
};

describe('webllmAppConfig', () => {
	it('names only the relay-served model, every URL on the relay, cached in IndexedDB', () => {
		const config = webllmAppConfig(mlc, RELAY);
		expect(config).toEqual({
			model_list: [
				{
					model: `${RELAY}/models/Tiny-q4f32_1-MLC/resolve/main/`,
					model_id: 'Tiny-q4f32_1-MLC',
					model_lib: `${RELAY}/models/Tiny-q4f32_1-MLC/resolve/main/Tiny-webgpu.wasm`
				}
			],
			cacheBackend: 'indexeddb'
		});
		for (const url of appConfigUrls(config)) {
			expect(new URL(url).origin).toBe(RELAY);
			expect(url).not.toMatch(/huggingface|github|raw\.githubusercontent/);
		}
	});

	it('resolves relative URLs against the relay and keeps WebLLM from appending another resolve/main', () => {
		const config = webllmAppConfig({ ...mlc, url: '/models/x', modelLib: '/models/x/resolve/main/x.wasm' }, `${RELAY}/some/page`);
		expect(config.model_list[0]!.model).toBe(`${RELAY}/models/x/resolve/main/`);
		expect(config.model_list[0]!.model_lib).toBe(`${RELAY}/models/x/resolve/main/x.wasm`);
	});

	it('refuses anything outside the relay, GGUF files and a missing model library', () => {
		expect(() => webllmAppConfig({ ...mlc, url: 'https://huggingface.co/mlc-ai/Tiny-MLC' }, RELAY)).toThrow(RemoteModelError);
		expect(() => webllmAppConfig({ ...mlc, modelLib: 'https://raw.githubusercontent.com/x.wasm' }, RELAY)).toThrow(/outside the relay/);
		expect(() => webllmAppConfig({ ...mlc, url: `http://10.0.0.5:8443/models/x/` }, RELAY)).toThrow(RemoteModelError);
		expect(() => webllmAppConfig({ ...mlc, format: 'gguf' }, RELAY)).toThrow(/not an MLC model/);
		expect(() => webllmAppConfig({ id: 'x', url: mlc.url, format: 'mlc' }, RELAY)).toThrow(/no model library/);
	});
});

describe('listModelFiles', () => {
	it('makes the URLs of both formats absolute and reads an older relay as GGUF', async () => {
		const listing = [
			{ id: 'a', name: 'a.gguf', size: 1, url: '/models/a.gguf' },
			{ id: 'm', name: 'm', size: 2, url: '/models/m/resolve/main/', format: 'mlc', modelLib: '/models/m/resolve/main/m.wasm' }
		];
		const realFetch = globalThis.fetch;
		globalThis.fetch = async () => new Response(JSON.stringify(listing), { headers: { 'content-type': 'application/json' } });
		try {
			expect(await listModelFiles(RELAY)).toEqual([
				{ id: 'a', name: 'a.gguf', size: 1, url: `${RELAY}/models/a.gguf`, format: 'gguf' },
				{ id: 'm', name: 'm', size: 2, url: `${RELAY}/models/m/resolve/main/`, format: 'mlc', modelLib: `${RELAY}/models/m/resolve/main/m.wasm` }
			]);
		} finally {
			globalThis.fetch = realFetch;
		}
	});
});
