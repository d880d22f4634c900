/**
 * The team on the mesh, against hostile members with modified clients, with real libp2p
 * nodes in one process, each running the workspace core (TeamAuthority + write policy):
 * joining by invitation, becoming owner, deleting team operations, removal closing open
 * sessions and refusing reconnection, spent invitations, and strangers learning ids.
 */
import '../../src/lib/mesh/polyfills.node.js';
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { DeniedReason, SYNC_PROTOCOL_ID } from '../../src/lib/mesh/constants.js';
import type { MembershipDeniedError } from '../../src/lib/mesh/errors.js';
import { teamOps } from '../../src/lib/doc/team/TeamDoc.js';
import { decodeOp } from '../../src/lib/doc/team/ops.js';
import { admitProof, signTeamOp } from '../../src/lib/doc/team/sign.js';
import { meshService, type MeshErrorEvent, type MeshService } from '../../src/lib/mesh/MeshService.js';
import { MemoryDocs } from '../unit/mesh/memoryDocs.js';
import { addressOf, startNode, waitFor } from './helpers.js';
import { connect, stopPeers } from './peers.js';
import { createTeamWorkspace, has, invite, listedDoc, newKey, post, startJoiner, startTeamPeer, stopTeamPeers, teamOfThree as team3, type TeamPeer, type TeamWorkspace } from './teamPeers.js';

const withholders: MeshService[] = [];

afterEach(async () => {
	for (const mesh of withholders.splice(0)) await mesh.stop();
	await stopTeamPeers();
	await stopPeers();
});

/**
 * A modified joiner: it shows its admission (signed with the invitation's seed) in HELLO but
 * never puts it in its own roster, so nothing it syncs carries it to the team.
 */
async function startWithholder(ws: TeamWorkspace, inv: Awaited<ReturnType<typeof invite>>, name: string) {
	const { key, peerId } = await newKey();
	const op = await signTeamOp(key, peerId, { ws: ws.id, prev: [inv.op.id], at: Date.now() }, {
		t: 'admit',
		invite: inv.id,
		proof: admitProof(inv.seed, ws.id, inv.id, peerId),
		name
	});
	const node = await startNode({ privateKey: key });
	const mesh = meshService({ antiEntropyIntervalMs: 0 })({ node });
	withholders.push(mesh);
	const errors: MeshErrorEvent[] = [];
	mesh.on('error', (event) => errors.push(event));
	await mesh.start();
	const docs = new MemoryDocs();
	await mesh.addWorkspace({
		id: ws.id,
		secret: ws.secret,
		docs,
		authority: { joined: false, excluded: false, isMember: () => false, admission: () => op.bytes, admits: async () => 'refused', onChange: () => () => {} }
	});
	return { node, docs, errors, peerId };
}

/** Sync streams `a` has open with `b`. */
function syncStreams(a: TeamPeer, b: { peerId: string }): number {
	return a.node
		.getConnections()
		.filter((c) => c.remotePeer.toString() === b.peerId)
		.flatMap((c) => c.streams)
		.filter((s) => s.protocol === SYNC_PROTOCOL_ID && s.status === 'open').length;
}




