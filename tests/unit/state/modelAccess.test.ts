/**
 * What the UI offers from the team's model-access rule (TeamState, ModelsState): an admin's
 * rule, written as a signed operation through the TeamAuthority, takes a model out of a
 * member's picker (models in the member's own browser stay); a member's own rule is refused
 * by the fold and changes nothing; a guest is offered no shared model by default.
 */
import 'fake-indexeddb/auto';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import type { Engine } from '../../../src/lib/ai/engine.js';
import { TeamAuthority } from '../../../src/lib/core/TeamAuthority.js';
import { newId } from '../../../src/lib/doc/ids.js';
import type { TeamRole } from '../../../src/lib/doc/team/ops.js';
import { signTeamOp } from '../../../src/lib/doc/team/sign.js';
import { newSpaceId, newTeamNonce, teamWorkspaceId } from '../../../src/lib/doc/team/teamId.js';
import { ModelsState, type ModelOffer } from '../../../src/lib/state/ModelsState.svelte.js';
import { TeamState } from '../../../src/lib/state/TeamState.svelte.js';
import { OutpostDb } from '../../../src/lib/store/db.js';

async function device() {
	const privateKey = await generateKeyPair('Ed25519');
	return { privateKey, peerId: peerIdFromPrivateKey(privateKey).toString() };
}

/** A team (owner, a member, a guest) in one roster document, each with its own authority and UI state. */
async function team() {
	const [owner, bob, gus] = [await device(), await device(), await device()];
	const nonce = newTeamNonce();
	const ws = teamWorkspaceId(owner.peerId, nonce);
	const doc = new Y.Doc();
	const db = new OutpostDb(`outpost-model-access-${newId()}`);
	const authority = (d: typeof owner) => new TeamAuthority({ workspaceId: ws, doc, device: d });
	const own = authority(owner);
	await own.add(await signTeamOp(owner.privateKey, owner.peerId, { ws, prev: [], at: Date.now() }, { t: 'create', nonce, name: 'owner' }));
	await own.write({ t: 'add', member: bob.peerId, role: 'member', name: 'bob' });
	await own.write({ t: 'add', member: gus.peerId, role: 'guest', name: 'gus' });
	const state = async (d: typeof owner) => {
		const a = authority(d);
		await a.ready;
		return new TeamState(a, db);
	};
	return { owner: new TeamState(own, db), bob: await state(bob), gus: await state(gus), ws, peers: { owner, bob, gus } };
}

const engine: Engine = { kind: 'mesh', models: async () => [], generate: () => (async function* () {})() };
const offer = (model: string, local: boolean): ModelOffer => ({
	key: `${local ? 'me' : 'peer'}/${model}`,
	model,
	engine,
	servedBy: local ? 'me' : 'peer',
	info: { id: model, name: model, engine: 'mesh', contextLength: 512 },
	local
});
const offered = (models: ModelsState, t: TeamState) => models.usableChoices((m) => t.mayUseModel(m)).map((c) => c.key);

describe('model access in the UI state', () => {
	it("takes a model an admin restricted out of a member's choices (its own browser's model stays); lifting the rule brings it back", async () => {
		const { owner, bob } = await team();
		const models = new ModelsState();
		models.setRemote([offer('big', false), offer('small', false)]);
		await models.addEngine({ ...engine, models: async () => [offer('big', true).info] }, 'me', true);
		expect(offered(models, bob)).toEqual(['peer/big', 'peer/small', 'me/big']);

		expect(owner.canManage).toBe(true);
		await owner.setModelRoles('big', ['owner', 'admin']);
		await bob.authority.settled();
		expect([...bob.modelRoles('big')]).toEqual(['owner', 'admin']);
		expect(bob.mayUseModel('big')).toBe(false);
		expect(owner.mayUseModel('big')).toBe(true);
		expect(offered(models, bob)).toEqual(['peer/small', 'me/big']);
		expect(bob.ruledModels).toEqual(['big']);

		await owner.setModelRoles('big', ['owner', 'admin', 'member']);
		await bob.authority.settled();
		expect(offered(models, bob)).toEqual(['peer/big', 'peer/small', 'me/big']);
	});

	it("refuses a member's own rule (the fold's reason) and offers a guest no shared model by default", async () => {
		const { owner, bob, gus } = await team();
		await expect(bob.setModelRoles('big', ['member', 'guest'] as TeamRole[])).rejects.toMatchObject({
			name: 'TeamRefusedError',
			reason: 'only admins set model access'
		});
		await owner.authority.settled();
		expect(owner.ruledModels).toEqual([]);
		const models = new ModelsState();
		models.setRemote([offer('big', false)]);
		expect(offered(models, gus)).toEqual([]);
		await owner.setModelRoles('big', ['owner', 'guest']);
		await gus.authority.settled();
		expect(offered(models, gus)).toEqual(['peer/big']);
		expect(offered(models, bob)).toEqual([]);
	});

	it('in a private space, only a host whose device is in it hears what is asked there; elsewhere any member host does', async () => {
		const { owner, bob, ws, peers } = await team();
		const { space, nonce } = newSpaceId(ws, peers.owner.peerId);
		await owner.authority.write({ t: 'space', space, nonce, kind: 'dm', members: [peers.owner.peerId, peers.gus.peerId] });
		await bob.authority.settled();
		const open = newId();
		for (const t of [owner, bob]) {
			expect(t.mayRead(peers.bob.peerId, open)).toBe(true);
			expect(t.mayRead(peers.gus.peerId, space)).toBe(true);
			expect(t.mayRead(peers.bob.peerId, space)).toBe(false); // Bob's host is not in the conversation
			expect(t.mayRead('12D3KooWnotAMemberOfThisTeamAtAll', space)).toBe(false); // nor a stranger (or a relay outside it)
		}
	});
});
