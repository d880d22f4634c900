/**
 * How a host writes an answer into a target document: its working copy (targetDoc.ts) waits
 * for the entry to arrive, and the answer sink (answerSink.ts) gathers a token-at-a-time
 * answer into a few writes, so the store applies a handful of updates, not one per token.
 */
import { describe, expect, it } from 'vitest';
import { threadSink } from '../../../src/lib/ai/answerSink.js';
import { openTargetDoc } from '../../../src/lib/ai/targetDoc.js';
import { AiRole, AiThreadDoc } from '../../../src/lib/doc/AiThreadDoc.js';
import { AiStatus } from '../../../src/lib/doc/schema.js';
import { MemoryDocs } from '../mesh/memoryDocs.js';

const entryIn = (thread: AiThreadDoc) => thread.entry('answer') !== undefined;

describe('a host writing an answer', () => {
	it('waits for the entry, then reaches the store in a few updates, not one per token', async () => {
		const docs = new MemoryDocs();
		const real = new AiThreadDoc(docs.get('chat'));
		real.append({ id: 'q', role: AiRole.user, hlc: '1', author: 'asker', text: 'Hello?' });
		const opening = openTargetDoc(docs, 'chat', { ready: (doc) => entryIn(new AiThreadDoc(doc)), timeoutMs: 2000 });
		// The asker's entry arrives after the host asked for the document.
		await new Promise((resolve) => setTimeout(resolve, 20));
		real.append({ id: 'answer', role: AiRole.assistant, hlc: '2', author: 'host', status: AiStatus.queued, text: '' });
		const working = (await opening)!;
		expect(working).toBeDefined();

		const sink = threadSink(new AiThreadDoc(working.doc), 'answer', working.origin)!;
		const before = docs.applied;
		const tokens = Array.from({ length: 120 }, (_, i) => `t${i} `);
		for (const [i, token] of tokens.entries()) {
			sink.append(token);
			if (i % 20 === 19) await new Promise((resolve) => setTimeout(resolve, 10));
		}
		await sink.finish({ status: AiStatus.done, text: sink.text() });
		working.close();

		const answer = real.list().find((m) => m.id === 'answer')!;
		expect(answer.text).toBe(tokens.join(''));
		expect(answer.status).toBe(AiStatus.done);
		// 120 tokens and the end reached the store as a handful of updates, not 121.
		expect(docs.applied - before).toBeGreaterThan(1);
		expect(docs.applied - before).toBeLessThanOrEqual(8);
	});

	it('gives up (undefined) when the entry does not arrive in time', async () => {
		const docs = new MemoryDocs();
		const working = await openTargetDoc(docs, 'chat', { ready: (doc) => entryIn(new AiThreadDoc(doc)), timeoutMs: 50 });
		expect(working).toBeUndefined();
	});
});
