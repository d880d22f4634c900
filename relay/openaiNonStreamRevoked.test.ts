/**
 * Found in review: a `/v1` key revoked (or whose maker is demoted/removed) while its answer runs stops
 * the answer only when it streams (openai.ts rechecks the key every RECHECK_MS in the streaming
 * loop only). A non-streamed answer runs to its end and is handed to the revoked key's holder.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine, GenerateRequest } from '../src/lib/ai/engine.ts';
import { ApiKeyStore } from './ai/apiKeys.ts';
import { ModelRegistry } from './ai/registry.ts';
import { createOpenAiHandler } from './openai.ts';
import { startRelay, type Relay } from './server.ts';

const state = { pulled: 0, aborted: false };
const engine: Engine = {
	kind: 'node-llama-cpp',
	models: async () => [{ id: 'slow', name: 'slow', engine: 'node-llama-cpp', contextLength: 1 << 20 }],
	async *generate(_request: GenerateRequest, signal?: AbortSignal) {
		signal?.addEventListener('abort', () => (state.aborted = true), { once: true });
		for (let i = 0; i < 60; i++) {
			await new Promise((r) => setTimeout(r, 25));
			signal?.throwIfAborted();
			state.pulled++;
			yield { type: 'text', text: 'token ' };
		}
		yield { type: 'done', finishReason: 'length', promptTokens: 1, completionTokens: 60 };
	}
};

let tmp: string;
let relay: Relay;
let store: ApiKeyStore;
beforeAll(async () => {
	tmp = await mkdtemp(join(tmpdir(), 'outpost-review-nonstream-'));
	const registry = new ModelRegistry();
	registry.add(engine);
	store = new ApiKeyStore(tmp);
	relay = await startRelay({ root: tmp, host: '127.0.0.1', port: 0, signalling: false, openai: createOpenAiHandler({ registry, keys: store, onError: () => {}, recheckMs: 100 }) });
});
afterAll(async () => {
	await relay?.close();
	store?.close();
	await rm(tmp, { recursive: true, force: true });
});

describe('/v1 non-streamed answer', () => {
	it('stops when its key is revoked mid-answer, as a streamed one does', async () => {
		const { key, entry } = await store.create('review');
		const answer = fetch(`${relay.url}/v1/chat/completions`, {
			method: 'POST',
			headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
			body: JSON.stringify({ model: 'slow', messages: [{ role: 'user', content: 'hi' }] })
		});
		await new Promise((r) => setTimeout(r, 300));
		expect(await store.revoke(entry.id)).toBe(true);
		const res = await answer;
		const text = await res.text();
		// Revoked at ~300 ms of a ~1.5 s answer: the holder should not get the rest of it.
		expect({ status: res.status, aborted: state.aborted }).toEqual({ status: 401, aborted: true });
		expect(text).not.toContain('token token token token token token token token token token token token token token token token token token token token');
	});
});
