import { beforeAll, describe, expect, it } from 'vitest';
import { newWorkspaceKey, sealKeyBox } from '../../../src/lib/doc/team/keyBox';
import { EnvelopeError, GossipKeyUnavailableError, KeyBoxRejectedError } from '../../../src/lib/mesh/errors';
import { openEnvelope, sealEnvelope } from '../../../src/lib/mesh/gossipEnvelope';
import { GossipKeyring, LEGACY_KEY_ID } from '../../../src/lib/mesh/keyring';
import { newSecret } from '../../../src/lib/mesh/secret';
import { deriveWorkspaceKeys, type WorkspaceKeys } from '../../../src/lib/mesh/workspaceKeys';
import { newId } from '../../../src/lib/doc/ids';
import { device, TestTeam, type Device } from './team';

let owner: Device;
let bob: Device;
let carol: Device;

beforeAll(async () => {
	[owner, bob, carol] = await Promise.all([device(), device(), device()]);
});

/** A team of owner and bob, the keys of its workspace, and a keyring per device. */
async function setup() {
	const team = await TestTeam.create(owner);
	await team.write(owner, { t: 'add', member: bob.id, role: 'member', name: 'Bob' });
	const secret = newSecret();
	const keys = await deriveWorkspaceKeys(team.ws, secret);
	const errors: Error[] = [];
	const ring = () => GossipKeyring.fromSecret(team.ws, secret, (e) => errors.push(e));
	const rings = { owner: await ring(), bob: await ring(), carol: await ring() };
	const withRing = (keyring: GossipKeyring): WorkspaceKeys => ({ ...keys, keyring });
	return { team, secret, keys, errors, rings, withRing };
}

const update = new Uint8Array([0, 0]);

