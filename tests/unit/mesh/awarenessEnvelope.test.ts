/**
 * Awareness envelopes: round trip; domain separation from document update envelopes (neither
 * kind opens as the other, even with the kind varuint rewritten); tampering, another key,
 * garbage and oversized envelopes give EnvelopeError; received awareness updates are decoded
 * completely before y-protocols sees them.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { Awareness, encodeAwarenessUpdate } from 'y-protocols/awareness';
import { newId } from '../../../src/lib/doc/ids';
import { checkAwarenessUpdate } from '../../../src/lib/mesh/awareness';
import { MAX_AWARENESS_ENVELOPE_BYTES } from '../../../src/lib/mesh/constants';
import { AwarenessRejectedError, EnvelopeError } from '../../../src/lib/mesh/errors';
import {
	EnvelopeKind,
	envelopeKind,
	openAdvertEnvelope,
	openAwarenessEnvelope,
	openEnvelope,
	sealAdvertEnvelope,
	sealAwarenessEnvelope,
	sealEnvelope
} from '../../../src/lib/mesh/gossipEnvelope';
import { GossipKeyring } from '../../../src/lib/mesh/keyring';
import { newSecret } from '../../../src/lib/mesh/secret';
import { deriveWorkspaceKeys } from '../../../src/lib/mesh/workspaceKeys';
import { mulberry32 } from '../../fixtures/random';
import { device, TestTeam } from './team';

function presence(state: Record<string, unknown>): { awareness: Awareness; update: Uint8Array } {
	const awareness = new Awareness(new Y.Doc());
	awareness.setLocalState(state);
	const update = encodeAwarenessUpdate(awareness, [awareness.clientID]);
	awareness.destroy();
	return { awareness, update };
}

describe('awareness envelope', () => {
	it('round-trips with its own kind, a fresh IV each time and nothing in clear', async () => {
		const keys = await deriveWorkspaceKeys(newId(), newSecret());
		const { update } = presence({ name: 'Ada', typing: newId() });
		const a = await sealAwarenessEnvelope(keys, update);
		const b = await sealAwarenessEnvelope(keys, update);
		expect(a).not.toEqual(b);
		expect(envelopeKind(a)).toBe(EnvelopeKind.awareness);
		expect(envelopeKind(await sealEnvelope(keys, newId(), new Uint8Array([0, 0])))).toBe(EnvelopeKind.update);
		expect(await openAwarenessEnvelope(keys, a)).toEqual(update);
		const clear = Buffer.from(a);
		for (const needle of [keys.workspaceId, 'Ada']) expect(clear.includes(Buffer.from(needle))).toBe(false);
	});

	it('never opens as a document update, nor a document update as awareness', async () => {
		const keys = await deriveWorkspaceKeys(newId(), newSecret());
		const docId = newId();
		const aware = await sealAwarenessEnvelope(keys, presence({ name: 'Ada' }).update);
		const doc = await sealEnvelope(keys, docId, new Uint8Array([0, 0]));
		await expect(openEnvelope(keys, aware)).rejects.toThrow(EnvelopeError);
		await expect(openAwarenessEnvelope(keys, doc)).rejects.toThrow(EnvelopeError);
		// Rewriting the kind does not help: the associated data's label differs.
		const relabelled = aware.slice();
		relabelled[0] = EnvelopeKind.update;
		await expect(openEnvelope(keys, relabelled)).rejects.toThrow(/does not open/);
		const relabelledDoc = doc.slice();
		relabelledDoc[0] = EnvelopeKind.awareness;
		await expect(openAwarenessEnvelope(keys, relabelledDoc)).rejects.toThrow(/does not open/);
	});

	it('rejects tampering, truncation, another key or workspace, garbage and oversize with EnvelopeError', async () => {
		const id = newId();
		const keys = await deriveWorkspaceKeys(id, newSecret());
		const sealed = await sealAwarenessEnvelope(keys, presence({ name: 'Ada' }).update);
		for (let i = 0; i < sealed.length; i++) {
			const bad = sealed.slice();
			bad[i] ^= 0x01;
			await expect(openAwarenessEnvelope(keys, bad)).rejects.toThrow(EnvelopeError);
		}
		for (let n = 0; n < sealed.length; n++) {
			await expect(openAwarenessEnvelope(keys, sealed.slice(0, n))).rejects.toThrow(EnvelopeError);
		}
		await expect(openAwarenessEnvelope(await deriveWorkspaceKeys(id, newSecret()), sealed)).rejects.toThrow(EnvelopeError);
		await expect(openAwarenessEnvelope({ ...keys, workspaceId: newId() }, sealed)).rejects.toThrow(EnvelopeError);
		const random = mulberry32(11);
		for (let i = 0; i < 200; i++) {
			const garbage = Uint8Array.from({ length: Math.floor(random() * 100) }, () => Math.floor(random() * 256));
			if (i % 2 === 0 && garbage.length > 0) garbage[0] = EnvelopeKind.awareness;
			await expect(openAwarenessEnvelope(keys, garbage)).rejects.toThrow(EnvelopeError);
		}
		// Over the limit: refused before decryption, even when sealed with the right key.
		const big = await sealAwarenessEnvelope(keys, new Uint8Array(MAX_AWARENESS_ENVELOPE_BYTES));
		await expect(openAwarenessEnvelope(keys, big)).rejects.toThrow(/exceeds/);
		await expect(openAwarenessEnvelope(keys, new Uint8Array(MAX_AWARENESS_ENVELOPE_BYTES + 1))).rejects.toThrow(EnvelopeError);
	});
});

describe('awareness and advert envelopes under key generations', () => {
	it('open only with a keyring holding the generation they name', async () => {
		const [owner, bob] = await Promise.all([device(), device()]);
		const team = await TestTeam.create(owner);
		await team.write(owner, { t: 'add', member: bob.id, role: 'member', name: 'Bob' });
		const secret = newSecret();
		const keys = await deriveWorkspaceKeys(team.ws, secret);
		await team.rotate(owner);
		const bobRing = await GossipKeyring.fromSecret(team.ws, secret);
		await bobRing.update(team.fold(), bob.key, bob.id);
		await team.write(owner, { t: 'remove', member: bob.id });
		await team.rotate(owner);
		const ownerRing = await GossipKeyring.fromSecret(team.ws, secret);
		await ownerRing.update(team.fold(), owner.key, owner.id);
		const { update } = presence({ name: 'Ada' });
		const owners = { ...keys, keyring: ownerRing };
		const bobs = { ...keys, keyring: bobRing };
		expect(await openAwarenessEnvelope(owners, await sealAwarenessEnvelope(owners, update))).toEqual(update);
		await expect(openAwarenessEnvelope(bobs, await sealAwarenessEnvelope(owners, update))).rejects.toThrow(EnvelopeError);
		await expect(openAwarenessEnvelope(keys, await sealAwarenessEnvelope(owners, update))).rejects.toThrow(EnvelopeError);
		expect(await openAdvertEnvelope(owners, await sealAdvertEnvelope(owners, update))).toEqual(update);
		await expect(openAdvertEnvelope(bobs, await sealAdvertEnvelope(owners, update))).rejects.toThrow(EnvelopeError);
	});
});

describe('checkAwarenessUpdate', () => {
	it('passes a well-formed update through and drops entries claiming our own client id', () => {
		const { awareness, update } = presence({ name: 'Ada' });
		expect(checkAwarenessUpdate(update, awareness.clientID + 1)).toEqual({ update, present: [awareness.clientID], entries: [{ clientId: awareness.clientID, peer: undefined }] });
		expect(checkAwarenessUpdate(update, awareness.clientID)).toBeUndefined();
	});

	it('refuses what does not decode completely, or whose state is not an object or null', () => {
		const entry = (json: string, trailing: number[] = []) => {
			const text = new TextEncoder().encode(json);
			return Uint8Array.from([1, 7, 1, text.length, ...text, ...trailing]);
		};
		expect(checkAwarenessUpdate(entry('null'), 1)).toEqual({ update: entry('null'), present: [], entries: [{ clientId: 7, peer: undefined }] });
		expect(checkAwarenessUpdate(entry('{"name":"Ada"}'), 1)?.present).toEqual([7]);
		for (const bad of [
			entry('{"name":'),
			entry('42'),
			entry('"Ada"'),
			entry('[1]'),
			entry('{}', [0]),
			Uint8Array.from([5, 7, 1]),
			Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]),
			new Uint8Array()
		]) {
			expect(() => checkAwarenessUpdate(bad, 1)).toThrow(AwarenessRejectedError);
		}
	});
});
