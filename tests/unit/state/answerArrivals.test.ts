/**
 * A model's answer that a relay host signs arrives in a channel not on screen: the workspace's
 * notifier (WorkspaceNotifier) counts it as unread at once, as the channel view will show it (as its proven asker's). The
 * notifier judged posts without the channel's questions, so an answer by a relay (which never
 * posts on its own) counted for nothing until the next recount.
 */
import 'fake-indexeddb/auto';
import { afterAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { ChannelDoc } from '../../../src/lib/doc/ChannelDoc.js';
import { formatHlc } from '../../../src/lib/doc/hlc.js';
import { newIdFor } from '../../../src/lib/doc/ids.js';
import { signMessage } from '../../../src/lib/doc/signature.js';
import { setupI18n } from '../../../src/lib/i18n/index.js';
import type { WorkspaceState } from '../../../src/lib/state/WorkspaceState.svelte.js';
import { newDevice } from '../doc/team/teamKit.js';
import { world } from '../knowledge/attacks/world.js';

let state: WorkspaceState | undefined;
afterAll(async () => {
	await state?.close().catch(() => undefined);
});

const soon = (node: string, ms: number) => formatHlc({ wall: Date.now() + ms, counter: 0, node });

describe('a relay-hosted answer arriving in a channel not on screen', () => {
	for (const proven of [true, false]) it(proven ? 'counts as unread with its question' : 'does not count when it names no question (control)', async () => {
		setupI18n('en');
		const w = await world();
		const relay = await newDevice();
		await w.op(w.owner, { t: 'add', member: relay.peerId, role: 'relay', name: 'Relay' });
		const general = await w.hold(w.general);
		state = await w.open();
		await state.team.authority.settled?.();

		const theirs = new Y.Doc({ guid: w.general });
		Y.applyUpdate(theirs, Y.encodeStateAsUpdate(general));
		const sv = Y.encodeStateVector(theirs);
		const question = await signMessage(w.mallory.key as never, { id: newIdFor(w.mallory.peerId), author: w.mallory.peerId, hlc: soon(w.mallory.peerId, 1000), text: '@tiny what is the tide?', ask: { model: 'tiny', host: relay.peerId } }, w.general);
		const answer = await signMessage(relay.key as never, { id: newIdFor(relay.peerId), author: relay.peerId, hlc: soon(relay.peerId, 2000), text: 'High at noon.', model: 'tiny', askedBy: w.mallory.peerId, ...(proven ? { question: question.id } : {}) }, w.general);
		new ChannelDoc(theirs).post(question);
		new ChannelDoc(theirs).post(answer);
		const handle = w.services.docs.open(w.general);
		w.services.docs.applyUpdate(handle, Y.encodeStateAsUpdate(theirs, sv), 'mesh');
		w.services.docs.release(handle);
		await new Promise((r) => setTimeout(r, 300)); // the signature checks before counting
		expect(state.unread[w.general]).toBe(proven ? 2 : 1);
		await state.close();
		state = undefined;
	});
});
