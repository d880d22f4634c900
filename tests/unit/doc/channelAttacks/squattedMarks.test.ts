/**
 * Found in review. A member kept an admin from hiding its message. The moderation map's entries are set once
 * (channelPolicy.ts `moderation: 'once'`, growth.ts refuses any update that sets a key a
 * replica already holds), and a mark's key is `msg \n by \n hlc` with the admin's clock value,
 * which the attacker can predict: it posts with a clock 20 hours ahead (within MAX_DRIFT_MS),
 * every clock that reads the channel jumps there (ChannelState: clock.receive), and from then
 * on the admin's ticks are that wall time with a counter one higher each time. Mallory fills
 * the next 200 counters under her message with junk "marks" in the admin's name (their
 * signatures fail, so no view counts them, but the write policy does not look). The admin's
 * genuine "Hide for everyone" then lands on a squatted key: every other replica refuses the
 * admin's update as an overwrite. Everyone keeps seeing the message (the admin's own view too:
 * ChannelView.addModeration keeps the first mark of a `by \n hlc`, the junk one) (and Yjs keeps whatever the admin's client writes next in that
 * channel pending behind the refused item).
 */
import 'fake-indexeddb/auto';
import { afterAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { ChannelDoc, moderationKey } from '../../../../src/lib/doc/ChannelDoc.js';
import { formatHlc } from '../../../../src/lib/doc/hlc.js';
import { newIdFor } from '../../../../src/lib/doc/ids.js';
import { signMessage } from '../../../../src/lib/doc/signature.js';
import { checkRemoteUpdate } from '../../../../src/lib/doc/team/writePolicy.js';
import { settingsKey, WorkspaceDoc } from '../../../../src/lib/doc/WorkspaceDoc.js';
import { LOCAL_ORIGIN } from '../../../../src/lib/state/ChannelState.svelte.js';
import type { WorkspaceState } from '../../../../src/lib/state/WorkspaceState.svelte.js';
import { world } from '../../knowledge/attacks/world.js';

let state: WorkspaceState | undefined;
afterAll(async () => {
	await state?.close().catch(() => undefined);
});

describe("an admin's moderation mark", () => {
	it('cannot be kept off other replicas by junk entries a member wrote under its predictable key', async () => {
		const w = await world({ aliceRole: 'admin' });
		const general = await w.hold(w.general); // Alice's (the admin's) replica
		const ahead = Date.now() + 20 * 3600_000;

		// Mallory's modified client: the post, and junk under the keys of Alice's next marks on it.
		const mallorys = new Y.Doc({ guid: w.general });
		Y.applyUpdate(mallorys, Y.encodeStateAsUpdate(general));
		const sv = Y.encodeStateVector(mallorys);
		const abuse = await signMessage(w.mallory.key as never, { id: newIdFor(w.mallory.peerId), author: w.mallory.peerId, hlc: formatHlc({ wall: ahead, counter: 7, node: w.mallory.peerId }), text: 'abuse' }, w.general);
		const c = new ChannelDoc(mallorys);
		c.post(abuse);
		for (let counter = 8; counter < 208; counter++) {
			const junk = { msg: abuse.id, by: w.alice.peerId, hlc: formatHlc({ wall: ahead, counter, node: w.alice.peerId }), hidden: false, sig: 'AAAA' };
			c.moderation.set(moderationKey(junk), junk);
		}
		const attack = Y.encodeStateAsUpdate(mallorys, sv);

		// The owner's replica (a third one) takes it: the policy does not look at signatures.
		const owners = new Y.Doc({ guid: w.general });
		Y.applyUpdate(owners, Y.encodeStateAsUpdate(general));
		expect(checkRemoteUpdate(w.ws, w.general, owners, attack, { channel: true })).toBeUndefined();
		Y.applyUpdate(owners, attack, 'mesh');
		// Alice's replica takes it too (as a sync would deliver it).
		const handle = w.services.docs.open(w.general);
		w.services.docs.applyUpdate(handle, attack, 'mesh');
		w.services.docs.release(handle);

		// Alice opens the channel and hides the post, as "Hide for everyone" does.
		state = await w.open();
		await state.team.authority.settled?.();
		await state.openChannel(w.general);
		const channel = state.channel!;
		const sent: Uint8Array[] = [];
		general.on('update', (u: Uint8Array, origin: unknown) => {
			if (origin === LOCAL_ORIGIN) sent.push(u);
		});
		await channel.moderate(abuse, true);
		// (Even her own screen does not show it hidden: ChannelView indexes marks by `by \n hlc`, and the junk came first.)
		expect(sent.length).toBeGreaterThan(0);

		// What every other replica does with the admin's mark:
		const update = Y.mergeUpdates(sent);
		expect(checkRemoteUpdate(w.ws, w.general, owners, update, { channel: true })).toBeUndefined();
	});

	it("an admin's settings mark (make read-only) cannot be kept off other replicas the same way", async () => {
		await state?.close().catch(() => undefined);
		const w = await world({ aliceRole: 'admin' });
		const general = await w.hold(w.general);
		const ahead = Date.now() + 20 * 3600_000;
		// A post dated ahead pins every reader's clock (Alice's among them, once she opens the channel).
		const mallorysChannel = new Y.Doc({ guid: w.general });
		Y.applyUpdate(mallorysChannel, Y.encodeStateAsUpdate(general));
		const csv = Y.encodeStateVector(mallorysChannel);
		new ChannelDoc(mallorysChannel).post(await signMessage(w.mallory.key as never, { id: newIdFor(w.mallory.peerId), author: w.mallory.peerId, hlc: formatHlc({ wall: ahead, counter: 7, node: w.mallory.peerId }), text: 'hi' }, w.general));
		const h = w.services.docs.open(w.general);
		w.services.docs.applyUpdate(h, Y.encodeStateAsUpdate(mallorysChannel, csv), 'mesh');
		w.services.docs.release(h);
		// Junk settings marks in Alice's name under the keys of her next ticks, in the root.
		const mallorysRoot = new Y.Doc({ guid: w.ws });
		Y.applyUpdate(mallorysRoot, Y.encodeStateAsUpdate(w.root.doc));
		const rsv = Y.encodeStateVector(mallorysRoot);
		const junkRoot = new WorkspaceDoc(mallorysRoot);
		for (let counter = 8; counter < 208; counter++) {
			for (const field of ['readOnly', 'archived'] as const) junkRoot.channelSettings.set(settingsKey({ channel: w.general, field, by: w.alice.peerId, hlc: formatHlc({ wall: ahead, counter, node: w.alice.peerId }), value: false, sig: 'AAAA' }), { channel: w.general, field, value: false, by: w.alice.peerId, hlc: formatHlc({ wall: ahead, counter, node: w.alice.peerId }), sig: 'AAAA' });
		}
		const attack = Y.encodeStateAsUpdate(mallorysRoot, rsv);
		const owners = new Y.Doc({ guid: w.ws });
		Y.applyUpdate(owners, Y.encodeStateAsUpdate(w.root.doc));
		expect(checkRemoteUpdate(w.ws, w.ws, owners, attack)).toBeUndefined();
		Y.applyUpdate(owners, attack, 'mesh');
		Y.applyUpdate(w.root.doc, attack, 'mesh');

		state = await w.open();
		await state.team.authority.settled?.();
		await state.openChannel(w.general);
		const sent: Uint8Array[] = [];
		w.root.doc.on('update', (u: Uint8Array, origin: unknown) => {
			if (origin === LOCAL_ORIGIN) sent.push(u);
		});
		await state.setReadOnly(w.general, true);
		expect(sent.length).toBeGreaterThan(0);
		expect(checkRemoteUpdate(w.ws, w.ws, owners, Y.mergeUpdates(sent))).toBeUndefined();
	});
});
