/** Key derivation: deterministic per secret and workspace, distinct per purpose, secret and workspace. */
import { describe, expect, it } from 'vitest';
import { newId } from '../../../src/lib/doc/ids';
import { GOSSIP_TOPIC_PREFIX } from '../../../src/lib/mesh/constants';
import { InvalidSecretError } from '../../../src/lib/mesh/errors';
import { decodeSecret, encodeSecret, newSecret } from '../../../src/lib/mesh/secret';
import { deriveBytes, deriveWorkspaceKeys, KeyPurpose, toHex } from '../../../src/lib/mesh/workspaceKeys';

const data = new TextEncoder().encode('hello');

async function mac(key: CryptoKey): Promise<string> {
	return toHex(new Uint8Array(await crypto.subtle.sign('HMAC', key, data)));
}

describe('workspace secrets', () => {
	it('are 32 random bytes that round-trip through base64url', () => {
		const secret = newSecret();
		expect(secret.length).toBe(32);
		expect(newSecret()).not.toEqual(secret);
		const text = encodeSecret(secret);
		expect(text).toMatch(/^[A-Za-z0-9_-]{43}$/);
		expect(decodeSecret(text)).toEqual(secret);
	});

	it('refuse anything that is not a canonical 32-byte base64url string', () => {
		const good = encodeSecret(newSecret());
		for (const bad of ['', 'abc', good + 'A', good.slice(0, 42) + '+', good.slice(0, 42) + '=', good.slice(0, 42) + 'B'.repeat(2)]) {
			expect(() => decodeSecret(bad)).toThrow(InvalidSecretError);
		}
		// the last character carries 2 padding bits, which must be zero
		const last = good.slice(0, 42) + 'B';
		expect(() => decodeSecret(last)).toThrow(InvalidSecretError);
	});
});

describe('deriveWorkspaceKeys', () => {
	it('is deterministic per secret and workspace id', async () => {
		const id = newId();
		const secret = newSecret();
		const [a, b] = await Promise.all([deriveWorkspaceKeys(id, secret), deriveWorkspaceKeys(id, secret.slice())]);
		expect(a.topic).toBe(b.topic);
		expect(await mac(a.membership)).toBe(await mac(b.membership));
		const iv = new Uint8Array(12);
		const sealed = await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, a.gossip, data);
		expect(new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv }, b.gossip, sealed))).toEqual(data);
	});

	it('differs per secret and per workspace id', async () => {
		const id = newId();
		const secret = newSecret();
		const base = await deriveWorkspaceKeys(id, secret);
		for (const other of [await deriveWorkspaceKeys(id, newSecret()), await deriveWorkspaceKeys(newId(), secret)]) {
			expect(other.topic).not.toBe(base.topic);
			expect(await mac(other.membership)).not.toBe(await mac(base.membership));
			const iv = new Uint8Array(12);
			const sealed = await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, base.gossip, data);
			await expect(crypto.subtle.decrypt({ name: 'AES-GCM', iv }, other.gossip, sealed)).rejects.toThrow();
		}
	});

	it('derives distinct bytes per purpose, and a topic that does not contain the workspace id', async () => {
		const id = newId();
		const secret = newSecret();
		const values = await Promise.all(Object.values(KeyPurpose).map((p) => deriveBytes(secret, id, p, 16)));
		expect(new Set(values.map(toHex)).size).toBe(3);
		const keys = await deriveWorkspaceKeys(id, secret);
		expect(keys.topic).toBe(GOSSIP_TOPIC_PREFIX + toHex(await deriveBytes(secret, id, KeyPurpose.topic, 16)));
		expect(keys.topic).toMatch(/^\/outpost\/ws\/1\/[0-9a-f]{32}$/);
		expect(keys.topic).not.toContain(id);
	});

	it('matches the HKDF parameters written in PROTOCOL.md (known-answer)', async () => {
		const secret = new Uint8Array(32).map((_, i) => i);
		const id = 'aaaaaaaaaaaaaaaaaaaaaaaaaa';
		const ikm = await crypto.subtle.importKey('raw', secret, 'HKDF', false, ['deriveBits']);
		const te = new TextEncoder();
		const expected = await crypto.subtle.deriveBits(
			{ name: 'HKDF', hash: 'SHA-256', salt: te.encode(id), info: te.encode('outpost/gossip-topic/1') },
			ikm,
			128
		);
		expect((await deriveWorkspaceKeys(id, secret)).topic).toBe('/outpost/ws/1/' + toHex(new Uint8Array(expected)));
	});

	it('refuses a secret of the wrong length', async () => {
		await expect(deriveWorkspaceKeys(newId(), new Uint8Array(16))).rejects.toThrow(InvalidSecretError);
	});
});
