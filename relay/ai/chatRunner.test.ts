/**
 * An AI chat answer written into its document by a real engine (node-llama-cpp on the tiny
 * generated model): another replica sees the answer grow while it streams, the usage trace
 * is recorded, and stopping or failing keeps what was written.
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { conversation, runAnswer } from '../../src/lib/ai/chatRunner.ts';
import type { GenerateRequest } from '../../src/lib/ai/engine.ts';
import { AiRole, AiThreadDoc } from '../../src/lib/doc/AiThreadDoc.ts';
import { AiStatus } from '../../src/lib/doc/schema.ts';
import { llamaGgufPath } from '../../tests/fixtures/gguf.ts';
import { NodeLlamaEngine } from './nodeLlamaEngine.ts';

const engine = new NodeLlamaEngine({ modelPath: llamaGgufPath(), gpu: false, threads: 1 });
afterAll(() => engine.dispose());

/**
 * The same engine, 10 ms a token, as a real model on a CPU is (the tiny model finishes a whole
 * answer inside one of the writer's 50 ms gathering windows).
 */
const slowEngine = {
	kind: engine.kind,
	models: () => engine.models(),
	async *generate(request: GenerateRequest, signal?: AbortSignal) {
		for await (const chunk of engine.generate(request, signal)) {
			await new Promise((resolve) => setTimeout(resolve, 10));
			yield chunk;
		}
	}
};

let n = 0;
function chat(question = 'Tell me a story') {
	const doc = new Y.Doc();
	const thread = new AiThreadDoc(doc);
	thread.systemPrompt = 'Be brief.';
	thread.append({ id: `u${n}`, role: AiRole.user, hlc: `h${n++}`, author: 'asker', text: question });
	return { doc, thread };
}

const base = (thread: AiThreadDoc) => ({
	thread,
	engine,
	model: engine.modelId,
	askedBy: 'asker',
	servedBy: 'host',
	id: `a${n}`,
	hlc: `h${n++}`,
	temperature: 0
});

describe('runAnswer', () => {
	it('streams the answer into the document, seen by a replica as it grows, with the usage trace', async () => {
		const { doc, thread } = chat();
		const replica = new Y.Doc();
		Y.applyUpdate(replica, Y.encodeStateAsUpdate(doc));
		const seen: string[] = [];
		doc.on('update', (update: Uint8Array) => {
			Y.applyUpdate(replica, update);
			const answer = new AiThreadDoc(replica).list().find((m) => m.role === AiRole.assistant);
			if (answer?.status === AiStatus.streaming) seen.push(answer.text);
		});
		const result = await runAnswer({ ...base(thread), engine: slowEngine, maxTokens: 24 });
		expect(result.status).toBe(AiStatus.done);
		expect(result.text.length).toBeGreaterThan(0);
		// The replica watched it being written, step by step.
		expect(new Set(seen.filter(Boolean)).size).toBeGreaterThan(2);
		const [, answer] = new AiThreadDoc(replica).list();
		expect(answer).toMatchObject({ role: AiRole.assistant, author: 'host', model: engine.modelId, status: AiStatus.done, text: result.text });
		expect(answer!.askedBy).toBeUndefined(); // it names no question the asker signed (AiThreadDoc.list)
		expect(answer!.stats!.tokensIn).toBeGreaterThan(0);
		expect(answer!.stats!.tokensOut).toBeGreaterThan(0);
		expect(answer!.stats!.tokensOut).toBeLessThanOrEqual(24);
		expect(answer!.stats!.ttftMs).toBeGreaterThanOrEqual(0);
	});

	it('keeps what was written when stopped, as cancelled', async () => {
		const { thread } = chat();
		const stop = new AbortController();
		thread.messages.observeDeep(() => {
			if ((thread.list()[1]?.text.length ?? 0) > 0) stop.abort();
		});
		const result = await runAnswer({ ...base(thread), maxTokens: 64, signal: stop.signal });
		expect(result.status).toBe(AiStatus.cancelled);
		const answer = thread.list()[1]!;
		expect(answer.status).toBe(AiStatus.cancelled);
		expect(answer.text).toBe(result.text);
		expect(answer.text.length).toBeGreaterThan(0);
	});

	it('records a failure with its reason, and the conversation skips empty answers', async () => {
		const { thread } = chat();
		const result = await runAnswer({ ...base(thread), model: 'no-such-model' });
		expect(result.status).toBe(AiStatus.failed);
		expect(thread.list()[1]).toMatchObject({ status: AiStatus.failed, text: '' });
		expect(thread.list()[1]!.error).toMatch(/model/i);
		expect(conversation(thread)).toEqual([
			{ role: 'system', content: 'Be brief.' },
			{ role: 'user', content: 'Tell me a story' }
		]);
	});
});

