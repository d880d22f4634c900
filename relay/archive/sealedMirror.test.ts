/**
 * A device's mirror of a relay's sealed log counts nothing a sealed update leaves pending
 * (found in review: a member of a private space sealed a range of the owner's client one clock
 * past what exists; the mirror held it pending, and once the owner's next message was stored
 * it integrated, so the mirror counted a million clocks of the owner's client as stored and no
 * device stored the owner's later messages on the relay again: Carol, who meets only the
 * relay, never got them). Real libp2p nodes and the real relay.
 */
import '../../src/lib/mesh/polyfills.node.ts';
import { afterEach, expect, it } from 'vitest';
import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';
import { openSpaceKeys } from '../../src/lib/core/spaceKeys.ts';
import { sealSpaceUpdate } from '../../src/lib/core/spaceSeal.ts';
import { newSpaceId } from '../../src/lib/doc/team/teamId.ts';
import { connect, stopPeers } from '../../tests/mesh/peers.ts';
import { createTeamWorkspace, has, invite, newKey, post, startJoiner, stopTeamPeers } from '../../tests/mesh/teamPeers.ts';
import { archiveAs, dialRelay, startTestRelay, waitUntil, type TestRelay } from '../teamFixture.ts';

const relays: TestRelay[] = [];
afterEach(async () => {
	await stopTeamPeers();
	await stopPeers();
	for (const r of relays.splice(0)) await r.stop();
}, 20_000);

/** A V1 update of one GC range of `client` from `clock`, `length` long, no deletions. */
function gcRange(client: number, clock: number, length: number): Uint8Array {
	const e = encoding.createEncoder();
	encoding.writeVarUint(e, 1); // one client
	encoding.writeVarUint(e, 1); // one struct
	encoding.writeVarUint(e, client);
	encoding.writeVarUint(e, clock);
	encoding.writeUint8(e, 0); // GC
	encoding.writeVarUint(e, length);
	encoding.writeVarUint(e, 0); // empty delete set
	return encoding.toUint8Array(e);
}

async function scenario(attack: boolean): Promise<boolean> {
	const test = await startTestRelay('mirror-poison');
	relays.push(test);
	const { relay } = test;
	const relayId = relay.node.peerId.toString();
	const { ws, owner } = await createTeamWorkspace((await newKey()).key);
	const [mallory, carol] = [
		await startJoiner(ws, (await newKey()).key, 'mallory', await invite(owner, 'member')),
		await startJoiner(ws, (await newKey()).key, 'carol', await invite(owner, 'member'))
	];
	for (const p of [mallory, carol]) await connect(p, owner);
	await waitUntil(() => [mallory, carol].every((p) => owner.authority.isMember(p.peerId) && p.authority.joined), 'two admitted');
	await archiveAs(owner, relay, ws);
	carol.gater.blocked.add(owner.node.peerId.toString());
	carol.gater.blocked.add(mallory.node.peerId.toString());
	await carol.node.hangUp(owner.node.peerId);
	await carol.node.hangUp(mallory.node.peerId);
	await dialRelay(owner, relay);
	await dialRelay(mallory, relay);
	await dialRelay(carol, relay);

	const { space: S, nonce } = newSpaceId(ws.id, owner.peerId);
	await owner.authority.write({ t: 'space', space: S, nonce, kind: 'private', members: [owner.peerId, mallory.peerId, carol.peerId] });
	const current = () => owner.authority.team.spaces.get(S)?.currentKey;
	await waitUntil(() => {
		const gen = current() === undefined ? undefined : mallory.authority.team.spaces.get(S)?.keyGenerations.get(current()!);
		return gen !== undefined && gen.boxes.has(mallory.peerId) && gen.boxes.has(carol.peerId);
	}, 'the space key reaches mallory and carol', 20_000);

	// Carol reads the relay's log when her sessions change (she meets no one else): a reconnect.
	const reread = async (value: string, tries: number): Promise<boolean> => {
		for (let i = 0; i < tries && !has(carol, S, value); i++) {
			await new Promise((r) => setTimeout(r, 1500));
			await carol.node.hangUp(relay.node.peerId);
			await dialRelay(carol, relay);
			await new Promise((r) => setTimeout(r, 2500));
		}
		return has(carol, S, value);
	};
	post(owner, S, 'm1');
	expect(await reread('m1', 6), 'm1 reaches carol').toBe(true);
	await waitUntil(() => has(mallory, S, 'm1'), 'm1 reaches mallory', 30_000);

	// Mallory (a modified client) seals a GC range of the owner's client one clock past its end.
	const ownerDoc = owner.docs.get(S) as Y.Doc;
	const X = ownerDoc.clientID;
	const c = Y.getState((mallory.docs.docs.get(S) as Y.Doc).store, X);
	expect(c).toBeGreaterThan(0);
	const mine = openSpaceKeys(mallory.authority.team, mallory.key, mallory.peerId).get(S)!;
	const envelope = sealSpaceUpdate(mine.keys.get(mine.current!)!, mine.current!, S, gcRange(X, c + 1, 1_000_000));
	if (attack) expect(mallory.mesh.putSealed(ws.id, relayId, S, [envelope])).toBe(true);
	// A session coming and going makes the owner read the relay's log again.
	await mallory.node.hangUp(owner.node.peerId);
	await new Promise((r) => setTimeout(r, 500));
	await connect(mallory, owner);
	await new Promise((r) => setTimeout(r, 3000));

	post(owner, S, 'm2');
	expect(await reread('m2', 5), 'm2 reaches carol').toBe(true);
	post(owner, S, 'm3');
	const got = await reread('m3', 4);
	return got;
}

it('a space member cannot keep an honest member\'s later messages off the relay', async () => {
	expect(await scenario(true), 'the owner\'s m3 never reaches the relay: its mirror says the relay holds it').toBe(true);
}, 120_000);
