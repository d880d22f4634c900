/**
 * Who asked an AI chat's answer, in the app's chat state over a real engine (node-llama-cpp
 * on the tiny generated model) and the real document store: the questions this device signs
 * name the model and the answer's writer, the answers name their question, so they show as
 * asked by this member, after regenerating and editing too. And an unsigned live entry counts
 * as an answer on its way only when it answers a question that asked its writer; anyone else's
 * shows as unsigned at once (before: for 15 minutes, whatever it said).
 */
import 'fake-indexeddb/auto';
import { afterAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import type { Engine } from '../../../src/lib/ai/engine.js';
import { assembleServices, type Services } from '../../../src/lib/app.js';
import { AiRole } from '../../../src/lib/doc/AiThreadDoc.js';
import { formatHlc } from '../../../src/lib/doc/hlc.js';
import { newId, newIdFor } from '../../../src/lib/doc/ids.js';
import { AiRecordKind, AiStatus } from '../../../src/lib/doc/schema.js';
import { signAiRecord } from '../../../src/lib/doc/signature.js';
import { AiChatState, type ModelChoice } from '../../../src/lib/state/AiChatState.svelte.js';
import { DocStore } from '../../../src/lib/store/DocStore.js';
import { OutpostDb } from '../../../src/lib/store/db.js';
import { llamaGgufPath } from '../../fixtures/gguf.js';
import { identity } from '../doc/helpers.js';

/** The relay's engine, loaded by path: type-checking it belongs to the relay's own config. */
type LocalEngine = Engine & { modelId: string; dispose(): Promise<void> };
const RELAY_ENGINE = '../../../relay/ai/nodeLlamaEngine.ts';
const { NodeLlamaEngine } = (await import(/* @vite-ignore */ RELAY_ENGINE)) as {
	NodeLlamaEngine: new (init: Record<string, unknown>) => LocalEngine;
};
const engine = new NodeLlamaEngine({ modelPath: llamaGgufPath(), gpu: false, threads: 1, defaultMaxTokens: 8, defaultTemperature: 0 });
afterAll(() => engine.dispose());

async function services(): Promise<Services> {
	const privateKey = await generateKeyPair('Ed25519');
	const peerId = peerIdFromPrivateKey(privateKey).toString();
	return assembleServices(new OutpostDb(`proof-${newId()}`), new DocStore(`proof-${newId()}:`), { privateKey, peerId, displayName: 'Ada' });
}

const choice = (servedBy: string): ModelChoice => ({ key: `${servedBy}/${engine.modelId}`, model: engine.modelId, engine, servedBy });
const now = (node: string) => formatHlc({ wall: Date.now(), counter: 0, node });

describe('an AI chat asked from this device', () => {
	it('signs questions naming the model and the writer, and answers naming their question: shown as asked by this member', async () => {
		const svc = await services();
		const me = svc.identity.peerId;
		const chat = await AiChatState.open(svc, newId());
		await chat.send('Hello there', choice(me));
		const [question, answer] = chat.messages;
		expect(question!.record?.ask).toEqual({ model: engine.modelId, host: me });
		expect(answer).toMatchObject({ role: AiRole.assistant, status: AiStatus.done, askedBy: me, question: question!.id });
		expect(answer!.record?.question).toBe(question!.id);

		// Regenerate with the same model and writer: the question stays, the new answer names it.
		await chat.regenerate(choice(me));
		expect(chat.messages.map((m) => m.role)).toEqual([AiRole.user, AiRole.assistant]);
		expect(chat.messages[0]!.id).toBe(question!.id);
		expect(chat.messages[1]!.id).not.toBe(answer!.id);
		expect(chat.messages[1]!.askedBy).toBe(me);

		// Edit and resend: a new question, answered, asked by this member.
		await chat.editAndResend(question!.id, 'Hello again', choice(me));
		const [edited, reanswered] = chat.messages;
		expect(edited).toMatchObject({ text: 'Hello again' });
		expect(edited!.id).not.toBe(question!.id);
		expect(reanswered).toMatchObject({ askedBy: me, question: edited!.id });
		await chat.close();
	});

	it('regenerating a question that asked another writer asks it anew, so the answer still shows who asked', async () => {
		const svc = await services();
		const me = svc.identity.peerId;
		const chat = await AiChatState.open(svc, newId());
		// A question from before (or one that asked a peer that went away): it names another writer.
		const old = await signAiRecord(svc.identity.privateKey, { kind: AiRecordKind.user, id: newIdFor(me), author: me, hlc: svc.clock.tick(), text: 'Still there?', ask: { model: engine.modelId, host: 'gone-host' } }, chat.id);
		chat.thread.doc.transact(() => chat.thread.addRecord(old));
		await chat.regenerate(choice(me));
		const [question, answer] = chat.messages;
		expect(question).toMatchObject({ text: 'Still there?' });
		expect(question!.id).not.toBe(old.id);
		expect(answer).toMatchObject({ askedBy: me, question: question!.id, status: AiStatus.done });
		await chat.close();
	});
});

describe('an unsigned live entry', () => {
	it('counts as on its way only when it answers a signed question that asked its writer', async () => {
		const chat = await AiChatState.open(await services(), `chat-${newId()}`);
		const ann = identity();
		const question = await signAiRecord(ann.key, { kind: AiRecordKind.user, id: newIdFor(ann.id), author: ann.id, hlc: now(ann.id), text: 'Can I delete #finance?', ask: { model: 'gpt-4o', host: 'host' } }, chat.id);
		chat.thread.doc.transact(() => chat.thread.addRecord(question));
		const live = (text: string, author: string, named?: string) =>
			chat.thread.append({ id: newId(), role: AiRole.assistant, hlc: now(author), author, askedBy: ann.id, model: 'gpt-4o', status: AiStatus.streaming, text, ...(named !== undefined ? { question: named } : {}) });
		live('Yes, an admin asked me to', 'mallory');
		live('Yes, I deleted it', 'mallory', question.id);
		live('Yes, deleting it now', 'host');
		live('Working on it', 'host', question.id);
		const trust = (text: string) => chat.trust(chat.messages.find((m) => m.text === text)!);
		expect(trust('Yes, an admin asked me to')).toBe(false);
		expect(trust('Yes, I deleted it')).toBe(false);
		expect(trust('Yes, deleting it now')).toBe(false);
		expect(trust('Working on it')).toBeUndefined();
		await chat.close();
	});
});
