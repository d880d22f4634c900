/**
 * `@model` in a channel with tools (issue 15), on a real engine (node-llama-cpp on the tiny
 * generated model, whose grammar makes even random weights write a valid call): the tool loop
 * runs on the asker's device, each call shows as a step of the channel's live answer that
 * another replica sees, a changing tool waits for the asker's approval, and a model served by
 * a peer that writes answers itself still runs its tools here (no target is sent).
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { answerInChannel } from '../../../src/lib/ai/channelAnswer.js';
import type { Engine, GenerateOptions } from '../../../src/lib/ai/engine.js';
import type { Approval, RunnableTool } from '../../../src/lib/ai/tools/toolLoop.js';
import { ChannelDoc } from '../../../src/lib/doc/ChannelDoc.js';
import { ChannelView } from '../../../src/lib/doc/ChannelView.js';
import { HybridClock } from '../../../src/lib/doc/hlc.js';
import { newId } from '../../../src/lib/doc/ids.js';
import { AiStatus } from '../../../src/lib/doc/schema.js';
import { signMessage, verifyEdit } from '../../../src/lib/doc/signature.js';
import { llamaGgufPath } from '../../fixtures/gguf.js';

/** The relay's engine, loaded by path: type-checking it belongs to the relay's own config. */
type LocalEngine = Engine & { modelId: string; dispose(): Promise<void> };
const RELAY_ENGINE = '../../../relay/ai/nodeLlamaEngine.ts';
const { NodeLlamaEngine } = (await import(/* @vite-ignore */ RELAY_ENGINE)) as {
	NodeLlamaEngine: new (init: Record<string, unknown>) => LocalEngine;
};
// Room for a whole call and a few words after it.
const engine = new NodeLlamaEngine({ modelPath: llamaGgufPath({ name: 'tiny-tools', contextLength: 1024 }), gpu: false, threads: 1, defaultMaxTokens: 60, defaultTemperature: 0 });
afterAll(() => engine.dispose());

const PICK = { name: 'pick', description: 'Picks a colour.', parameters: { type: 'object' as const, properties: { colour: { type: 'string' as const, enum: ['red', 'blue'] } }, required: ['colour'] } };

async function asker() {
	const key = await generateKeyPair('Ed25519');
	const peerId = peerIdFromPrivateKey(key).toString();
	return { key, peerId, clock: new HybridClock(peerId) };
}

/** A channel with one question in it, and a second replica that follows every update. */
async function channelWithQuestion(signer: Awaited<ReturnType<typeof asker>>) {
	const doc = new Y.Doc();
	const replica = new Y.Doc();
	doc.on('update', (update: Uint8Array) => Y.applyUpdate(replica, update));
	const channel = new ChannelDoc(doc);
	const question = await signMessage(signer.key, { id: newId(), author: signer.peerId, hlc: signer.clock.tick(), text: `@${engine.modelId} pick one` });
	channel.post(question);
	return { channel, replica: new ChannelDoc(replica), question };
}

