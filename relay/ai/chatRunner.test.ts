/**
 * An AI chat answer written into its document by a real engine (node-llama-cpp on the tiny
 * generated model): another replica sees the answer grow while it streams, the usage trace
 * is recorded, and stopping or failing keeps what was written.
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { conversation, runAnswer } from '../../src/lib/ai/chatRunner.ts';
import { AiRole, AiThreadDoc } from '../../src/lib/doc/AiThreadDoc.ts';
import { AiStatus } from '../../src/lib/doc/schema.ts';
import { llamaGgufPath } from '../../tests/fixtures/gguf.ts';
import { NodeLlamaEngine } from './nodeLlamaEngine.ts';

const engine = new NodeLlamaEngine({ modelPath: llamaGgufPath(), gpu: false, threads: 1 });
afterAll(() => engine.dispose());

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
		const result = await runAnswer({ ...base(thread), maxTokens: 12 });
		expect(result.status).toBe(AiStatus.done);
		expect(result.text.length).toBeGreaterThan(0);
		// The replica watched it being written, step by step.
		expect(new Set(seen.filter(Boolean)).size).toBeGreaterThan(2);
		const [, answer] = new AiThreadDoc(replica).list();
		expect(answer).toMatchObject({ role: AiRole.assistant, author: 'host', askedBy: 'asker', model: engine.modelId, status: AiStatus.done, text: result.text });
		expect(answer!.stats!.tokensIn).toBeGreaterThan(0);
		expect(answer!.stats!.tokensOut).toBeGreaterThan(0);
		expect(answer!.stats!.tokensOut).toBeLessThanOrEqual(12);
		expect(answer!.stats!.ttftMs).toBeGreaterThanOrEqual(0);
	});

	it('keeps what was written when stopped, as cancelled', async () => {
		const { thread } = chat();
		const stop = new AbortController();
		let chunks = 0;
		thread.messages.observeDeep(() => {
			if (++chunks === 4) stop.abort();
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
