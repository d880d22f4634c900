/**
 * Key boxes: a workspace key (32 random bytes, one per key generation) sealed to one device,
 * for the `keys` team operation (ops.ts; PROTOCOL.md "Key generations"). A device is an
 * Ed25519 libp2p peer, so its peer id names its public key; the box is an ECIES over the
 * X25519 form of that key:
 *
 * ```
 * box    = unpadded base64url(0x01 ‖ ephemeral X25519 public (32) ‖ ciphertext (32 + 16 tag))
 * shared = X25519(ephemeral secret, X25519(recipient Ed25519 public))
 * okm    = HKDF-SHA256(ikm = shared, salt = ephemeral public ‖ recipient X25519 public,
 *                      info = "outpost/key-box/1\n" ws "\n" gen "\n" recipient peer id, 44)
 * ciphertext = AES-GCM-256(key = okm[0..32], iv = okm[32..44], aad = 0x01 ‖ ephemeral public, key)
 * ```
 *
 * Every box has its own ephemeral key, so the derived key and IV are used once. The `info`
 * binds the box to its workspace, generation and recipient: a box copied into another
 * generation, workspace or device's slot does not open. Pure and synchronous (@noble), so the
 * team layer can use it without WebCrypto.
 */
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { gcm } from '@noble/ciphers/aes.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { fromBase64url, peerIdOfKey, publicKeyOfPeerId, toBase64url, type DeviceKey } from '../deviceKey.js';
import { newId } from '../ids.js';

/** Bytes of a workspace key. */
export const WORKSPACE_KEY_BYTES = 32;
/** Domain label at the start of the HKDF `info` of every box. */
export const KEY_BOX_LABEL = 'outpost/key-box/1';
/** First byte of a box: its format version. */
const BOX_VERSION = 1;
const POINT_BYTES = 32;
const TAG_BYTES = 16;
const BOX_BYTES = 1 + POINT_BYTES + WORKSPACE_KEY_BYTES + TAG_BYTES;

/** A box that does not open: malformed, tampered, another recipient, generation or workspace. */
export class KeyBoxError extends Error {
	override name = 'KeyBoxError';
}

const utf8 = new TextEncoder();

/** A new random workspace key. */
export function newWorkspaceKey(): Uint8Array {
	return crypto.getRandomValues(new Uint8Array(WORKSPACE_KEY_BYTES));
}

/** The X25519 public key of a device; throws {@link KeyBoxError} unless it is an Ed25519 peer id. */
function recipientPublic(device: string): Uint8Array {
	const publicKey = publicKeyOfPeerId(device);
	if (publicKey === undefined) throw new KeyBoxError(`not an Ed25519 peer id: ${device}`);
	try {
		return ed25519.utils.toMontgomery(publicKey);
	} catch {
		throw new KeyBoxError(`not a valid Ed25519 public key: ${device}`);
	}
}

/** The AES-GCM key (32 bytes) and IV (12) of one box. */
function boxKey(shared: Uint8Array, ephemeral: Uint8Array, recipient: Uint8Array, ws: string, gen: string, device: string) {
	const salt = new Uint8Array(2 * POINT_BYTES);
	salt.set(ephemeral);
	salt.set(recipient, POINT_BYTES);
	const info = utf8.encode(`${KEY_BOX_LABEL}\n${ws}\n${gen}\n${device}`);
	const okm = hkdf(sha256, shared, salt, info, 44);
	return { key: okm.subarray(0, 32), iv: okm.subarray(32, 44) };
}

/**
 * Seals `key` to `device` (an Ed25519 peer id) for generation `gen` of workspace `ws`.
 * Returns unpadded base64url, 108 characters.
 * @throws {KeyBoxError} when `device` is not an Ed25519 peer id or `key` is not 32 bytes.
 */
export function sealKeyBox(key: Uint8Array, device: string, ws: string, gen: string): string {
	if (key.length !== WORKSPACE_KEY_BYTES) throw new KeyBoxError(`a workspace key has ${WORKSPACE_KEY_BYTES} bytes`);
	const recipient = recipientPublic(device);
	const { secretKey, publicKey: ephemeral } = x25519.keygen();
	let shared: Uint8Array;
	try {
		shared = x25519.getSharedSecret(secretKey, recipient);
	} catch {
		throw new KeyBoxError(`no shared secret with ${device} (a low-order key)`);
	}
	const { key: aesKey, iv } = boxKey(shared, ephemeral, recipient, ws, gen, device);
	const header = new Uint8Array(1 + POINT_BYTES);
	header[0] = BOX_VERSION;
	header.set(ephemeral, 1);
	const sealed = gcm(aesKey, iv, header).encrypt(key);
	const box = new Uint8Array(BOX_BYTES);
	box.set(header);
	box.set(sealed, header.length);
	secretKey.fill(0);
	shared.fill(0);
	return toBase64url(box);
}

