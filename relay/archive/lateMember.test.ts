/**
 * A member added to a private space gets its history, from the relay alone too: what the relay
 * keeps sealed under the space's older key generations opens for it, because the members who
 * hold those generations seal them to the newcomer as well (keyKeeper.ts `shareSpaces`).
 * Found in review: only the current generation was shared, so a member added after a rotation
 * got none of the history from the relay (and not the newer messages built on it).
 *
 * And envelopes of a generation whose key reaches the member after it read them: the newer (or
 * older) generation's envelope is passed over, and read again once its key is sealed to the
 * member, with what built on it. Before, the read position moved past it for good
 * (sealedSync.ts `readAgain`).
 */
import '../../src/lib/mesh/polyfills.node.ts'; // before anything that loads libp2p
import { afterEach, expect, it } from 'vitest';
import { openSpaceKeys } from '../../src/lib/core/spaceKeys.ts';
import { sealForDevices, spaceKeyScope } from '../../src/lib/doc/team/keyBox.ts';
import { newSpaceId } from '../../src/lib/doc/team/teamId.ts';
import { connect, stopPeers } from '../../tests/mesh/peers.ts';
import { createTeamWorkspace, has, invite, newKey, post, startJoiner, stopTeamPeers, type TeamPeer } from '../../tests/mesh/teamPeers.ts';
import { archiveAs, dialRelay, startTestRelay, waitUntil, type TestRelay } from '../teamFixture.ts';

const relays: TestRelay[] = [];
afterEach(async () => {
	await stopTeamPeers();
	await stopPeers();
	for (const r of relays.splice(0)) await r.stop();
}, 20_000);

it('a member added after a key rotation reads the whole history from the relay alone', async () => {
	const test = await startTestRelay('late-member');
	relays.push(test);
	const { relay } = test;
	const relayId = relay.node.peerId.toString();
	const { ws, owner } = await createTeamWorkspace((await newKey()).key);
	const [bob, mallory, carol] = [
		await startJoiner(ws, (await newKey()).key, 'bob', await invite(owner, 'member')),
		await startJoiner(ws, (await newKey()).key, 'mallory', await invite(owner, 'member')),
		await startJoiner(ws, (await newKey()).key, 'carol', await invite(owner, 'member'))
	];
	for (const p of [bob, mallory, carol]) await connect(p, owner);
	await waitUntil(() => [bob, mallory, carol].every((p) => owner.authority.isMember(p.peerId) && p.authority.joined), 'three admitted');
	await archiveAs(owner, relay, ws);
	// Carol meets no one but the relay.
	for (const p of [owner, bob, mallory]) {
		carol.gater.blocked.add(p.node.peerId.toString());
		await carol.node.hangUp(p.node.peerId);
	}
	await dialRelay(owner, relay);
	await dialRelay(carol, relay);

	const { space: S, nonce } = newSpaceId(ws.id, owner.peerId);
	await owner.authority.write({ t: 'space', space: S, nonce, kind: 'private', members: [owner.peerId, bob.peerId, mallory.peerId] });
	const logLength = async (peer: TeamPeer = owner) => (await peer.mesh.wantSealed(ws.id, relayId, S, 0, 2000).catch(() => ({ envelopes: [] }))).envelopes.length;
	post(owner, S, 'm1 (first generation)');
	await waitUntil(async () => (await logLength()) >= 1, 'the relay keeps m1 sealed', 30_000);
	// Mallory leaves the space: a new generation; more is written.
	await owner.authority.write({ t: 'space-members', space: S, add: [], remove: [mallory.peerId] });
	await waitUntil(() => owner.authority.team.spaces.get(S)?.keyGenerations.size === 2, 'the space key is rotated');
	const before = await logLength();
	post(owner, S, 'm2 (second generation)');
	await waitUntil(async () => (await logLength()) > before, 'the relay keeps m2 sealed', 30_000);

	// Carol is added: the owner seals both generations to her; then the owner goes offline.
	await owner.authority.write({ t: 'space-members', space: S, add: [carol.peerId], remove: [] });
	const holdsAll = (peer: TeamPeer) => [...(peer.authority.team.spaces.get(S)?.keyGenerations.values() ?? [])].every((g) => g.boxes.has(carol.peerId));
	await waitUntil(() => carol.authority.team.spaces.get(S)?.keyGenerations.size === 2 && holdsAll(carol), 'carol holds both generations', 20_000);
	owner.gater.blocked.add(relayId);
	await owner.node.hangUp(relay.node.peerId);
	await waitUntil(() => has(carol, S, 'm1 (first generation)') && has(carol, S, 'm2 (second generation)'), 'carol reads the whole history from the relay', 30_000);
	expect(carol.keyErrors.filter((e) => e.message.includes('no key of generation'))).toEqual([]);
}, 120_000);

