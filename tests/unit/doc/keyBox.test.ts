import { generateKeyPair } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { fromString, toString } from 'uint8arrays';
import { beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../../src/lib/doc/ids.js';
import {
	KeyBoxError,
	newKeyGeneration,
	newWorkspaceKey,
	openKeyBox,
	sealForDevices,
	sealKeyBox
} from '../../../src/lib/doc/team/keyBox.js';
import { decodeOp } from '../../../src/lib/doc/team/ops.js';
import { signTeamOp } from '../../../src/lib/doc/team/sign.js';

let aliceKey: PrivateKey;
let alice: string;
let bobKey: PrivateKey;
let bob: string;
const ws = newId();
const gen = newId();

beforeAll(async () => {
	aliceKey = await generateKeyPair('Ed25519');
	alice = peerIdFromPrivateKey(aliceKey).toString();
	bobKey = await generateKeyPair('Ed25519');
	bob = peerIdFromPrivateKey(bobKey).toString();
});

describe('key boxes', () => {
	it('open for their device, with the key sealed', () => {
		const key = newWorkspaceKey();
		const box = sealKeyBox(key, alice, ws, gen);
		expect(box).toMatch(/^[A-Za-z0-9_-]+$/);
		expect(box.length).toBeLessThan(400);
		expect(openKeyBox(aliceKey, box, ws, gen)).toEqual(key);
		// A fresh ephemeral key per box: sealing again gives another box for the same key.
		const again = sealKeyBox(key, alice, ws, gen);
		expect(again).not.toBe(box);
		expect(openKeyBox(aliceKey, again, ws, gen)).toEqual(key);
	});

	it('do not open for another device', () => {
		const box = sealKeyBox(newWorkspaceKey(), alice, ws, gen);
		expect(() => openKeyBox(bobKey, box, ws, gen)).toThrow(KeyBoxError);
	});

	it('are bound to their generation and workspace', () => {
		const box = sealKeyBox(newWorkspaceKey(), alice, ws, gen);
		expect(() => openKeyBox(aliceKey, box, ws, newId())).toThrow(KeyBoxError);
		expect(() => openKeyBox(aliceKey, box, newId(), gen)).toThrow(KeyBoxError);
	});

	it('fail when tampered with, truncated or garbage', () => {
		const box = sealKeyBox(newWorkspaceKey(), alice, ws, gen);
		const bytes = fromString(box, 'base64url');
		for (let i = 0; i < bytes.length; i++) {
			const bad = bytes.slice();
			bad[i]! ^= 1;
			expect(() => openKeyBox(aliceKey, toString(bad, 'base64url'), ws, gen)).toThrow(KeyBoxError);
		}
		expect(() => openKeyBox(aliceKey, toString(bytes.slice(0, -1), 'base64url'), ws, gen)).toThrow(KeyBoxError);
		for (const garbage of ['', '!!!', 'AAAA', box + 'AA']) {
			expect(() => openKeyBox(aliceKey, garbage, ws, gen)).toThrow(KeyBoxError);
		}
	});

	it('are sealed only to Ed25519 devices, and only 32-byte keys', async () => {
		const secp = peerIdFromPrivateKey(await generateKeyPair('secp256k1')).toString();
		expect(() => sealKeyBox(newWorkspaceKey(), secp, ws, gen)).toThrow(KeyBoxError);
		expect(() => sealKeyBox(newWorkspaceKey(), 'not a peer', ws, gen)).toThrow(KeyBoxError);
		expect(() => sealKeyBox(new Uint8Array(16), alice, ws, gen)).toThrow(KeyBoxError);
	});

	it('are sealed to every device of a generation, each opening only its own', () => {
		const key = newWorkspaceKey();
		const boxes = sealForDevices(key, [alice, bob], ws, gen);
		expect(Object.keys(boxes).sort()).toEqual([alice, bob].sort());
		expect(openKeyBox(aliceKey, boxes[alice]!, ws, gen)).toEqual(key);
		expect(openKeyBox(bobKey, boxes[bob]!, ws, gen)).toEqual(key);
		expect(() => openKeyBox(aliceKey, boxes[bob]!, ws, gen)).toThrow(KeyBoxError);
	});

	it('fit a signed keys operation', async () => {
		const { body, key } = newKeyGeneration(ws, [alice, bob]);
		const op = await signTeamOp(aliceKey, alice, { ws, prev: [], at: 1 }, body);
		const decoded = decodeOp(op.bytes);
		expect(decoded.payload).toMatchObject({ t: 'keys', gen: body.gen });
		const boxes = (decoded.payload as { boxes: Record<string, string> }).boxes;
		expect(openKeyBox(bobKey, boxes[bob]!, ws, body.gen)).toEqual(key);
	});
});
