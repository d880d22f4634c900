/**
 * The channel state shows a relay's answer as asked only while its question stands and only
 * with the edits dated in the answer's own span (channelRights.ts `withdrawnBy`, `editShows`):
 * found in review, an answer whose question its asker deleted still showed "asked by" her, and
 * an end the relay signed later, backdated before its answer, showed as its text and status. The real channel state over the real document store (fake-indexeddb), real keys.
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
import { deletionMarks, signEdit, signMessage } from '../../../src/lib/doc/signature.js';
import { ChannelState } from '../../../src/lib/state/ChannelState.svelte.js';
import { DocStore } from '../../../src/lib/store/DocStore.js';
import { OutpostDb } from '../../../src/lib/store/db.js';
import { identity } from '../doc/helpers.js';

const bob = identity();
const relay = identity();
const base = Date.now();
const now = (node: string, ms = 0) => formatHlc({ wall: base + ms, counter: 0, node });

/** A channel open here, in which Bob asked the relay's model and the relay posted its answer; with `ended`, its end "Hello.". */
async function answered(ended = true) {
	const privateKey = await generateKeyPair('Ed25519');
	const svc = await assembleServices(new OutpostDb(`taken-${newId()}`), new DocStore(`taken-${newId()}:`), { privateKey, peerId: peerIdFromPrivateKey(privateKey).toString(), displayName: 'Owner' });
	const id = newId();
	const state = await ChannelState.open(svc, 'ws-taken', id);
	const roles: Record<string, string> = { [svc.identity.peerId]: 'owner', [bob.id]: 'member', [relay.id]: 'relay' };
	state.postingRules = { roleOf: (p) => roles[p], readOnly: [] };
	const channel = new ChannelDoc(svc.docs.open(id).doc);
	await remote(channel, async (c) => {
		c.post(await signMessage(bob.key, { id: 'q1', author: bob.id, hlc: now(bob.id), text: '@tiny hi', ask: { model: 'tiny', host: relay.id } }, id));
		c.post(await signMessage(relay.key, { id: 'a1', author: relay.id, hlc: now(relay.id, 10), text: '', model: 'tiny', askedBy: bob.id, question: 'q1' }, id));
		if (ended) c.edit(await signEdit(relay.key, { msg: 'a1', author: relay.id, hlc: now(relay.id, 20), text: 'Hello.', end: { status: AiStatus.done } }));
	});
	const answer = state.messages.find((m) => m.id === 'a1')!;
	return { state, channel, answer };
}

/** Applies a change made on another replica. */
async function remote(channel: ChannelDoc, change: (c: ChannelDoc) => Promise<void>): Promise<void> {
	const copy = new Y.Doc({ guid: channel.id });
	Y.applyUpdate(copy, Y.encodeStateAsUpdate(channel.doc));
	const sv = Y.encodeStateVector(copy);
	await change(new ChannelDoc(copy));
	Y.applyUpdate(channel.doc, Y.encodeStateAsUpdate(copy, sv), 'remote');
}

describe('a relay’s answer in the channel state', () => {
	it('is no longer asked by Bob, and is withheld, once Bob deletes his question', async () => {
		const { state, channel, answer } = await answered();
		expect([state.askedBy(answer), state.isWithheld(answer), state.text(answer)]).toEqual([bob.id, false, 'Hello.']);
		await remote(channel, async (c) => c.markDeletion(await deletionMarks.sign(bob.key, { msg: 'q1', by: bob.id, hlc: now(bob.id, 30), deleted: true })));
		expect([state.askedBy(answer), state.isWithheld(answer)]).toEqual([undefined, true]);
		await state.close();
	});

	it('does not take an end the relay signs later, backdated before the answer', async () => {
		const { state, channel, answer } = await answered(false);
		await remote(channel, async (c) => c.edit(await signEdit(relay.key, { msg: 'a1', author: relay.id, hlc: now(relay.id, 5), text: 'Wire the money.', end: { status: AiStatus.failed, error: 'Call +1 555 0100' } })));
		expect(state.text(answer)).not.toBe('Wire the money.');
		expect(state.answer(answer)?.status).not.toBe(AiStatus.failed);
		expect(state.edits(answer)).toEqual([]);
		await state.close();
	});
});
