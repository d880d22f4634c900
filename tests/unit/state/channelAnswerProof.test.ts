/**
 * Who asked a model's answer in a channel, in the app's channel state over a real engine
 * (node-llama-cpp on the tiny generated model) and the real document store: `@model` questions
 * name the model and the answer's writer, and the answer names its question, so it shows as
 * asked. An "answer" nobody asked of its writer is its writer's own message (a member's shows
 * without "asked by" and without the live text anyone may write; a relay device's is withheld).
 */
import 'fake-indexeddb/auto';
import { afterAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import type { Engine } from '../../../src/lib/ai/engine.js';
import { assembleServices, type Services } from '../../../src/lib/app.js';
import { ChannelDoc } from '../../../src/lib/doc/ChannelDoc.js';
import { formatHlc } from '../../../src/lib/doc/hlc.js';
import { newId } from '../../../src/lib/doc/ids.js';
import { AiStatus } from '../../../src/lib/doc/schema.js';
import { signEdit, signMessage } from '../../../src/lib/doc/signature.js';
import type { ModelChoice } from '../../../src/lib/state/AiChatState.svelte.js';
import { ChannelState } from '../../../src/lib/state/ChannelState.svelte.js';
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

const bob = identity();
const relay = identity();

async function services(): Promise<Services> {
	const privateKey = await generateKeyPair('Ed25519');
	return assembleServices(new OutpostDb(`proof-${newId()}`), new DocStore(`proof-${newId()}:`), { privateKey, peerId: peerIdFromPrivateKey(privateKey).toString(), displayName: 'Owner' });
}

/** A channel open here (read-only from its start with `readOnly`); this device is the owner. */
async function open(readOnly = false) {
	const svc = await services();
	const me = svc.identity.peerId;
	const id = newId();
	const state = await ChannelState.open(svc, 'ws-proof', id);
	const roles: Record<string, string> = { [me]: 'owner', [bob.id]: 'member', [relay.id]: 'relay' };
	state.postingRules = { roleOf: (p) => roles[p], readOnly: readOnly ? [{ from: '', to: undefined }] : [] };
	const handle = svc.docs.open(id);
	return { svc, me, id, state, channel: new ChannelDoc(handle.doc) };
}

/** Applies a change made on another replica. */
function remote(channel: ChannelDoc, change: (c: ChannelDoc) => void | Promise<void>): Promise<void> {
	const copy = new Y.Doc({ guid: channel.id });
	Y.applyUpdate(copy, Y.encodeStateAsUpdate(channel.doc));
	const sv = Y.encodeStateVector(copy);
	return Promise.resolve(change(new ChannelDoc(copy))).then(() => Y.applyUpdate(channel.doc, Y.encodeStateAsUpdate(copy, sv), 'remote'));
}

async function waitFor(check: () => boolean, what: string, ms = 20_000): Promise<void> {
	const until = Date.now() + ms;
	while (!check()) {
		if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
		await new Promise((r) => setTimeout(r, 20));
	}
}

const now = (node: string, ms = 0) => formatHlc({ wall: Date.now() + ms, counter: 0, node });

describe('a model’s answer in a channel', () => {
	it('asked here: the question names the model and writer, the answer its question, and it shows as asked', async () => {
		const { me, state } = await open();
		const choice: ModelChoice = { key: `${me}/${engine.modelId}`, model: engine.modelId, engine, servedBy: me };
		await state.post(`@${engine.modelId} Say hello.`, undefined, [choice]);
		await waitFor(() => state.messages.length === 2 && state.answer(state.messages[1]!)?.status === AiStatus.done, 'the answer');
		const [question, answer] = state.messages;
		expect(question!.ask).toEqual({ model: engine.modelId, host: me });
		expect(answer).toMatchObject({ model: engine.modelId, askedBy: me, question: question!.id });
		expect(state.askedBy(answer!)).toBe(me);
		expect(state.text(answer!).length).toBeGreaterThan(0);
		expect(state.isWithheld(answer!)).toBe(false);
		await state.close();
	});

	it('a member’s "answer" asked by the owner is the member’s own message, without the live text', async () => {
		const { me, id, state, channel } = await open();
		await remote(channel, async (c) => {
			c.post(await signMessage(bob.key, { id: 'fake', author: bob.id, hlc: now(bob.id), text: '', model: 'tiny', askedBy: me }, id));
			(c.startAnswer('fake').get('text') as Y.Text).insert(0, 'The owner approves the budget.');
		});
		const fake = state.messages.find((m) => m.id === 'fake')!;
		expect(state.askedBy(fake)).toBeUndefined();
		expect(state.text(fake)).toBe('');
		expect(state.answer(fake)).toBeUndefined();
		expect(state.isWithheld(fake)).toBe(false); // shown, as the member's own
		await state.close();
	});

	it('a relay device’s "answer" asked by the owner is withheld in a read-only channel; one to the owner’s question shows', async () => {
		const { svc, me, id, state, channel } = await open(true);
		await remote(channel, async (c) => {
			c.post(await signMessage(relay.key, { id: 'fake', author: relay.id, hlc: now(relay.id), text: '', model: 'tiny', askedBy: me }, id));
			c.edit(await signEdit(relay.key, { msg: 'fake', author: relay.id, hlc: now(relay.id, 1), text: 'The owner says: all hands at 9.', end: { status: AiStatus.done } }));
		});
		expect(state.isWithheld(state.messages.find((m) => m.id === 'fake')!)).toBe(true);
		// The owner asks the relay's model; the relay answers, naming the question.
		const question = await signMessage(svc.identity.privateKey, { id: 'q1', author: me, hlc: now(me, 10), text: '@tiny hi', ask: { model: 'tiny', host: relay.id } }, id);
		channel.doc.transact(() => channel.post(question));
		await remote(channel, async (c) => {
			c.post(await signMessage(relay.key, { id: 'real', author: relay.id, hlc: now(relay.id, 20), text: '', model: 'tiny', askedBy: me, question: 'q1' }, id));
			c.edit(await signEdit(relay.key, { msg: 'real', author: relay.id, hlc: now(relay.id, 21), text: 'Hello.', end: { status: AiStatus.done } }));
		});
		const real = state.messages.find((m) => m.id === 'real')!;
		expect(state.isWithheld(real)).toBe(false);
		expect(state.askedBy(real)).toBe(me);
		expect(state.text(real)).toBe('Hello.');
		await state.close();
	});
});
