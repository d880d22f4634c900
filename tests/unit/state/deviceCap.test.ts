/**
 * "Add a device" at the most devices one member may have (ops.ts MAX_DEVICES_PER_MEMBER): the
 * app says so before it writes an invitation the fold would refuse (and keep in the roster).
 * Real team operations, signed and folded by a TeamAuthority over one roster document.
 */
import 'fake-indexeddb/auto';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { TeamAuthority } from '../../../src/lib/core/TeamAuthority.js';
import { newId } from '../../../src/lib/doc/ids.js';
import { MAX_DEVICES_PER_MEMBER } from '../../../src/lib/doc/team/ops.js';
import { admitProof, signTeamOp } from '../../../src/lib/doc/team/sign.js';
import { newTeamNonce, teamWorkspaceId } from '../../../src/lib/doc/team/teamId.js';
import { TeamState } from '../../../src/lib/state/TeamState.svelte.js';
import { OutpostDb } from '../../../src/lib/store/db.js';
import { reasonKey } from '../../../src/lib/ui/team/errorText.js';

async function device() {
	const privateKey = await generateKeyPair('Ed25519');
	return { privateKey, peerId: peerIdFromPrivateKey(privateKey).toString() };
}

describe('Add a device, at the most devices one member may have', () => {
	it('refuses with a translated reason and writes nothing; after a device is removed, it makes the link again', async () => {
		const owner = await device();
		const nonce = newTeamNonce();
		const ws = teamWorkspaceId(owner.peerId, nonce);
		const doc = new Y.Doc();
		const own = new TeamAuthority({ workspaceId: ws, doc, device: owner });
		await own.add(await signTeamOp(owner.privateKey, owner.peerId, { ws, prev: [], at: Date.now() }, { t: 'create', nonce, name: 'owner' }));
		const team = new TeamState(own, new OutpostDb(`outpost-device-cap-${newId()}`));

		const added: string[] = [];
		for (let i = 1; i < MAX_DEVICES_PER_MEMBER; i++) {
			const token = await team.createDeviceInvite();
			const next = await device();
			const joiner = new TeamAuthority({ workspaceId: ws, doc, device: next });
			await joiner.ready;
			await joiner.writeAfter([token.opId], { t: 'admit', invite: token.id, proof: admitProof(token.seed, ws, token.id, next.peerId), name: 'owner' });
			await own.settled();
			added.push(next.peerId);
		}
		expect(own.memberOf(owner.peerId)?.devices).toHaveLength(MAX_DEVICES_PER_MEMBER);

		const before = own.operations().length;
		const refused = await team.createDeviceInvite().then(
			() => undefined,
			(error: unknown) => error
		);
		expect(reasonKey(refused)).toBe('team.reason.tooManyDevices');
		expect(own.operations()).toHaveLength(before);

		await team.removeDevice(added[0]!);
		expect(own.memberOf(owner.peerId)?.devices).toHaveLength(MAX_DEVICES_PER_MEMBER - 1);
		expect((await team.createDeviceInvite()).id).toMatch(/\S/);
	}, 60_000);
});
