/**
 * History that cannot be rewritten, against a member with a modified client, with real
 * libp2p nodes in one process running the workspace core: mallory changes her own copy of a
 * channel the way the attacks in issue 11 did (a hard delete, an edit rolled back, an
 * undelete, a reaction mark rewritten) and lets her client sync it. The owner and bob refuse
 * every one of those updates (and say why), keep the history whole, and still take her honest
 * posts afterwards.
 */
import '../../src/lib/mesh/polyfills.node.js';
import { afterEach, describe, expect, it } from 'vitest';
import { ChannelDoc, deletionKey } from '../../src/lib/doc/ChannelDoc.js';
import { newId } from '../../src/lib/doc/ids.js';
import type { MessageRecord } from '../../src/lib/doc/schema.js';
import { at, edit, msg } from '../unit/doc/helpers.js';
import { waitFor } from './helpers.js';
import { stopPeers } from './peers.js';
import { stopTeamPeers, teamOfThree, type TeamPeer } from './teamPeers.js';

afterEach(async () => {
	await stopTeamPeers();
	await stopPeers();
});

const channelOf = (peer: TeamPeer, id: string) => new ChannelDoc(peer.docs.get(id));
const texts = (peer: TeamPeer, id: string) => channelOf(peer, id).messages.toArray().map((m: MessageRecord) => m.text);
/** Why each update this peer refused was refused (the write policy's reason, from the error message). */
const refusals = (peer: TeamPeer) =>
	peer.errors.filter((e) => e.error.name === 'UpdateRejectedError').map((e) => /a record cannot be \w+/.exec(e.error.message)?.[0] ?? e.error.message);

describe('channel history on the mesh', () => {
	it('every replica refuses a member rewriting what others wrote, and keeps it whole', async () => {
		const { ws, owner, mallory, bob } = await teamOfThree();
		const channel = newId();
		// The owner makes the channel (listed in the root) and writes its history.
		owner.docs.get(ws.id).getMap('channels').set(channel, { id: channel, name: 'general' });
		const history = channelOf(owner, channel);
		history.post(msg('m1', owner.peerId, at(100, owner.peerId), 'the dose is 5 mg'));
		history.edit(edit('m1', owner.peerId, at(200, owner.peerId), 'the dose is 5 mg, twice a day'));
		history.post(msg('m2', bob.peerId, at(300, bob.peerId), 'withdrawn'));
		history.markDeletion({ msg: 'm2', by: bob.peerId, hlc: at(400, bob.peerId), deleted: true, sig: 'sig' });
		history.markReaction({ msg: 'm1', emoji: '👍', by: bob.peerId, hlc: at(500, bob.peerId), on: true, sig: 'sig' });
		const whole = () => {
			const c = channelOf(owner, channel);
			return [c.messages.length, c.edits.length, c.deletions.size, c.reactions.size];
		};
		for (const p of [mallory, bob]) await waitFor(() => channelOf(p, channel).reactions.size === 1, `${p.name} to hold the history`);
		expect(whole()).toEqual([2, 1, 1, 1]);

		const attacks: Array<[string, (c: ChannelDoc) => void]> = [
			['hard delete', (c) => c.messages.delete(0, 1)],
			['edit rolled back', (c) => c.edits.delete(0, 1)],
			['undelete', (c) => c.deletions.delete(deletionKey({ msg: 'm2', by: bob.peerId, hlc: at(400, bob.peerId) }))],
			['reaction rewritten', (c) => c.reactions.forEach((_, key) => c.reactions.set(key, { forged: true }))]
		];
		for (const [what, change] of attacks) {
			const before = [...refusals(owner), ...refusals(bob)].length;
			change(channelOf(mallory, channel));
			await waitFor(() => [...refusals(owner), ...refusals(bob)].length > before, `the ${what} to be refused`);
			for (const p of [owner, bob]) {
				const c = channelOf(p, channel);
				expect([c.messages.length, c.edits.length, c.deletions.size, c.reactions.size], `${p.name} after the ${what}`).toEqual([2, 1, 1, 1]);
			}
		}
		expect(texts(bob, channel)).toContain('the dose is 5 mg');
		expect(new Set([...refusals(owner), ...refusals(bob)])).toEqual(
			new Set(['a record cannot be deleted', 'a record cannot be overwritten'])
		);
	}, 30_000);
});
