/**
 * Gossip envelopes: round trip; tampering, another workspace's key and garbage give
 * EnvelopeError; the key generation an envelope names decides which keyrings open it.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { newId } from '../../../src/lib/doc/ids';
import { EnvelopeError } from '../../../src/lib/mesh/errors';
import { openEnvelope, sealEnvelope } from '../../../src/lib/mesh/gossipEnvelope';
import { GossipKeyring } from '../../../src/lib/mesh/keyring';
import { newSecret } from '../../../src/lib/mesh/secret';
import { deriveWorkspaceKeys } from '../../../src/lib/mesh/workspaceKeys';
import { mulberry32 } from '../../fixtures/random';
import { device, TestTeam } from './team';

async function update(): Promise<Uint8Array> {
	const doc = new Y.Doc();
	doc.getText('t').insert(0, 'a live update');
	return Y.encodeStateAsUpdate(doc);
}

describe('gossip envelope', () => {
	it('round-trips, with a fresh IV each time and neither id nor content in clear', async () => {
		const keys = await deriveWorkspaceKeys(newId(), newSecret());
		const docId = newId();
		const u = await update();
		const a = await sealEnvelope(keys, docId, u);
		const b = await sealEnvelope(keys, docId, u);
		expect(a).not.toEqual(b);
		expect(await openEnvelope(keys, a)).toEqual({ docId, update: u });
		const clear = Buffer.from(a);
		for (const needle of [docId, keys.workspaceId, 'a live update']) expect(clear.includes(Buffer.from(needle))).toBe(false);
	});

	it('rejects every tampered byte, truncation and garbage with EnvelopeError', async () => {
		const keys = await deriveWorkspaceKeys(newId(), newSecret());
		const sealed = await sealEnvelope(keys, newId(), await update());
		for (let i = 0; i < sealed.length; i++) {
			const bad = sealed.slice();
			bad[i] ^= 0x01;
			await expect(openEnvelope(keys, bad)).rejects.toThrow(EnvelopeError);
		}
		for (let n = 0; n < sealed.length; n++) await expect(openEnvelope(keys, sealed.slice(0, n))).rejects.toThrow(EnvelopeError);
		const random = mulberry32(9);
		for (let i = 0; i < 200; i++) {
			const garbage = Uint8Array.from({ length: Math.floor(random() * 100) }, () => Math.floor(random() * 256));
			await expect(openEnvelope(keys, garbage)).rejects.toThrow(EnvelopeError);
		}
		await expect(openEnvelope(keys, new Uint8Array(2 * 1024 * 1024))).rejects.toThrow(EnvelopeError);
	});

	it('does not open with another secret or in another workspace', async () => {
		const id = newId();
		const secret = newSecret();
		const keys = await deriveWorkspaceKeys(id, secret);
		const sealed = await sealEnvelope(keys, newId(), await update());
		await expect(openEnvelope(await deriveWorkspaceKeys(id, newSecret()), sealed)).rejects.toThrow(EnvelopeError);
		// same gossip key, other workspace id as associated data
		await expect(openEnvelope({ ...keys, workspaceId: newId() }, sealed)).rejects.toThrow(EnvelopeError);
	});
});

describe('gossip envelope key generations', () => {
	/** Owner and Bob share generation A; Bob is removed and the owner rotates to B. */
	async function rotated() {
		const [owner, bob] = await Promise.all([device(), device()]);
		const team = await TestTeam.create(owner);
		await team.write(owner, { t: 'add', member: bob.id, role: 'member', name: 'Bob' });
		const secret = newSecret();
		const keys = await deriveWorkspaceKeys(team.ws, secret);
		const a = await team.rotate(owner);
		const bobRing = await GossipKeyring.fromSecret(team.ws, secret);
		await bobRing.update(team.fold(), bob.key, bob.id);
		await team.write(owner, { t: 'remove', member: bob.id });
		const b = await team.rotate(owner);
		const ownerRing = await GossipKeyring.fromSecret(team.ws, secret);
		await ownerRing.update(team.fold(), owner.key, owner.id);
		return { owner, bob, team, keys, a, b, ownerRing, bobRing };
	}

	it('names the generation in clear, and opens only with a keyring holding it', async () => {
		const { owner, team, keys, a, b, ownerRing, bobRing } = await rotated();
		const docId = newId();
		const u = await update();
		const sealed = await sealEnvelope({ ...keys, keyring: ownerRing }, docId, u);
		// kind 1, then the key id as a varstring
		expect(sealed[0]).toBe(1);
		expect(sealed[1]).toBe(26);
		expect(Buffer.from(sealed.subarray(2, 28)).toString()).toBe(b);
		// Bob, removed before B, holds only A: his view does not open it.
		expect(bobRing.current().id).toBe(a);
		await expect(openEnvelope({ ...keys, keyring: bobRing }, sealed)).rejects.toThrow(/does not hold/);
		// What Bob seals under A still opens for the owner (in flight across the rotation).
		const old = await sealEnvelope({ ...keys, keyring: bobRing }, docId, u);
		expect(await openEnvelope({ ...keys, keyring: ownerRing }, old)).toEqual({ docId, update: u });
		// A keyring that gets B (another of the owner's views, before and after the team arrives) opens it.
		const later = await GossipKeyring.fromSecret(team.ws, newSecret());
		await expect(openEnvelope({ ...keys, keyring: later }, sealed)).rejects.toThrow(EnvelopeError);
		await later.update(team.fold(), owner.key, owner.id);
		expect(await openEnvelope({ ...keys, keyring: later }, sealed)).toEqual({ docId, update: u });
	});

	it('authenticates the key id: rewriting it to another held generation does not open', async () => {
		const { keys, a, ownerRing } = await rotated();
		const sealed = await sealEnvelope({ ...keys, keyring: ownerRing }, newId(), await update());
		const rewritten = sealed.slice();
		rewritten.set(Buffer.from(a), 2);
		expect(ownerRing.get(a)).toBeDefined();
		await expect(openEnvelope({ ...keys, keyring: ownerRing }, rewritten)).rejects.toThrow(/does not open/);
	});

	it('refuses the legacy key once the team has a generation, and unknown or malformed key ids', async () => {
		const { keys, ownerRing } = await rotated();
		const u = await update();
		const legacy = await sealEnvelope(keys, newId(), u);
		expect(legacy[1]).toBe(0);
		await expect(openEnvelope({ ...keys, keyring: ownerRing }, legacy)).rejects.toThrow(/legacy key/);
		const sealed = await sealEnvelope({ ...keys, keyring: ownerRing }, newId(), u);
		const unknown = sealed.slice();
		unknown.set(Buffer.from(newId()), 2);
		await expect(openEnvelope({ ...keys, keyring: ownerRing }, unknown)).rejects.toThrow(/does not hold/);
		const malformed = sealed.slice();
		malformed[2] = 'A'.charCodeAt(0);
		await expect(openEnvelope({ ...keys, keyring: ownerRing }, malformed)).rejects.toThrow(EnvelopeError);
	});
});
