/**
 * Found in review: the notifier's new "its author deleted it" check (WorkspaceNotifier.decide) reads the
 * deletion index without checking signatures (isDeletedIn). Any member can write a deletion mark
 * claiming another author, with a junk signature, and that author's @mention never notifies.
 */
import 'fake-indexeddb/auto';
import { afterAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { ChannelDoc } from '../../../src/lib/doc/ChannelDoc.js';
import { formatHlc } from '../../../src/lib/doc/hlc.js';
import { signMessage } from '../../../src/lib/doc/signature.js';
import { setupI18n } from '../../../src/lib/i18n/index.js';
import { WorkspaceNotifier } from '../../../src/lib/state/notify/WorkspaceNotifier.svelte.js';
import type { MessageNotification } from '../../../src/lib/state/notify/systemNotifications.js';
import type { WorkspaceState } from '../../../src/lib/state/WorkspaceState.svelte.js';
import { world } from '../knowledge/attacks/world.js';

let state: WorkspaceState | undefined;
afterAll(async () => {
	await state?.close().catch(() => undefined);
});
const soon = (node: string, ms: number) => formatHlc({ wall: Date.now() + ms, counter: 0, node });

describe('forged deletion silences a notification', () => {
	for (const forged of [false, true]) it(`the owner's @Alice post notifies (forged deletion in the owner's name: ${forged})`, async () => {
		setupI18n('en');
		const w = await world();
		const general = await w.hold(w.general);
		state = await w.open();
		await state.team.authority.settled?.();
		const shown: MessageNotification[] = [];
		const notifier = new WorkspaceNotifier(w.services, state, { wanted: () => true, show: async (n) => void shown.push(n) });
		await notifier.start();
		const theirs = new Y.Doc({ guid: w.general });
		Y.applyUpdate(theirs, Y.encodeStateAsUpdate(general));
		const sv = Y.encodeStateVector(theirs);
		const real = await signMessage(w.owner.key as never, { id: 'urgent', author: w.owner.peerId, hlc: soon(w.owner.peerId, 1000), text: '@Alice the server is down, call me' }, w.general);
		new ChannelDoc(theirs).post(real);
		// Mallory's forgery: the owner "deleted" it (signature is junk).
		if (forged) new ChannelDoc(theirs).markDeletion({ msg: 'urgent', by: w.owner.peerId, hlc: soon(w.owner.peerId, 2000), deleted: true, sig: 'A'.repeat(86) + '==' });
		const handle = w.services.docs.open(w.general);
		w.services.docs.applyUpdate(handle, Y.encodeStateAsUpdate(theirs, sv), 'mesh');
		w.services.docs.release(handle);
		await new Promise((r) => setTimeout(r, 300));
		notifier.stop();
		expect(shown.map((n) => n.body)).toEqual([expect.stringContaining('server is down')]);
	});
});
