/**
 * A message an admin hid counts as unread nowhere (a limit until the evening review: the
 * channel list counted it; WorkspaceState.refreshUnread now leaves out every post nobody is
 * shown, withheld or hidden).
 */
import 'fake-indexeddb/auto';
import { afterAll, describe, expect, it } from 'vitest';
import { ChannelDoc } from '../../../src/lib/doc/ChannelDoc.js';
import { signModerationMark } from '../../../src/lib/doc/signature.js';
import type { WorkspaceState } from '../../../src/lib/state/WorkspaceState.svelte.js';
import { hlc, post, world } from '../knowledge/attacks/world.js';

let state: WorkspaceState | undefined;
afterAll(async () => {
	await state?.close().catch(() => undefined);
});

describe('unread counts and hidden messages', () => {
	it('leave out what an admin hid', async () => {
		const w = await world();
		const secret = await w.hold(w.secret);
		await post(secret, w.owner, 1, 'the launch moved to Friday');
		const spam = await post(secret, w.owner, 2, 'a message the owner then hid');
		const mark = await signModerationMark(w.owner.key, { msg: spam, by: w.owner.peerId, hlc: hlc(3, w.owner.peerId), hidden: true });
		secret.transact(() => new ChannelDoc(secret).markModeration(mark));
		await new Promise((r) => setTimeout(r, 100)); // stored
		state = await w.open();
		await state.team.authority.settled?.();
		expect(state.channel?.id).not.toBe(w.secret);
		await state.refreshUnread();
		expect(state.unread[w.secret]).toBe(1);
	});
});