/**
 * Opens a box sealed by {@link sealKeyBox} to the device whose key is `privateKey` (a libp2p
 * Ed25519 key; `raw` is the 32-byte seed then the public key). Returns the workspace key.
 * @throws {KeyBoxError} on anything that does not open: a malformed or tampered box, a box
 * sealed to another device, or to another generation or workspace.
 */
export function openKeyBox(privateKey: DeviceKey, box: string, ws: string, gen: string): Uint8Array {
	if (privateKey.type !== 'Ed25519') throw new KeyBoxError('only Ed25519 devices hold key boxes');
	let bytes: Uint8Array;
	try {
		bytes = fromBase64url(box);
	} catch {
		throw new KeyBoxError('a key box is not base64url');
	}
	if (bytes.length !== BOX_BYTES || bytes[0] !== BOX_VERSION) throw new KeyBoxError('malformed key box');
	const device = peerIdOfKey(privateKey);
	const header = bytes.subarray(0, 1 + POINT_BYTES);
	const ephemeral = header.subarray(1);
	const secret = ed25519.utils.toMontgomerySecret(privateKey.raw.subarray(0, 32));
	try {
		const recipient = x25519.getPublicKey(secret);
		const shared = x25519.getSharedSecret(secret, ephemeral);
		const { key: aesKey, iv } = boxKey(shared, ephemeral, recipient, ws, gen, device);
		shared.fill(0);
		return gcm(aesKey, iv, header).decrypt(bytes.subarray(header.length));
	} catch {
		throw new KeyBoxError('key box does not open (tampered, or sealed to another device, generation or workspace)');
	} finally {
		secret.fill(0);
	}
}

/**
 * The check a new generation's `keys` operation carries (its first; later ones cannot change
 * it): the first 16 bytes of SHA-256 over a label, the scope (workspace id, or
 * {@link spaceKeyScope}), the generation and the key. A device that opens its box compares the
 * key with it, so a box another key holder filled with some other key is found out, not used.
 */
export function keyCheck(key: Uint8Array, scope: string, gen: string): string {
	const label = utf8.encode(`outpost/key-check/1\n${scope}\n${gen}\n`);
	const input = new Uint8Array(label.length + key.length);
	input.set(label);
	input.set(key, label.length);
	return toBase64url(sha256(input).subarray(0, 16));
}

/**
 * {@link openKeyBox}, then the key compared with the generation's `check` (when it has one).
 * @throws {KeyBoxError} when the box does not open, or holds a key that is not the generation's.
 */
export function openCheckedKeyBox(privateKey: DeviceKey, box: string, scope: string, gen: string, check: string | undefined): Uint8Array {
	const key = openKeyBox(privateKey, box, scope, gen);
	if (check !== undefined && keyCheck(key, scope, gen) !== check) {
		key.fill(0);
		throw new KeyBoxError('the key in this box is not the generation\'s key (its check does not match)');
	}
	return key;
}

/** Seals `key` to each of `devices`: the `boxes` of a `keys` operation. @throws {KeyBoxError} */
export function sealForDevices(key: Uint8Array, devices: Iterable<string>, ws: string, gen: string): Record<string, string> {
	const boxes: Record<string, string> = {};
	for (const device of devices) boxes[device] = sealKeyBox(key, device, ws, gen);
	return boxes;
}

/** A new key generation of workspace `ws` sealed to `devices`: the body of a `keys` operation and the key. */
export function newKeyGeneration(ws: string, devices: Iterable<string>): { body: { t: 'keys'; gen: string; boxes: Record<string, string>; check: string }; key: Uint8Array } {
	const key = newWorkspaceKey();
	const gen = newId();
	return { body: { t: 'keys', gen, boxes: sealForDevices(key, devices, ws, gen), check: keyCheck(key, ws, gen) }, key };
}

/**
 * What a private space's key boxes are bound to in place of the workspace id (the HKDF `info`):
 * a box of one space does not open as the workspace's key or as another space's.
 */
export function spaceKeyScope(ws: string, space: string): string {
	return `${ws}\nspace\n${space}`;
}

/** A new key generation of private space `space`, sealed to `devices` (its members' devices). @throws {KeyBoxError} */
export function newSpaceKeyGeneration(
	ws: string,
	space: string,
	devices: Iterable<string>
): { body: { t: 'keys'; gen: string; boxes: Record<string, string>; space: string; check: string }; key: Uint8Array } {
	const key = newWorkspaceKey();
	const gen = newId();
	const scope = spaceKeyScope(ws, space);
	return { body: { t: 'keys', gen, boxes: sealForDevices(key, devices, scope, gen), space, check: keyCheck(key, scope, gen) }, key };
}