describe('team on the mesh', () => {
	it('an invitation admits a new device, which then syncs and is a member everywhere', async () => {
		const { owner, mallory, bob } = await team3();
		const channel = listedDoc(owner, owner.authority.workspaceId);
		post(owner, channel, 'hello');
		await waitFor(() => has(mallory, channel, 'hello') && has(bob, channel, 'hello'), 'the message on both members');
		expect(bob.authority.memberOf(mallory.peerId)?.name).toBe('mallory');
		expect(owner.authority.team.invites.get([...owner.authority.team.invites.keys()][0]!)?.used).toBe(1);
	});

	it('a member that signs itself owner and removes the owner changes nothing on any replica', async () => {
		const { owner, mallory, bob } = await team3();
		const forged = [
			await mallory.authority.write({ t: 'role', member: mallory.peerId, role: 'owner' }),
			await mallory.authority.write({ t: 'remove', member: owner.peerId })
		];
		const holds = (p: TeamPeer) => forged.every((op) => teamOps(p.docs.get(rosterOf(p))).has(op.id));
		await waitFor(() => holds(owner) && holds(bob), 'the forged operations reach everyone');
		for (const p of [owner, bob, mallory]) {
			await p.authority.settled();
			expect(p.authority.roleOf(mallory.peerId), p.name).toBe('member');
			expect(p.authority.roleOf(owner.peerId), p.name).toBe('owner');
		}
		// The owner still syncs with bob.
		const channel = listedDoc(owner, owner.authority.workspaceId);
		post(owner, channel, 'still here');
		await waitFor(() => has(bob, channel, 'still here'), 'owner to bob');
	});

	it('deleting or overwriting team operations in the document is refused by every replica', async () => {
		const { owner, mallory, bob } = await team3();
		const ownerOps = teamOps(owner.docs.get(rosterOf(owner)));
		const before = [...ownerOps.keys()];
		// Mallory's client deletes every operation from its copy: the update reaches the others.
		const mine = teamOps(mallory.docs.get(rosterOf(mallory)));
		mallory.docs.get(rosterOf(mallory)).transact(() => {
			for (const key of [...mine.keys()]) mine.delete(key);
		});
		await waitFor(() => owner.errors.some((e) => e.error.name === 'UpdateRejectedError'), 'the owner refuses the deletion');
		const bobOps = teamOps(bob.docs.get(rosterOf(bob)));
		for (const id of before) expect(ownerOps.has(id) && bobOps.has(id)).toBe(true);
		expect(owner.authority.team.members.size).toBe(3);
	});

	it('removal closes the removed device’s open sessions at once and refuses it afterwards', async () => {
		const { owner, mallory, bob } = await team3();
		await waitFor(() => syncStreams(owner, mallory) > 0 && syncStreams(bob, mallory) > 0, 'sessions with mallory');
		const removedAt = Date.now();
		await owner.authority.write({ t: 'remove', member: mallory.peerId });
		await waitFor(() => syncStreams(owner, mallory) === 0 && syncStreams(bob, mallory) === 0, 'sessions with mallory closed', 1_000);
		expect(Date.now() - removedAt).toBeLessThan(1_000);
		// A new session from mallory is refused; what it writes reaches nobody.
		mallory.mesh.syncNow();
		const channel = listedDoc(owner, owner.authority.workspaceId);
		post(mallory, channel, 'from the removed');
		await new Promise((r) => setTimeout(r, 500));
		expect(has(owner, channel, 'from the removed') || has(bob, channel, 'from the removed')).toBe(false);
		expect(syncStreams(owner, mallory)).toBe(0);
	});

	it('a removed device that ignores its removal (a stale or modified client) is refused when it reconnects', async () => {
		const { ws, owner, mallory, bob } = await team3();
		// What mallory's team held before the removal, kept by a client that never folds it.
		const before = [...owner.docs.get(ws.rosterId).getMap<Uint8Array>('ops').values()].map((b) => decodeOp(b));
		await owner.authority.write({ t: 'remove', member: mallory.peerId });
		await waitFor(() => bob.authority.team.removed.has(mallory.peerId), 'bob folds the removal');
		await mallory.mesh.stop();
		await mallory.node.stop();
		const stale = await startTeamPeer(ws, mallory.key, 'stale', before);
		expect(stale.authority.joined).toBe(true);
		await connect(stale, owner);
		await connect(stale, bob);
		await waitFor(
			() => stale.errors.filter((e) => e.error.name === 'MembershipDeniedError').length >= 2,
			'both members refuse the stale client'
		);
		const channel = listedDoc(owner, owner.authority.workspaceId);
		post(owner, channel, 'not for mallory');
		await new Promise((r) => setTimeout(r, 300));
		expect(has(stale, channel, 'not for mallory')).toBe(false);
		expect(syncStreams(owner, stale) + syncStreams(bob, stale)).toBe(0);
	});

	it('after removal the key rotates: gossip sent afterwards does not open with what the removed device holds', async () => {
		const { owner, mallory, bob } = await team3();
		const before = owner.authority.team.currentKey;
		expect(before).toBeDefined();
		await waitFor(() => mallory.keyring.has(before!) && bob.keyring.has(before!), 'the members get the first key');
		await owner.authority.write({ t: 'remove', member: mallory.peerId });
		await waitFor(() => owner.authority.team.currentKey !== before, 'a new key generation');
		const after = owner.authority.team.currentKey!;
		await waitFor(() => bob.keyring.currentId === after, 'bob opens the new generation');
		expect(owner.authority.team.keyGenerations.get(after)?.boxes.has(mallory.peerId)).toBe(false);
		// Mallory still follows the topic (it knows the secret) but cannot open the new key.
		await mallory.authority.settled();
		expect(mallory.keyring.has(after)).toBe(false);
		const channel = listedDoc(owner, owner.authority.workspaceId);
		post(owner, channel, 'after the removal');
		await waitFor(() => has(bob, channel, 'after the removal'), 'bob gets it');
		await new Promise((r) => setTimeout(r, 300));
		expect(has(mallory, channel, 'after the removal')).toBe(false);
	});

	it('a used, revoked or expired invitation admits nobody', async () => {
		const { ws, owner } = await createTeamWorkspace((await newKey()).key);
		const used = await invite(owner, 'member', 1);
		const first = await startJoiner(ws, (await newKey()).key, 'first', used);
		await connect(first, owner);
		await waitFor(() => owner.authority.isMember(first.peerId), 'first admitted');
		const revoked = await invite(owner, 'member', 5);
		await owner.authority.write({ t: 'revoke-invite', invite: revoked.id });
		const expired = await invite(owner, 'member', 5, Date.now() - 1_000);
		const channel = listedDoc(owner, owner.authority.workspaceId);
		post(owner, channel, 'secret plans');
		const late = await Promise.all([
			startJoiner(ws, (await newKey()).key, 'second', used),
			startJoiner(ws, (await newKey()).key, 'third', revoked),
			startJoiner(ws, (await newKey()).key, 'fourth', expired)
		]);
		for (const j of late) await connect(j, owner);
		await waitFor(() => late.every((j) => j.errors.some((e) => e.error.name === 'MembershipDeniedError')), 'every late joiner is denied');
		// Each is told why (it proved it holds the invitation's seed).
		const reasons = late.map((j) => (j.errors.find((e) => e.error.name === 'MembershipDeniedError')!.error as MembershipDeniedError).reason);
		expect(reasons).toEqual([DeniedReason.inviteUsed, DeniedReason.inviteRevoked, DeniedReason.inviteExpired]);
		for (const j of late) {
			expect(has(j, channel, 'secret plans')).toBe(false);
			expect(owner.authority.isMember(j.peerId)).toBe(false);
		}
	});

	it('an admission shown in HELLO but withheld from the roster is recorded: a single-use invitation admits one device, which shows and can be removed', async () => {
		const { ws, owner } = await createTeamWorkspace((await newKey()).key);
		const channel = listedDoc(owner, ws.id);
		post(owner, channel, 'team only');
		const inv = await invite(owner, 'member', 1);
		// Three devices minted with one live link open sessions with the owner at once.
		const thieves = await Promise.all(['t1', 't2', 't3'].map((name) => startWithholder(ws, inv, name)));
		await Promise.all(thieves.map((t) => t.node.dial(addressOf(owner.node))));
		const denied = (t: (typeof thieves)[number]) => t.errors.find((e) => e.error.name === 'MembershipDeniedError')?.error as MembershipDeniedError | undefined;
		await waitFor(() => thieves.filter((t) => denied(t) !== undefined).length === 2, 'two are denied');
		const [admitted] = thieves.filter((t) => denied(t) === undefined);
		await waitFor(() => has(admitted!, channel, 'team only'), 'the admitted one syncs');
		expect(thieves.filter((t) => denied(t) !== undefined).map((t) => denied(t)!.reason)).toEqual([DeniedReason.inviteUsed, DeniedReason.inviteUsed]);
		for (const t of thieves) if (t !== admitted) expect(has(t, channel, 'team only')).toBe(false);
		const team = owner.authority.team;
		expect(team.members.size).toBe(2);
		expect(owner.authority.isMember(admitted!.peerId)).toBe(true);
		expect(team.invites.get(inv.id)?.used).toBe(1);
		// It is in the team, so it can be removed: its session closes.
		await owner.authority.write({ t: 'remove', member: admitted!.peerId });
		await waitFor(() => owner.mesh.livePeers(ws.id).length === 0, 'its session closes');
	});

	it('a second tab (throwaway node key, delegation signed by the device) syncs until its device is removed', async () => {
		const { ws, owner, mallory } = await team3();
		const tab = await startTeamPeer(ws, mallory.key, 'mallory-tab', [], true);
		expect(tab.node.peerId.toString()).not.toBe(mallory.peerId);
		await connect(tab, owner);
		const channel = listedDoc(owner, owner.authority.workspaceId);
		post(owner, channel, 'to every tab');
		await waitFor(() => has(tab, channel, 'to every tab'), 'the tab gets the message');
		post(tab, channel, 'from the tab');
		await waitFor(() => has(owner, channel, 'from the tab'), 'the owner gets the tab’s message');
		// A delegation from a removed device admits nothing: the tab's session closes.
		await owner.authority.write({ t: 'remove', member: mallory.peerId });
		await waitFor(() => syncStreams(owner, { peerId: tab.node.peerId.toString() }) === 0, 'the tab’s session closed');
		post(owner, channel, 'after');
		await new Promise((r) => setTimeout(r, 300));
		expect(has(tab, channel, 'after')).toBe(false);
	});

	it('a stranger that connects is never sent a HELLO naming a workspace', async () => {
		const { owner } = await createTeamWorkspace((await newKey()).key);
		const stranger = await startNode();
		const hellos: Uint8Array[] = [];
		await stranger.handle(SYNC_PROTOCOL_ID, async (stream) => {
			for await (const chunk of stream) hellos.push(chunk instanceof Uint8Array ? chunk : chunk.subarray());
		}, { runOnLimitedConnection: true });
		// Both directions: the owner dials the stranger (so it would open), and the stranger dials.
		await owner.node.dial(addressOf(stranger));
		owner.mesh.syncNow();
		await new Promise((r) => setTimeout(r, 800));
		expect(hellos).toHaveLength(0);
	});
});

function rosterOf(peer: TeamPeer): string {
	return [...peer.docs.docs.keys()].find((id) => teamOps(peer.docs.docs.get(id)!).size > 0)!;
}
void Y;
