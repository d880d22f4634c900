/**
 * The channel state (what MessageItem shows) keeps a relay's answer at its first ending when the
 * relay signs a second one inside the window, and marks it (doc/answerEnds.ts): found in review,
 * the further end replaced the answer's text and status on every replica, silently. The real
 * channel state over the real document store (fake-indexeddb), real keys.
 */
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { assembleServices } from '../../../src/lib/app.js';
import { ChannelDoc } from '../../../src/lib/doc/ChannelDoc.js';
import { formatHlc } from '../../../src/lib/doc/hlc.js';
import { newId } from '../../../src/lib/doc/ids.js';
import { AiStatus } from '../../../src/lib/doc/schema.js';
import { signEdit, signMessage } from '../../../src/lib/doc/signature.js';
import { ChannelState } from '../../../src/lib/state/ChannelState.svelte.js';
import { DocStore } from '../../../src/lib/store/DocStore.js';
import { OutpostDb } from '../../../src/lib/store/db.js';
import { identity } from '../doc/helpers.js';

const bob = identity();
const relay = identity();
const base = Date.now();
const now = (node: string, ms = 0) => formatHlc({ wall: base + ms, counter: 0, node });

/** Applies a change made on another replica. */
async function remote(channel: ChannelDoc, change: (c: ChannelDoc) => Promise<void>): Promise<void> {
	const copy = new Y.Doc({ guid: channel.id });
	Y.applyUpdate(copy, Y.encodeStateAsUpdate(channel.doc));
	const sv = Y.encodeStateVector(copy);
	await change(new ChannelDoc(copy));
	Y.applyUpdate(channel.doc, Y.encodeStateAsUpdate(copy, sv), 'remote');
}

describe('a relay’s answer with two signed endings, in the channel state', () => {
	it('keeps its first ending’s text and status, and is marked; alone, the first ending is not', async () => {
		const privateKey = await generateKeyPair('Ed25519');
		const svc = await assembleServices(new OutpostDb(`ends-${newId()}`), new DocStore(`ends-${newId()}:`), { privateKey, peerId: peerIdFromPrivateKey(privateKey).toString(), displayName: 'Owner' });
		const id = newId();
		const state = await ChannelState.open(svc, 'ws-ends', id);
		const roles: Record<string, string> = { [svc.identity.peerId]: 'owner', [bob.id]: 'member', [relay.id]: 'relay' };
		state.postingRules = { roleOf: (p) => roles[p], readOnly: [] };
		const channel = new ChannelDoc(svc.docs.open(id).doc);
		await remote(channel, async (c) => {
			c.post(await signMessage(bob.key, { id: 'q1', author: bob.id, hlc: now(bob.id), text: '@tiny dose?', ask: { model: 'tiny', host: relay.id } }, id));
			c.post(await signMessage(relay.key, { id: 'a1', author: relay.id, hlc: now(relay.id, 10), text: '', model: 'tiny', askedBy: bob.id, question: 'q1' }, id));
			c.edit(await signEdit(relay.key, { msg: 'a1', author: relay.id, hlc: now(relay.id, 20), text: '5 mg.', end: { status: AiStatus.done } }));
		});
		const answer = state.messages.find((m) => m.id === 'a1')!;
		expect([state.text(answer), state.answer(answer)?.status, state.answer(answer)?.equivocated]).toEqual(['5 mg.', AiStatus.done, undefined]);
		// Later, the relay signs a second end dated inside the window.
		await remote(channel, async (c) => c.edit(await signEdit(relay.key, { msg: 'a1', author: relay.id, hlc: now(relay.id, 5 * 60_000), text: '50 mg.', end: { status: AiStatus.failed, error: 'x' } })));
		expect([state.text(answer), state.answer(answer)?.status, state.answer(answer)?.equivocated]).toEqual(['5 mg.', AiStatus.done, true]);
		await state.close();
	});
});
