/**
 * Ed25519 device keys and the peer ids that name them, without libp2p's key code.
 *
 * A device's peer id (`12D3KooW…`) is libp2p's: base58btc of an identity multihash of the
 * protobuf-encoded public key. Signing, checking signatures and storing the key need only that
 * encoding and @noble's Ed25519, so the first load carries neither libp2p's RSA, secp256k1 and
 * ECDSA code nor its CIDs (about 35 kB gzipped); the mesh turns the key into a libp2p key
 * where it loads libp2p anyway. Every replica, browser and relay, checks signatures here, with
 * one implementation (ZIP-215 rules, @noble's default), so no signature is valid on one
 * replica and not on another.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { base16 } from 'multiformats/bases/base16';
import { base58btc } from 'multiformats/bases/base58';
import { base64, base64url } from 'multiformats/bases/base64';

/**
 * A device key: libp2p's Ed25519 private keys fit this too (the relay's key is one). `raw` is
 * the 32-byte seed followed by the 32-byte public key.
 */
export interface DeviceKey {
	readonly type: string;
	readonly raw: Uint8Array;
	sign(data: Uint8Array): Uint8Array | Promise<Uint8Array>;
}

/** Thrown for bytes that are not a stored Ed25519 key. */
export class DeviceKeyError extends Error {
	override name = 'DeviceKeyError';
}

const SEED_BYTES = 32;
const PUBLIC_BYTES = 32;
/** libp2p's KeyType enum value for Ed25519 (protobuf field 1). */
const ED25519_TYPE = 1;
/** Protobuf head of an Ed25519 private key: field 1 = 1, field 2 = 64 bytes. */
const PRIVATE_HEAD = Uint8Array.of(0x08, ED25519_TYPE, 0x12, SEED_BYTES + PUBLIC_BYTES);
/** Identity multihash (0x00, 36 bytes) of a protobuf public key: field 1 = 1, field 2 = 32 bytes. */
const PEER_ID_HEAD = Uint8Array.of(0x00, 0x24, 0x08, ED25519_TYPE, 0x12, PUBLIC_BYTES);

/** An Ed25519 key made from its 64 raw bytes (seed, then public key). */
class Ed25519DeviceKey implements DeviceKey {
	readonly type = 'Ed25519';
	constructor(readonly raw: Uint8Array) {}

	sign(data: Uint8Array): Uint8Array {
		return ed25519.sign(data, this.raw.subarray(0, SEED_BYTES));
	}
}

/** A new random device key. */
export function generateDeviceKey(): DeviceKey {
	return deviceKeyFromSeed(ed25519.utils.randomSecretKey());
}

/** The device key of a 32-byte seed. */
export function deviceKeyFromSeed(seed: Uint8Array): DeviceKey {
	if (seed.length !== SEED_BYTES) throw new DeviceKeyError(`an Ed25519 seed has ${SEED_BYTES} bytes`);
	const raw = new Uint8Array(SEED_BYTES + PUBLIC_BYTES);
	raw.set(seed);
	raw.set(ed25519.getPublicKey(seed), SEED_BYTES);
	return new Ed25519DeviceKey(raw);
}

/**
 * Reads a key stored in libp2p's protobuf encoding (what `privateKeyToProtobuf` wrote for an
 * Ed25519 key). Its public half must be the seed's.
 * @throws {DeviceKeyError} for anything else.
 */
export function deviceKeyFromProtobuf(bytes: Uint8Array): DeviceKey {
	if (bytes.length !== PRIVATE_HEAD.length + SEED_BYTES + PUBLIC_BYTES || !PRIVATE_HEAD.every((b, i) => bytes[i] === b)) {
		throw new DeviceKeyError('not a stored Ed25519 key');
	}
	const raw = bytes.slice(PRIVATE_HEAD.length);
	const key = deviceKeyFromSeed(raw.subarray(0, SEED_BYTES));
	if (!key.raw.every((b, i) => raw[i] === b)) throw new DeviceKeyError('the stored public key is not the seed’s');
	return key;
}

/** The key in libp2p's protobuf encoding (for storage; `privateKeyFromProtobuf` reads it too). */
export function deviceKeyToProtobuf(key: DeviceKey): Uint8Array {
	if (key.type !== 'Ed25519' || key.raw.length !== SEED_BYTES + PUBLIC_BYTES) throw new DeviceKeyError('only Ed25519 keys are stored');
	const out = new Uint8Array(PRIVATE_HEAD.length + key.raw.length);
	out.set(PRIVATE_HEAD);
	out.set(key.raw, PRIVATE_HEAD.length);
	return out;
}

/** The peer id (`12D3KooW…`) of a 32-byte Ed25519 public key. */
export function peerIdOfPublicKey(publicKey: Uint8Array): string {
	if (publicKey.length !== PUBLIC_BYTES) throw new DeviceKeyError(`an Ed25519 public key has ${PUBLIC_BYTES} bytes`);
	const bytes = new Uint8Array(PEER_ID_HEAD.length + PUBLIC_BYTES);
	bytes.set(PEER_ID_HEAD);
	bytes.set(publicKey, PEER_ID_HEAD.length);
	return base58btc.baseEncode(bytes);
}

/** The peer id of a device key. */
export function peerIdOfKey(key: DeviceKey): string {
	if (key.type !== 'Ed25519') throw new DeviceKeyError('device keys are Ed25519');
	return peerIdOfPublicKey(key.raw.subarray(SEED_BYTES));
}

/** The 32-byte public key an Ed25519 peer id embeds, or undefined for anything else (never throws). */
export function publicKeyOfPeerId(peerId: string): Uint8Array | undefined {
	if (typeof peerId !== 'string' || peerId.length > 64) return undefined;
	let bytes: Uint8Array;
	try {
		bytes = base58btc.baseDecode(peerId);
	} catch {
		return undefined;
	}
	if (bytes.length !== PEER_ID_HEAD.length + PUBLIC_BYTES || !PEER_ID_HEAD.every((b, i) => bytes[i] === b)) return undefined;
	return bytes.subarray(PEER_ID_HEAD.length);
}

/** Whether `signature` is `peerId`'s over `data`; false for any malformed input (never throws). */
export function verifyByPeerId(peerId: string, data: Uint8Array, signature: Uint8Array): boolean {
	const publicKey = publicKeyOfPeerId(peerId);
	if (publicKey === undefined) return false;
	try {
		return ed25519.verify(signature, data, publicKey);
	} catch {
		return false;
	}
}

/** Unpadded base64 (the encoding of signatures in documents). */
export function toBase64(bytes: Uint8Array): string {
	return base64.baseEncode(bytes);
}

/** Reads unpadded base64; throws on anything else. */
export function fromBase64(text: string): Uint8Array {
	return base64.baseDecode(text);
}

/** Unpadded base64url. */
export function toBase64url(bytes: Uint8Array): string {
	return base64url.baseEncode(bytes);
}

/** Reads unpadded base64url; throws on anything else. */
export function fromBase64url(text: string): Uint8Array {
	return base64url.baseDecode(text);
}

/** Reads lowercase hex; throws on anything else. */
export function fromHex(text: string): Uint8Array {
	return base16.baseDecode(text);
}