describe('@model in a channel with tools', () => {
	it('runs an approved call, shows it as a step on every replica, and signs the final text', async () => {
		const signer = await asker();
		const { channel, replica, question } = await channelWithQuestion(signer);
		const runs: unknown[] = [];
		const asked: string[] = [];
		const pick: RunnableTool = { spec: PICK, mutates: true, run: async (args) => (runs.push(args), { content: 'picked' }) };
		const answerId = newId();
		const result = await answerInChannel({
			channel,
			docId: 'channel-1',
			engine,
			model: engine.modelId,
			question,
			prompt: 'pick one',
			answerId,
			signer,
			origin: 'local',
			tools: [pick],
			toolChoice: { name: 'pick' },
			approve: async (call) => (asked.push(call.name), 'once' as Approval)
		});
		expect([result.status, result.error]).toEqual([AiStatus.done, undefined]);
		expect(asked).toEqual(['pick']);
		expect(runs).toHaveLength(1);
		expect(['red', 'blue']).toContain((runs[0] as { colour: string }).colour);
		// The other replica sees the model's message, its step with the result, and the signed final text.
		const live = replica.answer(answerId);
		expect(live?.status).toBe(AiStatus.done);
		expect(live?.steps).toHaveLength(1);
		expect(live?.steps?.[0]).toMatchObject({ name: 'pick', status: 'done', result: 'picked' });
		expect(JSON.parse(live!.steps![0]!.arguments)).toEqual(runs[0]);
		const view = new ChannelView(replica);
		const message = view.byId.get(answerId);
		expect(message).toMatchObject({ model: engine.modelId, author: signer.peerId, askedBy: signer.peerId });
		const edit = view.edits(answerId).at(-1);
		expect(result.text.length).toBeGreaterThan(0); // the model wrote on after the call's result
		expect(edit?.text).toBe(result.text);
		expect(await verifyEdit(edit!)).toBe(true);
		// How it ended is signed with the text: status, usage and the call.
		expect(edit?.end).toMatchObject({ status: AiStatus.done, steps: [{ name: 'pick', status: 'done', result: 'picked' }] });
		expect(edit?.end?.stats?.tokensOut).toBeGreaterThan(0);
		for (const forged of [{ ...edit!, end: { ...edit!.end!, status: AiStatus.failed } }, { ...edit!, end: { ...edit!.end!, steps: [{ ...edit!.end!.steps![0]!, result: 'nothing' }] } }])
			expect(await verifyEdit(forged)).toBe(false);

		// A member's modified client rewrites the live entry after the end: views keep the signed end.
		const entry = replica.answers.get(answerId)!;
		replica.doc.transact(() => {
			entry.set('status', AiStatus.failed);
			entry.set('error', 'rewritten');
			const fake = new Y.Array();
			fake.push([{ id: 'x', name: 'post_message', arguments: '{}', status: 'done', result: 'Posted 500 mg' }]);
			entry.set('steps', fake);
			(entry.get('text') as Y.Text).insert(0, '500 mg ');
		});
		expect(replica.answer(answerId)?.status).toBe(AiStatus.failed); // the live entry did change
		const shown = view.answer(message!)!;
		expect(shown).toMatchObject({ text: result.text, status: AiStatus.done, steps: [{ name: 'pick', result: 'picked' }] });
		expect(shown.error).toBeUndefined();
		expect(view.text(message!)).toBe(result.text);
		view.destroy();
	});

	it('a denied call runs nothing and shows as denied', async () => {
		const signer = await asker();
		const { channel, replica, question } = await channelWithQuestion(signer);
		let ran = 0;
		const pick: RunnableTool = { spec: PICK, mutates: true, run: async () => (ran++, { content: 'picked' }) };
		const answerId = newId();
		const result = await answerInChannel({
			...{ channel, docId: 'channel-1', engine, model: engine.modelId, question, prompt: 'pick one', answerId, signer, origin: 'local' },
			tools: [pick],
			toolChoice: { name: 'pick' },
			approve: async () => 'deny'
		});
		expect([result.status, result.error]).toEqual([AiStatus.done, undefined]);
		expect(ran).toBe(0);
		expect(replica.answer(answerId)?.steps?.[0]).toMatchObject({ name: 'pick', status: 'denied' });
	});

	it('with a model whose host writes answers, the tools still run here and no target is sent', async () => {
		const signer = await asker();
		const { channel, replica, question } = await channelWithQuestion(signer);
		const targets: unknown[] = [];
		const hostWriting: Engine = {
			kind: engine.kind,
			writesTargets: true,
			models: () => engine.models(),
			generate: (request, signal, options?: GenerateOptions) => {
				targets.push(options?.target);
				return engine.generate(request, signal, options?.onQueued ? { onQueued: options.onQueued } : {});
			}
		};
		let ran = 0;
		const look: RunnableTool = { spec: { ...PICK, name: 'look' }, mutates: false, run: async () => (ran++, { content: 'seen' }) };
		const answerId = newId();
		const result = await answerInChannel({
			...{ channel, docId: 'channel-1', engine: hostWriting, model: engine.modelId, question, prompt: 'look', answerId, signer, origin: 'local' },
			tools: [look],
			toolChoice: { name: 'look' },
			approve: async () => {
				throw new Error('a read-only tool is not asked about');
			}
		});
		expect([result.status, result.error]).toEqual([AiStatus.done, undefined]);
		expect(ran).toBe(1);
		expect(targets.length).toBeGreaterThanOrEqual(2); // the call, then the answer after its result
		expect(targets.every((t) => t === undefined)).toBe(true);
		expect(replica.answer(answerId)?.steps?.[0]).toMatchObject({ name: 'look', status: 'done', result: 'seen' });
	});
});
