/**
 * Found in review. Reaction tallies counted every peer whose mark carries a valid signature of its own key
 * (ChannelState.reactions: the only check is the signature), whether or not that key is a
 * device of the team. One member with a modified client mints 25 throwaway keys and makes
 * "25 people" react 👎 to the owner's announcement (or 👍 to its own), on every replica; the
 * list names them as "…abc123". Moderation marks are checked against the team
 * (hiddenBy with roleOf), reactions are not.
 */
import 'fake-indexeddb/auto';
import { afterAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { ChannelDoc } from '../../../src/lib/doc/ChannelDoc.js';
import { signReactionMark } from '../../../src/lib/doc/signature.js';
import type { WorkspaceState } from '../../../src/lib/state/WorkspaceState.svelte.js';
import { isMessageRecord } from '../../../src/lib/doc/validate.js';
import { newDevice } from '../doc/team/teamKit.js';
import { hlc, post, world } from '../knowledge/attacks/world.js';

let state: WorkspaceState | undefined;
afterAll(async () => {
	await state?.close().catch(() => undefined);
});

describe('reactions', () => {
	it('count only devices of the team, not throwaway keys', async () => {
		const w = await world();
		const general = await w.hold(w.general);
		const msgId = await post(general, w.owner, 1, 'Offsite is on Friday');
		state = await w.open();
		await state.team.authority.settled?.();
		await state.openChannel(w.general);
		const channel = state.channel!;

		// Mallory's modified client: 25 keys the team never admitted, each with a genuine signature.
		const theirs = new Y.Doc({ guid: w.general });
		Y.applyUpdate(theirs, Y.encodeStateAsUpdate(general));
		const sv = Y.encodeStateVector(theirs);
		const sock = await Promise.all(Array.from({ length: 25 }, () => newDevice()));
		for (const [i, d] of sock.entries()) {
			new ChannelDoc(theirs).markReaction(await signReactionMark(d.key as never, { msg: msgId, emoji: '👎', by: d.peerId, hlc: hlc(2 + i, d.peerId), on: true }));
		}
		// And Alice's genuine 👍 (a member of the team).
		new ChannelDoc(theirs).markReaction(await signReactionMark(w.alice.key as never, { msg: msgId, emoji: '👍', by: w.alice.peerId, hlc: hlc(40, w.alice.peerId), on: true }));
		const handle = w.services.docs.open(w.general);
		w.services.docs.applyUpdate(handle, Y.encodeStateAsUpdate(theirs, sv), 'mesh');
		w.services.docs.release(handle);

		const m = new ChannelDoc(general).messages.toArray().filter(isMessageRecord).find((r) => r.id === msgId)!;
		channel.reactions(m); // starts the signature checks
		await new Promise((r) => setTimeout(r, 300));
		const tallies = channel.reactions(m);
		expect(tallies.find((t) => t.emoji === '👍')?.count).toBe(1);
		expect(tallies.find((t) => t.emoji === '👎')).toBeUndefined();
	});
});
