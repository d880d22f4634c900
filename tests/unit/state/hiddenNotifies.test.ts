/**
 * Found in review. A message an admin hid still raises a system notification, with its text in the body, on a
 * replica that receives the message and the admin's moderation mark together (a device back
 * online, or one the spammer never sent the post to directly: it reaches it through the
 * admin's replica, mark included). NotifyInput.shown is documented as "False for a message
 * nobody is shown (withheld by the posting rules, hidden, a bad signature)", but the notifier
 * computes it from the posting rules alone (WorkspaceNotifier.decide). The same holds for a
 * message its author already deleted.
 */
import 'fake-indexeddb/auto';
import { afterAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { ChannelDoc } from '../../../src/lib/doc/ChannelDoc.js';
import { formatHlc } from '../../../src/lib/doc/hlc.js';
import { signDeletionMark, signMessage, signModerationMark } from '../../../src/lib/doc/signature.js';
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

async function setUp() {
	setupI18n('en');
	const w = await world();
	const general = await w.hold(w.general);
	state = await w.open();
	await state.team.authority.settled?.();
	const shown: MessageNotification[] = [];
	const notifier = new WorkspaceNotifier(w.services, state, { wanted: () => true, show: async (n) => void shown.push(n) });
	await notifier.start();
	// What another replica holds: Mallory's post, then a mark on it, in one update to Alice.
	const theirs = new Y.Doc({ guid: w.general });
	Y.applyUpdate(theirs, Y.encodeStateAsUpdate(general));
	const sv = Y.encodeStateVector(theirs);
	const spam = await signMessage(w.mallory.key as never, { id: 'spam', author: w.mallory.peerId, hlc: soon(w.mallory.peerId, 1000), text: '@Alice your account is locked, log in at https://evil.example' }, w.general);
	new ChannelDoc(theirs).post(spam);
	const deliver = () => {
		const handle = w.services.docs.open(w.general);
		w.services.docs.applyUpdate(handle, Y.encodeStateAsUpdate(theirs, sv), 'mesh');
		w.services.docs.release(handle);
	};
	return { w, theirs, shown, notifier, deliver };
}

describe('notifications of messages nobody is shown', () => {
	// The control: without a mark the same delivery notifies, so the tests below do not pass
	// merely because nothing notifies. A deletion mark whose signature fails silences nothing
	// (found in review of the fix: the notifier took an unsigned mark as its author's).
	for (const forged of [false, true]) it(`a message with no mark${forged ? ', or a forged deletion in its author’s name,' : ''} notifies`, async () => {
		const { w, theirs, shown, notifier, deliver } = await setUp();
		if (forged) new ChannelDoc(theirs).markDeletion({ msg: 'spam', by: w.mallory.peerId, hlc: soon(w.mallory.peerId, 2000), deleted: true, sig: 'A'.repeat(86) + '==' });
		deliver();
		await new Promise((r) => setTimeout(r, 300));
		notifier.stop();
		expect(shown.map((n) => n.body)).toEqual([expect.stringContaining('account is locked')]);
	});

	it('a message the owner hid does not notify, and its text is not put in a notification', async () => {
		const { w, theirs, shown, notifier, deliver } = await setUp();
		new ChannelDoc(theirs).markModeration(await signModerationMark(w.owner.key as never, { msg: 'spam', by: w.owner.peerId, hlc: soon(w.owner.peerId, 2000), hidden: true }));
		deliver();
		await new Promise((r) => setTimeout(r, 300)); // the signature check before showing
		notifier.stop();
		expect(shown.map((n) => n.body)).toEqual([]);
	});

	it('a message its author deleted does not notify either', async () => {
		const { w, theirs, shown, notifier, deliver } = await setUp();
		new ChannelDoc(theirs).markDeletion(await signDeletionMark(w.mallory.key as never, { msg: 'spam', by: w.mallory.peerId, hlc: soon(w.mallory.peerId, 2000), deleted: true }));
		deliver();
		await new Promise((r) => setTimeout(r, 300));
		notifier.stop();
		expect(shown.map((n) => n.body)).toEqual([]);
	});
});
