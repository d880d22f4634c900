/**
 * One device's tabs do not push another's out of a replica's table of tabs (found in review:
 * one table for the whole workspace, 1,024 tabs, the oldest forgotten, and no limit per
 * device; a member signing delegations for 1,024 throwaway keys pushed another member's real
 * tab out, and with it the tab's DM, huddle and presence). A device keeps at most
 * MAX_TABS_PER_DEVICE, its own oldest forgotten first. Bob's tab is admitted over a real sync
 * session; Mallory's delegations go through `authority.admits`, the call the sync responder
 * makes for each HELLO (sparing 1,024 nodes).
 */
import '../../src/lib/mesh/polyfills.node.js';
import { afterEach, describe, expect, it } from 'vitest';
import { mayHuddle } from '../../src/lib/huddle/huddleRule.js';
import { signDelegation } from '../../src/lib/doc/team/delegation.js';
import { newSpaceId } from '../../src/lib/doc/team/teamId.js';
import { MAX_TABS_PER_DEVICE } from '../../src/lib/core/TeamAuthority.js';
import { waitFor } from './helpers.js';
import { connect, stopPeers } from './peers.js';
import { newKey, startTeamPeer, stopTeamPeers, teamOfThree } from './teamPeers.js';

afterEach(async () => {
	await stopTeamPeers();
	await stopPeers();
});

describe('tabs admitted by delegation', () => {
	it('a member’s 1,024 self-signed delegations keep only its own newest, and another member’s real tab keeps its DM and huddle', async () => {
		const { ws, owner, mallory, bob } = await teamOfThree();
		const { space: dm, nonce } = newSpaceId(owner.authority.workspaceId, owner.peerId);
		await owner.authority.write({ t: 'space', space: dm, nonce, kind: 'dm', members: [owner.peerId, bob.peerId] });

		const bobTab = await startTeamPeer(ws, bob.key, 'bob-tab', [], true);
		const bobTabId = bobTab.node.peerId.toString();
		await connect(bobTab, owner);
		await waitFor(() => owner.authority.deviceOf(bobTabId) === bob.peerId, 'the owner admits bob’s tab');
		expect(owner.authority.spaceAccess(dm)?.reads(bobTabId)).toBe(true);
		expect(mayHuddle({ authority: owner.authority, docs: owner.docs }, dm, bobTabId)).toBe(true);

		// Mallory's modified client: 1,024 throwaway keys, each with a delegation her device key signs.
		let admitted = 0;
		const malloryTabs: string[] = [];
		for (let i = 0; i < 1024; i++) {
			const tab = await newKey();
			malloryTabs.push(tab.peerId);
			const delegation = await signDelegation(mallory.key, { ws: ws.id, device: mallory.peerId, tab: tab.peerId, expires: Date.now() + 3_600_000 });
			if ((await owner.authority.admits(tab.peerId, delegation)) === 'ok') admitted++;
		}
		expect(admitted).toBe(1024); // each admitted, in place of her own oldest

		expect(owner.authority.deviceOf(bobTabId), 'bob’s tab kept').toBe(bob.peerId);
		expect(malloryTabs.filter((tab) => owner.authority.deviceOf(tab) === mallory.peerId)).toEqual(malloryTabs.slice(-MAX_TABS_PER_DEVICE));
		expect(owner.authority.spaceAccess(dm)?.reads(bobTabId)).toBe(true);
		expect(mayHuddle({ authority: owner.authority, docs: owner.docs }, dm, bobTabId)).toBe(true);
	}, 120_000);
});
