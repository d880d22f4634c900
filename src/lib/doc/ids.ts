/**
 * Document and record ids: random 128-bit values in lower-case base32 (RFC 4648 alphabet),
 * 26 characters, safe in URLs, file names and IndexedDB database names.
 */

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
