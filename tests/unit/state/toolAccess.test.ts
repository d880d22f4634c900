/**
 * The team's tool-access rule as the UI state writes and reads it (TeamState): an admin's
 * rule, written as a signed operation through the TeamAuthority, folds on every replica and
 * replaces the default (owner, admin, member); a member's own rule is refused by the fold
 * and changes nothing, on its own replica or anyone else's.
 */
import 'fake-indexeddb/auto';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { TeamAuthority } from '../../../src/lib/core/TeamAuthority.js';
import { newId } from '../../../src/lib/doc/ids.js';
import { signTeamOp } from '../../../src/lib/doc/team/sign.js';
import { newTeamNonce, teamWorkspaceId } from '../../../src/lib/doc/team/teamId.js';
import { roleMayUseTool } from '../../../src/lib/doc/team/toolAccess.js';
import { TeamState } from '../../../src/lib/state/TeamState.svelte.js';
import { OutpostDb } from '../../../src/lib/store/db.js';

async function device() {
	const privateKey = await generateKeyPair('Ed25519');
	return { privateKey, peerId: peerIdFromPrivateKey(privateKey).toString() };
}

/** A team (owner, an admin, a member) in one roster document, each with its own authority and UI state. */
async function team() {
	const [owner, ada, bob] = [await device(), await device(), await device()];
	const nonce = newTeamNonce();
	const ws = teamWorkspaceId(owner.peerId, nonce);
	const doc = new Y.Doc();
	const db = new OutpostDb(`outpost-tool-access-${newId()}`);
	const authority = (d: typeof owner) => new TeamAuthority({ workspaceId: ws, doc, device: d });
	const own = authority(owner);
	await own.add(await signTeamOp(owner.privateKey, owner.peerId, { ws, prev: [], at: Date.now() }, { t: 'create', nonce, name: 'owner' }));
	await own.write({ t: 'add', member: ada.peerId, role: 'admin', name: 'ada' });
	await own.write({ t: 'add', member: bob.peerId, role: 'member', name: 'bob' });
	const state = async (d: typeof owner) => {
		const a = authority(d);
		await a.ready;
		return new TeamState(a, db);
	};
	return { owner: new TeamState(own, db), ada: await state(ada), bob: await state(bob) };
}

const TOOL = 'files.write';

describe('tool access in the UI state', () => {
	it("writes an admin's rule as a signed operation that every replica folds in place of the default", async () => {
		const { owner, ada, bob } = await team();
		expect([...bob.toolRoles(TOOL)]).toEqual(['owner', 'admin', 'member']);
		expect(bob.ruledTools).toEqual([]);

		expect(ada.canManage).toBe(true);
		await ada.setToolAccess(TOOL, ['owner', 'admin', 'guest']);
		await Promise.all([owner.authority.settled(), bob.authority.settled()]);
		for (const t of [owner, ada, bob]) {
			expect([...t.toolRoles(TOOL)]).toEqual(['owner', 'admin', 'guest']);
			expect(t.ruledTools).toEqual([TOOL]);
		}
		expect(roleMayUseTool(bob.authority.team, bob.myRole, TOOL)).toBe(false);
		expect(roleMayUseTool(bob.authority.team, ada.myRole, TOOL)).toBe(true);
		const op = [...owner.authority.operations()].find((o) => o.payload.t === 'tool-access');
		expect(op?.payload).toMatchObject({ t: 'tool-access', tool: TOOL, roles: ['owner', 'admin', 'guest'], by: ada.me });
		// Other tools keep the default.
		expect([...bob.toolRoles('files.read')]).toEqual(['owner', 'admin', 'member']);

		// A later rule replaces the earlier one.
		await owner.setToolAccess(TOOL, ['owner', 'admin', 'member']);
		await bob.authority.settled();
		expect(roleMayUseTool(bob.authority.team, bob.myRole, TOOL)).toBe(true);
		expect([...bob.toolRoles(TOOL)]).toEqual(['owner', 'admin', 'member']);
	});

	it("refuses a member's own rule (the fold's reason) and changes nothing on any replica", async () => {
		const { owner, bob } = await team();
		await owner.setToolAccess(TOOL, ['owner']);
		await bob.authority.settled();
		await expect(bob.setToolAccess(TOOL, ['owner', 'admin', 'member'])).rejects.toMatchObject({
			name: 'TeamRefusedError',
			reason: 'only admins set tool access'
		});
		await expect(bob.setToolAccess('other.tool', ['guest'])).rejects.toMatchObject({ name: 'TeamRefusedError' });
		await owner.authority.settled();
		for (const t of [owner, bob]) {
			expect([...t.toolRoles(TOOL)]).toEqual(['owner']);
			expect(t.ruledTools).toEqual([TOOL]);
			expect([...t.toolRoles('other.tool')]).toEqual(['owner', 'admin', 'member']);
		}
	});
});
