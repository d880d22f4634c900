/** The relay's model registry: one listing over several engines, and routing by model id. */
import { describe, expect, it } from 'vitest';
import { EngineError, type Engine, type EngineKind, type ModelInfo } from '../../src/lib/ai/engine.ts';
import { collect } from '../../tests/ai/engineSuite.ts';
import { ModelRegistry } from './registry.ts';

/** An engine that answers with its own name, serving `ids`; `listed` counts its listings. */
function fake(kind: EngineKind, ids: string[], tag: string = kind): Engine & { listed: number; ids: string[] } {
	const engine = {
		kind,
		ids,
		listed: 0,
		async models(): Promise<ModelInfo[]> {
			engine.listed++;
			return engine.ids.map((id) => ({ id, name: id.toUpperCase(), engine: kind, contextLength: 100 }));
		},
		async *generate() {
			yield { type: 'text' as const, text: tag };
			yield { type: 'done' as const, finishReason: 'stop' as const, promptTokens: 1, completionTokens: 1 };
		}
	};
	return engine;
}

const ask = (model: string) => ({ model, messages: [{ role: 'user' as const, content: 'Hi' }] });

describe('ModelRegistry', () => {
	it('lists every engine’s models with where they run, the first engine winning a shared id', async () => {
		const registry = new ModelRegistry();
		registry.add(fake('node-llama-cpp', ['a', 'shared']));
		registry.add(fake('openai', ['b', 'shared']), '12D3KooWpeer');
		expect(await registry.models()).toEqual([
			{ id: 'a', name: 'A', engine: 'node-llama-cpp', contextLength: 100, where: 'relay' },
			{ id: 'shared', name: 'SHARED', engine: 'node-llama-cpp', contextLength: 100, where: 'relay' },
			{ id: 'b', name: 'B', engine: 'openai', contextLength: 100, where: '12D3KooWpeer' }
		]);
	});

	it('routes a request to the engine that has the model, and refuses an unknown one', async () => {
		const registry = new ModelRegistry();
		registry.add(fake('node-llama-cpp', ['a'], 'from a'));
		registry.add(fake('openai', ['b'], 'from b'));
		expect((await collect(registry.generate(ask('b')))).text).toBe('from b');
		expect((await collect(registry.generate(ask('a')))).text).toBe('from a');
		await expect(collect(registry.generate(ask('c')))).rejects.toMatchObject({ name: 'EngineError', problem: 'unknown-model' });
	});

	it("shows a key of one workspace the relay's models and its own members' only, each workspace its own model of a shared id", async () => {
		const registry = new ModelRegistry();
		registry.add(fake('node-llama-cpp', ['own'], 'relay'));
		registry.add(fake('openai', ['shared', 'b-only'], 'bob in B'), '12D3KooWbob', 'ws-b');
		registry.add(fake('openai', ['shared'], 'eve in A'), '12D3KooWeve', 'ws-a');
		const ids = async (scope: Parameters<ModelRegistry['models']>[0]) => (await registry.models(scope)).map((m) => `${m.id}@${m.where}`);
		expect(await ids({ workspace: 'ws-a', relayModels: true })).toEqual(['own@relay', 'shared@12D3KooWeve']);
		expect(await ids({ workspace: 'ws-b', relayModels: true })).toEqual(['own@relay', 'shared@12D3KooWbob', 'b-only@12D3KooWbob']);
		// A's key reaches neither B's model nor, by its id, B's member's engine; B's reaches B's.
		await expect(collect(registry.generate(ask('b-only'), undefined, { workspace: 'ws-a', relayModels: true }))).rejects.toMatchObject({ problem: 'unknown-model' });
		expect((await collect(registry.generate(ask('shared'), undefined, { workspace: 'ws-a', relayModels: true }))).text).toBe('eve in A');
		expect((await collect(registry.generate(ask('shared'), undefined, { workspace: 'ws-b', relayModels: true }))).text).toBe('bob in B');
		expect((await collect(registry.generate(ask('own'), undefined, { workspace: 'ws-b', relayModels: true }))).text).toBe('relay');
		// A workspace the operator does not share the relay's own models with sees its members' only.
		expect(await ids({ workspace: 'ws-b', relayModels: false })).toEqual(['shared@12D3KooWbob', 'b-only@12D3KooWbob']);
		await expect(collect(registry.generate(ask('own'), undefined, { workspace: 'ws-b', relayModels: false }))).rejects.toMatchObject({ problem: 'unknown-model' });
		// The operator's keys see every model, the first of a shared id.
		expect(await ids('all')).toEqual(['own@relay', 'shared@12D3KooWbob', 'b-only@12D3KooWbob']);
	});

	it('leaves out an engine whose listing fails, and reports it', async () => {
		const reported: unknown[] = [];
		const registry = new ModelRegistry({ onError: (error) => reported.push(error) });
		const down = fake('openai', []);
		down.models = () => Promise.reject(new EngineError('failed', 'unreachable'));
		registry.add(down);
		registry.add(fake('node-llama-cpp', ['a']));
		expect((await registry.models()).map((m) => m.id)).toEqual(['a']);
		expect(reported).toMatchObject([{ message: 'unreachable' }]);
	});

	it('caches listings, refreshing when a requested model is missing', async () => {
		const registry = new ModelRegistry({ cacheMs: 60_000, missRefreshMs: 0 });
		const upstream = fake('openai', ['a']);
		registry.add(upstream);
		await registry.models();
		await registry.models();
		await collect(registry.generate(ask('a')));
		expect(upstream.listed).toBe(1);
		upstream.ids = ['a', 'pulled-since'];
		expect((await collect(registry.generate(ask('pulled-since')))).done).toHaveLength(1);
		expect(upstream.listed).toBe(2);
	});

	it('refreshes for a missing model at most once a missRefreshMs', async () => {
		const registry = new ModelRegistry({ cacheMs: 60_000, missRefreshMs: 60_000 });
		const upstream = fake('openai', ['a']);
		registry.add(upstream);
		for (const model of ['x', 'y', 'z'])
			await expect(collect(registry.generate(ask(model)))).rejects.toMatchObject({ problem: 'unknown-model' });
		expect(upstream.listed).toBe(1);
	});

	it('adds and removes engines (peers joining and leaving)', async () => {
		const registry = new ModelRegistry({ cacheMs: 60_000 });
		const local = fake('node-llama-cpp', ['a']);
		const peer = fake('mesh', ['b']);
		registry.add(local);
		registry.add(peer, 'peer-1');
		registry.add(peer, 'peer-1'); // once only
		expect(registry.engines).toEqual([local, peer]);
		expect((await registry.models()).map((m) => m.id)).toEqual(['a', 'b']);
		registry.remove(peer);
		expect((await registry.models()).map((m) => m.id)).toEqual(['a']);
		await expect(collect(registry.generate(ask('b')))).rejects.toMatchObject({ problem: 'unknown-model' });
	});
});
