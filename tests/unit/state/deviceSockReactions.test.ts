/**
 * Found in review (incomplete fix): reactions now count only devices the team has or had (ChannelState.reactions
 * `roleEver`), but tallies still count devices, not people. Any member may invite devices to her own
 * account (fold.ts: a device invitation needs no rank when it names its author's member), up to 32, and
 * each of them counts as one more person reacting.
 */
import 'fake-indexeddb/auto';
import { afterAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { ChannelDoc } from '../../../src/lib/doc/ChannelDoc.js';
import { signReactionMark } from '../../../src/lib/doc/signature.js';
import { addTeamOp } from '../../../src/lib/doc/team/TeamDoc.js';
import { isMessageRecord } from '../../../src/lib/doc/validate.js';
import type { WorkspaceState } from '../../../src/lib/state/WorkspaceState.svelte.js';
import { admission, invitation, newDevice } from '../doc/team/teamKit.js';
import { hlc, post, world } from '../knowledge/attacks/world.js';

let state: WorkspaceState | undefined;
afterAll(async () => {
	await state?.close().catch(() => undefined);
});

describe('reactions of one member', () => {
	it('count once however many devices she admitted to her own account', async () => {
		const w = await world();
		const general = await w.hold(w.general);
		const msgId = await post(general, w.owner, 1, 'Offsite is on Friday');
		// Mallory invites 20 devices onto her own account and admits them.
		const inv = invitation('member', 20, 10_000_000, w.mallory.peerId);
		await w.op(w.mallory, inv.body);
		const roster = await w.hold(w.rosterId);
		const sock = await Promise.all(Array.from({ length: 20 }, () => newDevice()));
		for (const d of sock) {
			const op = await admission(d, w.ws, w.ops, inv, 5_000 + w.ops.length);
			w.ops.push(op);
			addTeamOp(roster, op);
		}
		state = await w.open();
		await state.team.authority.settled?.();
		expect(state.team.authority.team.members.get(w.mallory.peerId)?.devices.length).toBe(21);
		await state.openChannel(w.general);
		const channel = state.channel!;
		const theirs = new Y.Doc({ guid: w.general });
		Y.applyUpdate(theirs, Y.encodeStateAsUpdate(general));
		const sv = Y.encodeStateVector(theirs);
		for (const [i, d] of sock.entries()) {
			new ChannelDoc(theirs).markReaction(await signReactionMark(d.key as never, { msg: msgId, emoji: '👎', by: d.peerId, hlc: hlc(2 + i, d.peerId), on: true }));
		}
		const handle = w.services.docs.open(w.general);
		w.services.docs.applyUpdate(handle, Y.encodeStateAsUpdate(theirs, sv), 'mesh');
		w.services.docs.release(handle);
		const m = new ChannelDoc(general).messages.toArray().filter(isMessageRecord).find((r) => r.id === msgId)!;
		channel.reactions(m);
		await new Promise((r) => setTimeout(r, 500));
		expect(channel.reactions(m).find((t) => t.emoji === '👎')?.count).toBe(1);
	});
});