describe('answerInChannel with a model in this peer', () => {
	it('posts a signed model message after the question, streams its text, ends with a signed edit; stop keeps the text', async () => {
		const { generateKeyPair } = await import('@libp2p/crypto/keys');
		const { peerIdFromPrivateKey } = await import('@libp2p/peer-id');
		const { ChannelDoc } = await import('../../src/lib/doc/ChannelDoc.ts');
		const { ChannelView } = await import('../../src/lib/doc/ChannelView.ts');
		const { HybridClock } = await import('../../src/lib/doc/hlc.ts');
		const { signMessage, verifyEdit, verifyMessage } = await import('../../src/lib/doc/signature.ts');
		const { answerInChannel } = await import('../../src/lib/ai/channelAnswer.ts');
		const key = await generateKeyPair('Ed25519');
		const me = peerIdFromPrivateKey(key).toString();
		const clock = new HybridClock(me);
		const channel = new ChannelDoc(new Y.Doc());
		const view = new ChannelView(channel);
		const lengths: number[] = [];
		view.subscribe(() => {
			const answer = view.top.find((m) => m.model !== undefined);
			if (answer && view.answer(answer)?.status === AiStatus.streaming) lengths.push(view.text(answer).length);
		});
		const signer = { peerId: me, key, clock };
		const ask = async (text: string, answerId: string, signal?: AbortSignal) => {
			const question = await signMessage(key, { id: `q-${answerId}`, author: me, hlc: clock.tick(), text: `@${engine.modelId} ${text}` });
			channel.post(question);
			const result = await answerInChannel({ channel, docId: 'channel', engine: slowEngine, model: engine.modelId, question, prompt: text, answerId, signer, origin: 'test', ...(signal ? { signal } : {}) });
			return { question, answerId, result };
		};

		const { question, answerId, result } = await ask('Say hello.', 'first');
		expect(result.status).toBe(AiStatus.done);
		const record = view.byId.get(answerId)!;
		expect(record).toMatchObject({ author: me, model: engine.modelId, askedBy: me, text: '' });
		expect(view.top.map((m) => m.id)).toEqual([question.id, answerId]);
		expect(await verifyMessage(record, channel.id)).toBe(true); // signed as written in this channel
		expect(view.text(record)).toBe(result.text);
		expect(await verifyEdit(view.edits(answerId)[0]!)).toBe(true);
		expect(view.answer(record)).toMatchObject({ status: AiStatus.done });
		expect(view.answer(record)!.stats!.tokensOut).toBeGreaterThan(0);
		// Every peer saw it grow: several lengths, each longer than the last.
		expect(lengths.length).toBeGreaterThan(2);
		expect(lengths).toEqual([...lengths].sort((a, b) => a - b));

		const stop = new AbortController();
		const off = view.subscribe(() => {
			const answer = view.byId.get('second');
			if (answer && view.text(answer).length > 0) stop.abort();
		});
		const stopped = await ask('Go on and on.', 'second', stop.signal);
		off();
		expect(stopped.result.status).toBe(AiStatus.cancelled);
		const cut = view.byId.get(stopped.answerId)!;
		expect(view.answer(cut)!.status).toBe(AiStatus.cancelled);
		expect(view.text(cut).length).toBeGreaterThan(0);
	});
});

describe('runAnswer with tools', () => {
	const pick = {
		name: 'pick',
		description: 'Picks.',
		parameters: { type: 'object', properties: { colour: { type: 'string', enum: ['red', 'blue'] } }, required: ['colour'] }
	};

	it('runs the tool loop here: each call is a step in the answer, approved before it runs, signed with the answer', async () => {
		const { generateKeyPair } = await import('@libp2p/crypto/keys');
		const { peerIdFromPrivateKey } = await import('@libp2p/peer-id');
		const { HybridClock } = await import('../../src/lib/doc/hlc.ts');
		const { verifyAiRecord } = await import('../../src/lib/doc/signature.ts');
		const key = await generateKeyPair('Ed25519');
		const me = peerIdFromPrivateKey(key).toString();
		const { doc, thread } = chat('Pick.');
		thread.systemPrompt = '';
		const replica = new Y.Doc();
		doc.on('update', (update: Uint8Array) => Y.applyUpdate(replica, update));
		Y.applyUpdate(replica, Y.encodeStateAsUpdate(doc));
		const statuses: string[] = [];
		let ran = 0;
		const init = base(thread);
		const result = await runAnswer({
			...init,
			servedBy: me,
			maxTokens: 60,
			maxSteps: 2,
			toolChoice: 'required',
			tools: [{ spec: pick, mutates: true, run: async (args) => (ran++, { content: `picked ${String(args['colour'])}` }) }],
			approve: async () => {
				// While the user decides, every replica shows the call waiting.
				statuses.push(new AiThreadDoc(replica).list().at(-1)?.steps?.[0]?.status ?? 'none');
				return 'once';
			},
			signer: { peerId: me, key, clock: new HybridClock(me) }
		});
		expect(result.status).toBe(AiStatus.done);
		expect(ran).toBe(1);
		expect(statuses).toEqual(['approval']);
		const answer = new AiThreadDoc(replica).list().at(-1)!;
		expect(answer.record).toBeDefined();
		expect(answer.steps).toHaveLength(1);
		expect(answer.steps![0]).toMatchObject({ name: 'pick', status: 'done', result: expect.stringMatching(/^picked (red|blue)$/) });
		expect(await verifyAiRecord(answer.record!, thread.id)).toBe(true); // signed as written in this chat
		// The steps are covered by the signature: a changed result no longer verifies.
		const forged = { ...answer.record!, steps: [{ ...answer.record!.steps![0]!, result: 'picked green' }] };
		expect(await verifyAiRecord(forged, thread.id)).toBe(false);
	});

	it('records a denied call as denied, and the tool does not run', async () => {
		const { thread } = chat('Pick.');
		thread.systemPrompt = '';
		let ran = 0;
		await runAnswer({
			...base(thread),
			maxTokens: 60,
			maxSteps: 2,
			toolChoice: 'required',
			tools: [{ spec: pick, mutates: true, run: async () => (ran++, { content: 'x' }) }],
			approve: async () => 'deny'
		});
		expect(ran).toBe(0);
		expect(thread.list().at(-1)!.steps![0]).toMatchObject({ name: 'pick', status: 'denied', result: 'The user denied this call.' });
	});
});
