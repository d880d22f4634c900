/**
 * Document and record ids: random 128-bit values in lower-case base32 (RFC 4648 alphabet),
 * 26 characters, safe in URLs, file names and IndexedDB database names. A record id may
 * instead be bound to the peer that made it ({@link newIdFor}): same shape, but only that
 * peer's records can carry it, so a member who copies another's message id into a record of
 * her own never wins the choice between the two (found in review: she could, on every view
 * built from scratch).
 */
import { sha256 } from '@noble/hashes/sha2.js';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

/** Encodes bytes as unpadded lower-case base32. */
export function base32(bytes: Uint8Array): string {
	let out = '';
	let bits = 0;
	let value = 0;
	for (const byte of bytes) {
		value = (value << 8) | byte;
		bits += 8;
		while (bits >= 5) {
			out += ALPHABET[(value >>> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
	return out;
}

/** A new random 128-bit id. */
export function newId(): string {
	const bytes = new Uint8Array(16);
	crypto.getRandomValues(bytes);
	return base32(bytes);
}

/** True when `value` looks like an id made by {@link newId}. */
export function isId(value: unknown): value is string {
	return typeof value === 'string' && /^[a-z2-7]{26}$/.test(value);
}

/** Random characters of a bound id (80 bits); the other 10 (50 bits) bind them to a peer. */
const NONCE_CHARS = 16;
const TAG_CHARS = 10;
const encoder = new TextEncoder();

function tag(peer: string, nonce: string): string {
	return base32(sha256(encoder.encode(`outpost/id/1\n${peer}\n${nonce}`)).subarray(0, 7)).slice(0, TAG_CHARS);
}

/**
 * A new record id bound to `peer` (see {@link isIdOf}): 80 random bits, then 50 bits of
 * SHA-256 over the peer and them. Another peer would need about 2^50 keys of its own to
 * make a record that claims it.
 */
export function newIdFor(peer: string): string {
	const bytes = new Uint8Array(10);
	crypto.getRandomValues(bytes);
	const nonce = base32(bytes);
	return nonce + tag(peer, nonce);
}

/** True when `id` was made by {@link newIdFor} for `peer`. */
export function isIdOf(id: string, peer: string): boolean {
	return isId(id) && id.slice(NONCE_CHARS) === tag(peer, id.slice(0, NONCE_CHARS));
}
