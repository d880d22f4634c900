/** Gossip envelopes: round trip; tampering, another workspace's key and garbage give EnvelopeError. */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { newId } from '../../../src/lib/doc/ids';
import { EnvelopeError } from '../../../src/lib/mesh/errors';
import { openEnvelope, sealEnvelope } from '../../../src/lib/mesh/gossipEnvelope';
import { newSecret } from '../../../src/lib/mesh/secret';
import { deriveWorkspaceKeys } from '../../../src/lib/mesh/workspaceKeys';
import { mulberry32 } from '../../fixtures/random';

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
