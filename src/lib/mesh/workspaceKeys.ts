/**
 * Workspace secrets and the keys derived from them. An invite carries the 32-byte secret
 * (base64url); every peer derives the same keys from it with HKDF-SHA256, salted with the
 * workspace id, one `info` string per purpose (PROTOCOL.md "Key derivation").
 */
import { GOSSIP_TOPIC_PREFIX } from './constants.js';
import { InvalidSecretError } from './errors.js';
import type { GossipKeyring } from './keyring.js';
import { SECRET_BYTES } from './secret.js';

/** HKDF `info` strings, one per derived value. */
export const KeyPurpose = {
	membership: 'outpost/membership-hmac/1',
	gossip: 'outpost/gossip-aes-gcm/1',
	topic: 'outpost/gossip-topic/1'
} as const;

/** One of {@link KeyPurpose}'s values. */
export type KeyPurpose = (typeof KeyPurpose)[keyof typeof KeyPurpose];

/** The keys of one workspace, derived by {@link deriveWorkspaceKeys}. */
export interface WorkspaceKeys {
	/** The workspace these keys belong to. */
	readonly workspaceId: string;
	/** HMAC-SHA256 key (sign, verify) for membership proofs. */
	readonly membership: CryptoKey;
	/** AES-GCM-256 key (encrypt, decrypt) for gossip envelopes. */
	readonly gossip: CryptoKey;
	/** The gossip topic: {@link GOSSIP_TOPIC_PREFIX} + 32 hex digits; reveals nothing about the id. */
	readonly topic: string;
	/**
	 * The key generations gossip envelopes are sealed and opened with (keyring.ts). Without
	 * one, envelopes use {@link gossip} alone, under key id '' (the legacy key).
	 */
	readonly keyring?: GossipKeyring;
}

const utf8 = new TextEncoder();

function checkSecret(secret: Uint8Array): void {
	if (secret.length !== SECRET_BYTES) throw new InvalidSecretError(`a secret has ${SECRET_BYTES} bytes`);
}

/**
 * HKDF-SHA256(ikm = secret, salt = UTF-8 of `workspaceId`, info = UTF-8 of `purpose`),
 * `length` bytes. Exported for tests and for other implementations to check against.
 */
export async function deriveBytes(
	secret: Uint8Array,
	workspaceId: string,
	purpose: KeyPurpose,
	length = 32
): Promise<Uint8Array> {
	checkSecret(secret);
	const ikm = await crypto.subtle.importKey('raw', secret as Uint8Array<ArrayBuffer>, 'HKDF', false, ['deriveBits']);
	const params = { name: 'HKDF', hash: 'SHA-256', salt: utf8.encode(workspaceId), info: utf8.encode(purpose) };
	return new Uint8Array(await crypto.subtle.deriveBits(params, ikm, length * 8));
}

/** Derives the membership key, gossip key and gossip topic of a workspace. */
export async function deriveWorkspaceKeys(workspaceId: string, secret: Uint8Array): Promise<WorkspaceKeys> {
	const [hmacBytes, aesBytes, topicBytes] = await Promise.all([
		deriveBytes(secret, workspaceId, KeyPurpose.membership, 32),
		deriveBytes(secret, workspaceId, KeyPurpose.gossip, 32),
		deriveBytes(secret, workspaceId, KeyPurpose.topic, 16)
	]);
	const membership = await crypto.subtle.importKey(
		'raw',
		hmacBytes as Uint8Array<ArrayBuffer>,
		{ name: 'HMAC', hash: 'SHA-256' },
		false,
		['sign', 'verify']
	);
	const gossip = await crypto.subtle.importKey('raw', aesBytes as Uint8Array<ArrayBuffer>, 'AES-GCM', false, [
		'encrypt',
		'decrypt'
	]);
	hmacBytes.fill(0);
	aesBytes.fill(0);
	return { workspaceId, membership, gossip, topic: GOSSIP_TOPIC_PREFIX + toHex(topicBytes) };
}

/** Lower-case hex of bytes. */
export function toHex(bytes: Uint8Array): string {
	let out = '';
	for (const byte of bytes) out += byte.toString(16).padStart(2, '0');
	return out;
}

/** Bytes of lower-case or upper-case hex; throws {@link TypeError} on anything else. */
export function fromHex(hex: string): Uint8Array {
	if (!/^(?:[0-9a-fA-F]{2})*$/.test(hex)) throw new TypeError('not hex');
	const bytes = new Uint8Array(hex.length / 2);
	for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
	return bytes;
}
