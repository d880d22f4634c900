/**
 * A failed answer is worded in each reader's language: the answer records the code of a
 * problem the app words itself (a host's refusal, a busy host, a context overflow) rather than
 * the host's English message, and the view translates it; any other failure keeps the
 * runtime's own message.
 */
import { get } from 'svelte/store';
import { describe, expect, it } from 'vitest';
import { pumpAnswer, threadSink } from '../../../src/lib/ai/answerSink.js';
import { EngineError, failureText, type GenerateChunk } from '../../../src/lib/ai/engine.js';
import { RemoteEngineError } from '../../../src/lib/ai/meshEngine.js';
import { AiRole, AiThreadDoc } from '../../../src/lib/doc/AiThreadDoc.js';
import { AiStatus } from '../../../src/lib/doc/schema.js';
import { _, setLanguage, setupI18n } from '../../../src/lib/i18n/index.js';
import { answerErrorText } from '../../../src/lib/ui/answerError.js';
import * as Y from 'yjs';

describe('a failed answer, worded by its reader', () => {
	it('records the code of a worded problem, and the message of any other failure', () => {
		expect(failureText(new RemoteEngineError('not-allowed', 'Your role may not use this model.'))).toBe('not-allowed');
		expect(failureText(new EngineError('busy', 'The host is busy.'))).toBe('busy');
		expect(failureText(new EngineError('input-too-long', 'context overflow'))).toBe('input-too-long');
		expect(failureText(new EngineError('failed', 'out of memory'))).toBe('out of memory');
		expect(failureText(new Error('x'.repeat(900)))).toHaveLength(500);
	});

	it("a host's refusal reaches the answer as its code, and each reader sees it in their language", async () => {
		const thread = new AiThreadDoc(new Y.Doc());
		thread.append({ id: 'answer', role: AiRole.assistant, hlc: '2', author: 'asker', status: AiStatus.queued, text: '' });
		const sink = threadSink(thread, 'answer', 'test')!;
		// eslint-disable-next-line require-yield -- a host that refuses before any chunk
		const refusing = async function* (): AsyncIterable<GenerateChunk> {
			throw new RemoteEngineError('not-allowed', 'Your role may not use this model.');
		};
		const result = await pumpAnswer(() => refusing(), sink);
		expect(result).toMatchObject({ status: AiStatus.failed, error: 'not-allowed' });
		const shown = thread.list().find((m) => m.id === 'answer')!;
		expect(shown.error).toBe('not-allowed');

		setupI18n();
		await setLanguage('zh-CN');
		const zh = answerErrorText(get(_), shown.error);
		expect(zh).toMatch(/拒绝/);
		expect(zh).not.toMatch(/[A-Za-z]{3}/);
		await setLanguage('en');
		expect(answerErrorText(get(_), shown.error)).toMatch(/may not use this model/);
		// A runtime's own message is shown as it is.
		expect(answerErrorText(get(_), 'out of memory')).toBe('out of memory');
		expect(answerErrorText(get(_), undefined)).toBe('');
	});
});
