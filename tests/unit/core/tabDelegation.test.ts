/**
 * A tab speaks for its device only while its delegation lasts: once it expires, the tab is no
 * device's (so no member's rights, no note carrier), also where it was admitted before.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { TeamAuthority } from '../../../src/lib/core/TeamAuthority.js';
import { delegatedAuthority } from '../../../src/lib/core/tabAuthority.js';
import { signDelegation } from '../../../src/lib/doc/team/delegation.js';
import { addTeamOp } from '../../../src/lib/doc/team/TeamDoc.js';
import { createWorkspace, newDevice, write } from '../doc/team/teamKit.js';

/** A team of an owner and a member, Bob, whose device delegates to `tab`. */
async function ownerAndBob() {
	const [owner, bob, tab] = await Promise.all([newDevice(), newDevice(), newDevice()]);
	const { ws, create } = await createWorkspace(owner);
	const ops = [create];
	ops.push(await write(owner, ws, ops, { t: 'add', member: bob.peerId, role: 'member', name: 'Bob' }));
	const doc = new Y.Doc();
	for (const op of ops) addTeamOp(doc, op);
	return { owner, bob, tab, ws, doc };
}

describe('tab delegations', () => {
	it('a tab is its device until the delegation expires, then nobody', async () => {
		const { bob, tab, ws, doc } = await ownerAndBob();
		let now = 10_000;
		const authority = new TeamAuthority({ workspaceId: ws, doc, now: () => now });
		await authority.ready;
		const delegation = await signDelegation(bob.key, { ws, device: bob.peerId, tab: tab.peerId, expires: 20_000 });
		expect(await authority.admits(tab.peerId, delegation)).toBe('ok');
		expect(authority.deviceOf(tab.peerId)).toBe(bob.peerId);
		expect(authority.carries(tab.peerId)).toBe(true);
		now = 20_001;
		expect(authority.deviceOf(tab.peerId)).toBeUndefined();
		expect(authority.carries(tab.peerId)).toBe(false);
		expect(await authority.admits(tab.peerId, delegation)).toBe('refused');
		authority.destroy();
	});

	it("a second tab's mesh counts peers by member, as its device's does (unlisted allowance, fair order)", async () => {
		const { owner, bob, tab, ws, doc } = await ownerAndBob();
		const authority = new TeamAuthority({ workspaceId: ws, doc, now: () => 10_000 });
		await authority.ready;
		const delegation = await signDelegation(bob.key, { ws, device: bob.peerId, tab: tab.peerId, expires: 20_000 });
		expect(await authority.admits(tab.peerId, delegation)).toBe('ok');
		const asTab = delegatedAuthority(authority, delegation);
		expect(asTab.personOf?.(tab.peerId)).toBe(bob.peerId);
		expect(asTab.personOf?.(owner.peerId)).toBe(owner.peerId);
		authority.destroy();
	});
});
