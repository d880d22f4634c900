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
import { createTeamWorkspace, invite, newKey, startJoiner, startTeamPeer, stopTeamPeers, teamOfThree } from './teamPeers.js';
import { TeamGate } from '../../src/lib/mesh/teamGate.js';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';

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

describe('tabs a member delegates to, at the gate (sessions and gossip)', () => {
	it(`stay at most ${MAX_TABS_PER_DEVICE} per device, as the authority holds them, and the gate forgets the rest (found in review: it kept its own copy, growing, and served every one)`, async () => {
		const { ws, owner } = await createTeamWorkspace((await newKey()).key);
		const malloryKey = (await newKey()).key;
		const mallory = await startJoiner(ws, malloryKey, 'mallory', await invite(owner, 'member'));
		await connect(mallory, owner);
		await waitFor(() => owner.authority.isMember(mallory.peerId), 'mallory admitted on the owner');

		const gate = new TeamGate(owner.authority);
		const tabs: string[] = [];
		const N = 200;
		for (let i = 0; i < N; i++) {
			const tab = peerIdFromPrivateKey((await newKey()).key).toString();
			const delegation = await signDelegation(malloryKey, { ws: ws.id, device: mallory.peerId, tab, expires: Date.now() + 365 * 86_400_000 });
			// What membership.ts asks when the tab's PROOF arrives with this HELLO admission.
			expect(await gate.admits!(tab, delegation)).toBe('ok');
			tabs.push(tab);
		}
		const heard = tabs.filter((t) => gate.hears(t) && gate.mayServe(t, 'responder')).length;
		// What the gate remembers (not part of its interface): swept as admissions come.
		const remembered = () => (gate as unknown as { provisional: Map<string, Uint8Array> }).provisional.size;
		const known = () => tabs.filter((t) => owner.authority.deviceOf(t) !== undefined);
		expect(known()).toEqual(tabs.slice(-MAX_TABS_PER_DEVICE));
		expect(heard).toBe(MAX_TABS_PER_DEVICE);
		expect(remembered()).toBeLessThanOrEqual(64 + MAX_TABS_PER_DEVICE);
		// A team change forgets the rest, and its re-checks push none of the newest out again.
		let lapsed = 0;
		gate.revisit(() => lapsed++);
		await new Promise((r) => setTimeout(r, 500));
		expect(lapsed).toBeGreaterThan(0);
		expect(remembered()).toBe(MAX_TABS_PER_DEVICE);
		expect(known()).toEqual(tabs.slice(-MAX_TABS_PER_DEVICE));
	});

	it('stop being heard and served once their delegation expires, with no team change (found in review: served until the next one)', async () => {
		const { ws, owner } = await createTeamWorkspace((await newKey()).key);
		const malloryKey = (await newKey()).key;
		const mallory = await startJoiner(ws, malloryKey, 'mallory', await invite(owner, 'member'));
		await connect(mallory, owner);
		await waitFor(() => owner.authority.isMember(mallory.peerId), 'mallory admitted on the owner');
		const gate = new TeamGate(owner.authority);
		const tab = peerIdFromPrivateKey((await newKey()).key).toString();
		const delegation = await signDelegation(malloryKey, { ws: ws.id, device: mallory.peerId, tab, expires: Date.now() + 1000 });
		expect(await gate.admits!(tab, delegation)).toBe('ok');
		await new Promise((r) => setTimeout(r, 1500));
		expect(owner.authority.deviceOf(tab)).toBeUndefined(); // the authority knows it lapsed
		expect({ hears: gate.hears(tab), mayServe: gate.mayServe(tab, 'responder') }).toEqual({ hears: false, mayServe: false });
	});
});
