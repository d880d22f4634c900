/**
 * Device keys without libp2p's key code must be libp2p's keys byte for byte: the same peer
 * ids, the same stored encoding, signatures each side accepts from the other; and anything
 * that is not an Ed25519 peer id or key is refused without throwing where it says so.
 */
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id';
import { describe, expect, it } from 'vitest';
import {
	DeviceKeyError,
	deviceKeyFromProtobuf,
	deviceKeyToProtobuf,
	fromBase64,
	generateDeviceKey,
	peerIdOfKey,
	publicKeyOfPeerId,
	toBase64,
	verifyByPeerId
} from '../../../src/lib/doc/deviceKey.js';

const data = new TextEncoder().encode('outpost');

describe('device keys', () => {
	it('read a key libp2p stored, with the same peer id, and sign what libp2p verifies', async () => {
		const libp2pKey = await generateKeyPair('Ed25519');
		const key = deviceKeyFromProtobuf(privateKeyToProtobuf(libp2pKey));
		const peerId = peerIdOfKey(key);
		expect(peerId).toBe(peerIdFromPrivateKey(libp2pKey).toString());
		expect(peerId.startsWith('12D3KooW')).toBe(true);
		expect(await libp2pKey.publicKey.verify(data, await key.sign(data))).toBe(true);
		expect(verifyByPeerId(peerId, data, await libp2pKey.sign(data))).toBe(true);
	});

	it('store a new key so that libp2p reads it back as the same key', () => {
		const key = generateDeviceKey();
		const libp2pKey = privateKeyFromProtobuf(deviceKeyToProtobuf(key));
		expect(libp2pKey.type).toBe('Ed25519');
		expect(peerIdFromPrivateKey(libp2pKey).toString()).toBe(peerIdOfKey(key));
		expect(deviceKeyFromProtobuf(deviceKeyToProtobuf(key)).raw).toEqual(key.raw);
	});

	it('take the public key out of an Ed25519 peer id, and nothing out of anything else', async () => {
		const key = generateDeviceKey();
		const peerId = peerIdOfKey(key);
		expect(publicKeyOfPeerId(peerId)).toEqual(peerIdFromString(peerId).publicKey?.raw);
		const secp = peerIdFromPrivateKey(await generateKeyPair('secp256k1')).toString();
		expect(publicKeyOfPeerId(secp)).toBeUndefined();
		for (const bad of ['', 'not a peer id', '0OIl', peerId.slice(0, -1), peerId + '1', 'Qm' + 'a'.repeat(44), 'z'.repeat(10_000)]) {
			expect(publicKeyOfPeerId(bad), bad.slice(0, 20)).toBeUndefined();
		}
		expect(publicKeyOfPeerId(42 as unknown as string)).toBeUndefined();
	});

	it('check signatures: a changed byte, another signer or a malformed signature gives false', async () => {
		const key = generateDeviceKey();
		const peerId = peerIdOfKey(key);
		const signature = await key.sign(data);
		expect(verifyByPeerId(peerId, data, signature)).toBe(true);
		const flipped = signature.slice();
		flipped[10] = flipped[10]! ^ 1;
		expect(verifyByPeerId(peerId, data, flipped)).toBe(false);
		expect(verifyByPeerId(peerIdOfKey(generateDeviceKey()), data, signature)).toBe(false);
		expect(verifyByPeerId(peerId, data, signature.subarray(1))).toBe(false);
		expect(verifyByPeerId(peerId, data, new Uint8Array())).toBe(false);
		expect(verifyByPeerId('garbage', data, signature)).toBe(false);
	});

	it('refuse stored bytes that are not an Ed25519 key, or whose public half is not the seed’s', async () => {
		const stored = deviceKeyToProtobuf(generateDeviceKey());
		const mismatched = stored.slice();
		mismatched[mismatched.length - 1] = mismatched[mismatched.length - 1]! ^ 1;
		expect(() => deviceKeyFromProtobuf(mismatched)).toThrow(DeviceKeyError);
		expect(() => deviceKeyFromProtobuf(stored.subarray(0, 40))).toThrow(DeviceKeyError);
		const secp = privateKeyToProtobuf(await generateKeyPair('secp256k1'));
		expect(() => deviceKeyFromProtobuf(secp)).toThrow(DeviceKeyError);
	});

	it('encode base64 as libp2p-era documents did (unpadded)', () => {
		const bytes = Uint8Array.of(1, 2, 3, 4);
		expect(toBase64(bytes)).toBe(Buffer.from(bytes).toString('base64').replace(/=+$/, ''));
		expect(fromBase64(toBase64(bytes))).toEqual(bytes);
		expect(() => fromBase64('***')).toThrow();
	});
});