describe('GossipKeyring', () => {
	it('falls back to the legacy key, under id "", while the team has no key generation', async () => {
		const { team, keys, rings, withRing } = await setup();
		await rings.owner.update(team.fold(), owner.key, owner.id);
		expect(rings.owner.current()).toEqual({ id: LEGACY_KEY_ID, key: expect.anything() });
		expect(rings.owner.currentId).toBe('');
		const docId = newId();
		// Sealed with the bare keys (no keyring), opened with the keyring, and back.
		const legacy = await sealEnvelope(keys, docId, update);
		expect(await openEnvelope(withRing(rings.owner), legacy)).toEqual({ docId, update });
		const sealed = await sealEnvelope(withRing(rings.owner), docId, update);
		expect(await openEnvelope(keys, sealed)).toEqual({ docId, update });
		expect(await openEnvelope(withRing(GossipKeyring.legacyOnly(keys)), sealed)).toEqual({ docId, update });
	});

	it('opens this device’s box of every generation and seals with the newest', async () => {
		const { team, errors, rings, withRing } = await setup();
		const a = await team.rotate(owner);
		await rings.owner.update(team.fold(), owner.key, owner.id);
		await rings.bob.update(team.fold(), bob.key, bob.id);
		expect(rings.owner.current().id).toBe(a);
		expect(rings.bob.current().id).toBe(a);
		const docId = newId();
		const sealed = await sealEnvelope(withRing(rings.owner), docId, update);
		expect(await openEnvelope(withRing(rings.bob), sealed)).toEqual({ docId, update });

		const b = await team.rotate(owner);
		await rings.owner.update(team.fold(), owner.key, owner.id);
		expect(rings.owner.current().id).toBe(b);
		expect(rings.owner.has(a) && rings.owner.has(b)).toBe(true);
		// An envelope sealed just before the rotation still opens.
		expect(await openEnvelope(withRing(rings.owner), sealed)).toEqual({ docId, update });
		expect(errors).toEqual([]);
	});

	it('keeps a member removed before a rotation out of the new generation', async () => {
		const { team, keys, rings, withRing } = await setup();
		await team.rotate(owner);
		await rings.bob.update(team.fold(), bob.key, bob.id);
		await team.write(owner, { t: 'remove', member: bob.id });
		const b = await team.rotate(owner);
		await rings.owner.update(team.fold(), owner.key, owner.id);
		// Bob sees every operation, but no box of B is his.
		await rings.bob.update(team.fold(), bob.key, bob.id);
		expect(rings.bob.get(b)).toBeUndefined();
		expect(() => rings.bob.current()).toThrow(GossipKeyUnavailableError);

		const sealed = await sealEnvelope(withRing(rings.owner), newId(), update);
		await expect(openEnvelope(withRing(rings.bob), sealed)).rejects.toThrow(EnvelopeError);
		// Nor does the secret help: the legacy key is refused once the team has a generation.
		await expect(openEnvelope(keys, sealed)).rejects.toThrow(EnvelopeError);
		await expect(openEnvelope(withRing(rings.owner), await sealEnvelope(keys, newId(), update))).rejects.toThrow(/legacy key/);
	});

	it('cannot seal for a device admitted after the rotation until a holder seals the key to it', async () => {
		const { team, rings, withRing } = await setup();
		expect(rings.owner.sealCurrentTo([carol.id])).toBeUndefined();
		const a = await team.rotate(owner);
		await team.write(owner, { t: 'add', member: carol.id, role: 'member', name: 'Carol' });
		await rings.carol.update(team.fold(), carol.key, carol.id);
		expect(() => rings.carol.current()).toThrow(GossipKeyUnavailableError);
		expect(rings.carol.get('')).toBeUndefined();

		// The owner, who holds A, seals A's key to Carol (fold.ts: a holder adds boxes to its generation).
		await rings.owner.update(team.fold(), owner.key, owner.id);
		const body = rings.owner.sealCurrentTo([carol.id])!;
		expect(body.gen).toBe(a);
		await team.write(owner, body);
		await rings.carol.update(team.fold(), carol.key, carol.id);
		expect(rings.carol.current().id).toBe(a);
		const docId = newId();
		const sealed = await sealEnvelope(withRing(rings.owner), docId, update);
		expect(await openEnvelope(withRing(rings.carol), sealed)).toEqual({ docId, update });
	});

	it('reports a box that does not open, once, and goes on', async () => {
		const { team, errors, rings } = await setup();
		const gen = newId();
		// Bob's slot holds a box sealed to Carol: it does not open for Bob.
		await team.write(owner, {
			t: 'keys',
			gen,
			boxes: { [owner.id]: sealKeyBox(newWorkspaceKey(), owner.id, team.ws, gen), [bob.id]: sealKeyBox(newWorkspaceKey(), carol.id, team.ws, gen) }
		});
		await rings.bob.update(team.fold(), bob.key, bob.id);
		await rings.bob.update(team.fold(), bob.key, bob.id);
		expect(errors).toHaveLength(1);
		expect(errors[0]).toBeInstanceOf(KeyBoxRejectedError);
		expect(errors[0]).toMatchObject({ generation: gen });
		expect(() => rings.bob.current()).toThrow(GossipKeyUnavailableError);
	});

	it('does not use a box of another key than the generation’s, and opens the box an admin puts in its place', async () => {
		const { team, errors, rings, withRing } = await setup();
		const a = await team.rotate(owner);
		await team.write(owner, { t: 'add', member: carol.id, role: 'member', name: 'Carol' });
		// Bob, a member holding A, seals Carol some other key (sealed right, to Carol, for A) before anyone else does.
		await rings.bob.update(team.fold(), bob.key, bob.id);
		await team.write(bob, { t: 'keys', gen: a, boxes: { [carol.id]: sealKeyBox(newWorkspaceKey(), carol.id, team.ws, a) } });
		await rings.carol.update(team.fold(), carol.key, carol.id);
		await rings.carol.update(team.fold(), carol.key, carol.id);
		expect(rings.carol.has(a)).toBe(false);
		expect(() => rings.carol.current()).toThrow(GossipKeyUnavailableError);
		expect(errors).toHaveLength(1); // reported once
		expect(errors[0]).toMatchObject({ generation: a });
		expect(errors[0]!.message).toMatch(/check does not match/);

		// The owner (an admin) seals A to her: the fold puts it in place of Bob's, and Carol's keyring opens it.
		await rings.owner.update(team.fold(), owner.key, owner.id);
		await team.write(owner, rings.owner.sealCurrentTo([carol.id])!);
		await rings.carol.update(team.fold(), carol.key, carol.id);
		expect(rings.carol.current().id).toBe(a);
		const docId = newId();
		expect(await openEnvelope(withRing(rings.carol), await sealEnvelope(withRing(rings.owner), docId, update))).toEqual({ docId, update });
	});

	it('refuses the team of another workspace', async () => {
		const { rings } = await setup();
		const other = await TestTeam.create(owner);
		await expect(rings.owner.update(other.fold(), owner.key, owner.id)).rejects.toThrow(TypeError);
	});
});