/**
 * The owner (its key keeper sharing only when the test says) writes m1 under the space's first
 * generation and m2 (building on m1) under the second; Carol, who meets only the relay, is
 * added and sealed `first` of the two generations; returns what the test needs next.
 */
async function lateMemberOfTwoGenerations(first: 'older' | 'newer') {
	const test = await startTestRelay('sealed-waiting');
	relays.push(test);
	const { relay } = test;
	const relayId = relay.node.peerId.toString();
	const { ws, owner } = await createTeamWorkspace((await newKey()).key, { keyShareWaitMs: 600_000 });
	const [mallory, carol] = [
		await startJoiner(ws, (await newKey()).key, 'mallory', await invite(owner, 'member')),
		await startJoiner(ws, (await newKey()).key, 'carol', await invite(owner, 'member'))
	];
	for (const p of [mallory, carol]) await connect(p, owner);
	await waitUntil(() => [mallory, carol].every((p) => owner.authority.isMember(p.peerId) && p.authority.joined), 'two admitted');
	await archiveAs(owner, relay, ws);
	// Carol meets no one but the relay.
	for (const p of [owner, mallory]) {
		carol.gater.blocked.add(p.node.peerId.toString());
		await carol.node.hangUp(p.node.peerId);
	}
	await dialRelay(owner, relay);
	await dialRelay(carol, relay);

	const { space: S, nonce } = newSpaceId(ws.id, owner.peerId);
	await owner.authority.write({ t: 'space', space: S, nonce, kind: 'private', members: [owner.peerId, mallory.peerId] });
	const logLength = async (peer: TeamPeer = owner) => (await peer.mesh.wantSealed(ws.id, relayId, S, 0, 2000).catch(() => ({ envelopes: [] }))).envelopes.length;
	post(owner, S, 'm1 (first generation)');
	await waitUntil(async () => (await logLength()) >= 1, 'the relay keeps m1 sealed', 30_000);
	await owner.authority.write({ t: 'space-members', space: S, add: [], remove: [mallory.peerId] });
	await waitUntil(() => owner.authority.team.spaces.get(S)?.keyGenerations.size === 2, 'the space key is rotated');
	const [g1, g2] = [...owner.authority.team.spaces.get(S)!.keyGenerations.values()].sort((a, b) => a.seq - b.seq).map((g) => g.id) as [string, string];
	const before = await logLength();
	post(owner, S, 'm2 (second generation)');
	await waitUntil(async () => (await logLength()) > before, 'the relay keeps m2 sealed', 30_000);

	await owner.authority.write({ t: 'space-members', space: S, add: [carol.peerId], remove: [] });
	const keys = openSpaceKeys(owner.authority.team, owner.key, owner.peerId).get(S)!.keys;
	const scope = spaceKeyScope(ws.id, S);
	const seal = (gen: string) => owner.authority.write({ t: 'keys', gen, space: S, boxes: sealForDevices(keys.get(gen)!, [carol.peerId], scope, gen) });
	await seal(first === 'older' ? g1 : g2);
	// Carol reads the whole log (both envelopes) with one of the two keys.
	await waitUntil(async () => (await logLength(carol)) >= 2, 'the log carol reads holds both', 10_000);
	return { carol, S, sealOther: () => seal(first === 'older' ? g2 : g1) };
}

it('a member reads again what the relay keeps under a generation whose key reached it later', async () => {
	const { carol, S, sealOther } = await lateMemberOfTwoGenerations('older');
	await waitUntil(() => has(carol, S, 'm1 (first generation)'), 'carol reads m1 from the relay', 30_000);
	await new Promise((resolve) => setTimeout(resolve, 500));
	expect(has(carol, S, 'm2 (second generation)')).toBe(false); // she read past it without its key
	await sealOther();
	await waitUntil(() => has(carol, S, 'm2 (second generation)'), 'carol reads m2 once its key is hers', 30_000);
}, 120_000);

it('the newer generation first: what built on the older one is read again with it', async () => {
	const { carol, S, sealOther } = await lateMemberOfTwoGenerations('newer');
	await new Promise((resolve) => setTimeout(resolve, 1500));
	// m2 opened but builds on m1, which she could not open: nothing of either shows yet.
	expect(has(carol, S, 'm1 (first generation)') || has(carol, S, 'm2 (second generation)')).toBe(false);
	await sealOther();
	await waitUntil(() => has(carol, S, 'm1 (first generation)') && has(carol, S, 'm2 (second generation)'), 'carol reads both once the older key is hers', 30_000);
}, 120_000);
