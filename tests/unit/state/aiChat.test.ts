/**
 * The AI chat state of the app over a real engine (node-llama-cpp on the tiny generated
 * model) and the real document store (fake-indexeddb in Node): asking, the system prompt,
 * stopping, regenerating, editing and resending, and the chat surviving a reopen.
 */
import 'fake-indexeddb/auto';
import { afterAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import type { Engine } from '../../../src/lib/ai/engine.js';
import { assembleServices, type Services } from '../../../src/lib/app.js';
import { AiRole } from '../../../src/lib/doc/AiThreadDoc.js';
import { newId } from '../../../src/lib/doc/ids.js';
import { AiRecordKind, AiStatus } from '../../../src/lib/doc/schema.js';
import { AiChatState, type ModelChoice } from '../../../src/lib/state/AiChatState.svelte.js';
import { DocStore } from '../../../src/lib/store/DocStore.js';
import { OutpostDb } from '../../../src/lib/store/db.js';
import { llamaGgufPath } from '../../fixtures/gguf.js';

/** The relay's engine, loaded by path: type-checking it belongs to the relay's own config. */
type LocalEngine = Engine & { modelId: string; dispose(): Promise<void> };
const RELAY_ENGINE = '../../../relay/ai/nodeLlamaEngine.ts';
const { NodeLlamaEngine } = (await import(/* @vite-ignore */ RELAY_ENGINE)) as {
	NodeLlamaEngine: new (init: Record<string, unknown>) => LocalEngine;
};
const engine = new NodeLlamaEngine({ modelPath: llamaGgufPath(), gpu: false, threads: 1, defaultMaxTokens: 12, defaultTemperature: 0 });
afterAll(() => engine.dispose());

async function services(): Promise<Services> {
	const privateKey = await generateKeyPair('Ed25519');
	const peerId = peerIdFromPrivateKey(privateKey).toString();
	return assembleServices(new OutpostDb(`outpost-ai-${newId()}`), new DocStore(`ai-${newId()}:`), { privateKey, peerId, displayName: 'Ada' });
}

const choice = (): ModelChoice => ({ key: `host/${engine.modelId}`, model: engine.modelId, engine, servedBy: 'host' });

/** A choice whose engine counts the generations it is asked for. */
function counted(): ModelChoice & { generations: number } {
	const counter = {
		kind: engine.kind,
		models: () => engine.models(),
		generate: (...args: Parameters<Engine['generate']>) => {
			picked.generations++;
			return engine.generate(...args);
		}
	};
	const picked = { ...choice(), engine: counter, generations: 0 };
	return picked;
}

describe('AiChatState', () => {
	it('asks, streams the answer with its usage, and keeps the chat across a reopen', async () => {
		const svc = await services();
		const id = newId();
		const chat = await AiChatState.open(svc, id);
		chat.setSystemPrompt('You are terse.');
		await chat.send('Hello there', choice());
		const [question, answer] = chat.messages;
		expect(question).toMatchObject({ role: AiRole.user, text: 'Hello there', author: svc.identity.peerId });
		expect(answer).toMatchObject({ role: AiRole.assistant, status: AiStatus.done, askedBy: svc.identity.peerId, author: svc.identity.peerId, model: engine.modelId });
		expect(answer!.text.length).toBeGreaterThan(0);
		expect(answer!.stats!.tokensOut).toBeGreaterThan(0);
		expect(chat.generating).toBe(false);
		await chat.close();
		await new Promise((r) => setTimeout(r, 700)); // the store writes on its own schedule
		const again = await AiChatState.open(svc, id);
		expect(again.systemPrompt).toBe('You are terse.');
		expect(again.messages.map((m) => m.text)).toEqual([question!.text, answer!.text]);
		await again.close();
	});

	it('regenerates the last answer and edits a question, dropping what came after it', async () => {
		const chat = await AiChatState.open(await services(), newId());
		await chat.send('First question', choice());
		await chat.send('Second question', choice());
		expect(chat.messages).toHaveLength(4);
		const before = chat.messages[3]!;
		const usage = () => chat.thread.readRecords().filter((r) => r.kind === AiRecordKind.answer && r.stats !== undefined);
		expect(usage()).toHaveLength(2);
		const again = counted();
		await chat.regenerate(again);
		// A new generation ran: the engine was asked once more, for a new answer with its own usage record.
		expect(again.generations).toBe(1);
		expect(chat.messages.map((m) => m.role)).toEqual([AiRole.user, AiRole.assistant, AiRole.user, AiRole.assistant]);
		const after = chat.messages[3]!;
		expect(after.status).toBe(AiStatus.done);
		expect(after.id).not.toBe(before.id);
		expect(after.stats!.tokensOut).toBeGreaterThan(0);
		expect(usage().map((r) => r.id)).toEqual([chat.messages[1]!.id, before.id, after.id]);
		expect(chat.messages.some((m) => m.id === before.id)).toBe(false); // the old answer is cut, not shown
		const first = chat.messages[0]!;
		await chat.editAndResend(first.id, 'A better first question', choice());
		// Everything from the edited question on is gone; the new question has a fresh answer.
		expect(chat.messages).toHaveLength(2);
		expect(chat.messages[0]).toMatchObject({ role: AiRole.user, text: 'A better first question' });
		expect(chat.messages[0]!.id).not.toBe(first.id);
		expect(chat.messages[1]).toMatchObject({ role: AiRole.assistant, status: AiStatus.done });
		expect(chat.messages.some((m) => m.text === 'Second question')).toBe(false);
		await chat.close();
	});

	it('keeps a question’s files when it is edited and asked again, and counts what editing would cut', async () => {
		const chat = await AiChatState.open(await services(), newId());
		const file = { blob: 'a'.repeat(64), size: 3, mime: 'text/plain', name: 'notes.txt' };
		await chat.send('What is in this file?', choice(), [file]);
		await chat.send('And then?', choice());
		const first = chat.messages[0]!;
		expect(chat.laterThan(first.id)).toBe(3);
		expect(chat.laterThan(chat.messages[3]!.id)).toBe(0);
		await chat.editAndResend(first.id, 'Summarise this file', choice());
		expect(chat.messages).toHaveLength(2);
		expect(chat.messages[0]).toMatchObject({ role: AiRole.user, text: 'Summarise this file', files: [file] });
		await chat.close();
	});

	it('stops an answer and keeps what was written', async () => {
		const chat = await AiChatState.open(await services(), newId());
		let stopped = false;
		chat.thread.messages.observeDeep(() => {
			const answer = chat.thread.list()[1];
			if (!stopped && answer && answer.text.length >= 1) {
				stopped = true;
				chat.stopAnswer();
			}
		});
		const slow = { ...choice(), engine };
		await chat.send('Go on for a while', slow);
		const answer = chat.messages[1]!;
		expect(answer.status).toBe(AiStatus.cancelled);
		expect(answer.text.length).toBeGreaterThanOrEqual(1);
		await chat.close();
	});

	it('a changing tool waits for approval; "Always for this chat" approves its later calls without asking', async () => {
		const svc = await services();
		const chat = await AiChatState.open(svc, newId());
		// Room for a whole call (the shared engine stops at 12 tokens).
		const roomy = new NodeLlamaEngine({ modelPath: llamaGgufPath(), gpu: false, threads: 1, defaultMaxTokens: 60, defaultTemperature: 0 });
		const pick = { name: 'pick', description: 'Picks.', parameters: { type: 'object', properties: { colour: { type: 'string', enum: ['red', 'blue'] } }, required: ['colour'] } };
		let ran = 0;
		chat.makeTools = async () => [{ spec: pick, mutates: true, run: async () => (ran++, { content: 'picked' }) }];
		chat.toolMode = { tool: 'pick' };
		const picked: ModelChoice = { key: `here/${roomy.modelId}`, model: roomy.modelId, engine: roomy, servedBy: svc.identity.peerId };
		const asked: string[] = [];
		const approveWhenAsked = (answer: 'once' | 'always' | 'deny') => {
			const timer = setInterval(() => {
				if (chat.approvals.pending === undefined) return;
				asked.push(chat.approvals.pending.call.name);
				chat.approvals.answer(answer);
				clearInterval(timer);
			}, 5);
			return timer;
		};
		let timer = approveWhenAsked('always');
		await chat.send('Pick one.', picked);
		clearInterval(timer);
		expect(asked).toEqual(['pick']);
		expect(ran).toBe(1);
		expect(chat.messages.at(-1)?.steps?.[0]).toMatchObject({ name: 'pick', status: 'done' });
		// The next answer calls it again: no question this time.
		timer = approveWhenAsked('deny');
		await chat.send('Again.', picked);
		clearInterval(timer);
		expect(asked).toEqual(['pick']);
		expect(ran).toBe(2);
		await chat.close();
		await roomy.dispose();
	});
});
