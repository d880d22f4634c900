/**
 * The relay's `/v1` streamed answers (relay/openai.ts `chat`) against a client that stops
 * reading and a key revoked while its answer streams (found in review):
 *
 * 1. a client that sent a streamed request and never read (its connection left open) held its
 *    generation for ever, and with it the relay's engine (one context, tokens made only as they
 *    are taken) from every other caller: now a write the client does not take within the stall
 *    time closes the connection, which stops the generation;
 * 2. the key was checked once, before the answer: a key revoked (or whose maker lost the role)
 *    while its answer streamed kept getting it; now it is checked again as the answer streams;
 * 3. nothing but the per-address rate bounded how many answers one key ran at once.
 *
 * Fake engines only, on 127.0.0.1.
 */
import { connect } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine, GenerateRequest } from '../src/lib/ai/engine.ts';
import { ApiKeyStore } from './ai/apiKeys.ts';
import { ModelRegistry } from './ai/registry.ts';
import { createOpenAiHandler } from './openai.ts';
import { startRelay, type Relay } from './server.ts';

/** Like NodeLlamaEngine: tokens are made only as the caller pulls them; records whether the generation was let go. */
function lazyEngine(id: string, piece: string, pieces: number, everyMs = 0) {
	const state = { pulled: 0, ended: false, aborted: false };
	const engine: Engine = {
		kind: 'node-llama-cpp',
		models: async () => [{ id, name: id, engine: 'node-llama-cpp', contextLength: 1 << 20 }],
		async *generate(_request: GenerateRequest, signal?: AbortSignal) {
			signal?.addEventListener('abort', () => (state.aborted = true), { once: true });
			try {
				for (let i = 0; i < pieces; i++) {
					if (everyMs > 0) await new Promise((r) => setTimeout(r, everyMs));
					signal?.throwIfAborted();
					state.pulled++;
					yield { type: 'text', text: piece };
				}
				yield { type: 'done', finishReason: 'length', promptTokens: 1, completionTokens: pieces };
			} finally {
				state.ended = true;
			}
		}
	};
	return { engine, state };
}

let tmp: string;
let relay: Relay;
let store: ApiKeyStore;
let key: string;
let keyId: string;
const big = lazyEngine('big', 'x'.repeat(16 * 1024), 100_000);
const slow = lazyEngine('slow', 'token ', 400, 25);

beforeAll(async () => {
	tmp = await mkdtemp(join(tmpdir(), 'outpost-v1-streams-'));
	const registry = new ModelRegistry();
	registry.add(big.engine);
	registry.add(slow.engine);
	store = new ApiKeyStore(tmp);
	({ key, entry: { id: keyId } } = await store.create('review') as { key: string; entry: { id: string } });
	relay = await startRelay({ root: tmp, host: '127.0.0.1', port: 0, signalling: false, openai: createOpenAiHandler({ registry, keys: store, onError: () => {}, stallMs: 1000, recheckMs: 200, maxAnswersPerKey: 2 }) });
});

afterAll(async () => {
	await relay?.close();
	store?.close();
	await rm(tmp, { recursive: true, force: true });
});

const until = async (check: () => boolean, ms: number) => {
	const end = Date.now() + ms;
	while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
	return check();
};

describe('/v1 streams', () => {
	it('a client that stops reading does not hold its generation (and the model) for ever', async () => {
		const { port } = new URL(relay.url);
		const body = JSON.stringify({ model: 'big', stream: true, messages: [{ role: 'user', content: 'go' }] });
		const socket = connect({ host: '127.0.0.1', port: Number(port) });
		await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
		socket.pause(); // never reads a byte of the answer; the connection stays open
		socket.write(
			`POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
		);
		try {
			// The relay pulls until its socket buffers are full, then waits.
			await until(() => big.state.pulled > 0, 5000);
			const stalledAt = await (async () => {
				let last = -1;
				while (big.state.pulled !== last) {
					last = big.state.pulled;
					await new Promise((r) => setTimeout(r, 500));
				}
				return last;
			})();
			expect(stalledAt).toBeLessThan(100_000); // it did stall: the answer is nowhere near its end
			// Past the stall time the connection is closed and the generation let go.
			const letGo = await until(() => big.state.ended || big.state.aborted, 10_000);
			expect(letGo, `generation still held with the client not reading (pulled ${big.state.pulled} pieces)`).toBe(true);
		} finally {
			socket.destroy();
		}
	}, 30_000);

	it('a key revoked while its answer streams stops getting it', async () => {
		const res = await fetch(`${relay.url}/v1/chat/completions`, {
			method: 'POST',
			headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
			body: JSON.stringify({ model: 'slow', stream: true, messages: [{ role: 'user', content: 'go' }] })
		});
		expect(res.status).toBe(200);
		const reader = res.body!.getReader();
		await reader.read();
		expect(await store.revoke(keyId)).toBe(true);
		// A fresh request with it is refused at once…
		const again = await fetch(`${relay.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
		expect(again.status).toBe(401);
		// …and the running stream ends with an error soon after (checked every 200 ms here): read it to its end.
		let rest = '';
		const decoder = new TextDecoder();
		for (;;) {
			const { done, value } = await reader.read();
			if (done) break;
			rest += decoder.decode(value, { stream: true });
		}
		expect(rest).toContain('"code":"invalid_api_key"');
		expect(rest).not.toContain('[DONE]');
		expect(slow.state.aborted).toBe(true);
		expect(slow.state.pulled).toBeLessThan(400);
	}, 30_000);

	it('a key runs at most its share of answers at once: the next gets 429 until one ends', async () => {
		const { key: other } = (await store.create('scripts')) as { key: string };
		const ask = () =>
			fetch(`${relay.url}/v1/chat/completions`, {
				method: 'POST',
				headers: { authorization: `Bearer ${other}`, 'content-type': 'application/json' },
				body: JSON.stringify({ model: 'slow', stream: true, messages: [{ role: 'user', content: 'go' }] })
			});
		const running = [await ask(), await ask()];
		const readers = running.map((res) => res.body!.getReader());
		for (const reader of readers) await reader.read();
		const third = await ask();
		expect(third.status).toBe(429);
		expect(third.headers.get('retry-after')).toBe('5');
		expect(((await third.json()) as { error: { message: string } }).error.message).toMatch(/already has 2 answers running/);
		// One ends (its client goes away): a new answer is taken.
		await readers[0]!.cancel();
		await until(() => false, 300);
		const fourth = await ask();
		expect(fourth.status).toBe(200);
		await fourth.body!.cancel();
		await readers[1]!.cancel();
	}, 30_000);
});
