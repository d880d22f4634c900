/**
 * Workspace secrets: 32 random bytes that prove membership (workspaceKeys.ts derives every
 * key from them), written as unpadded base64url wherever they travel or are stored (invite
 * links, the relay's workspace list).
 */
import { InvalidSecretError } from './errors.js';

/** Bytes in a workspace secret. */
export const SECRET_BYTES = 32;

/** A new random workspace secret. */
export function newSecret(): Uint8Array {
	return crypto.getRandomValues(new Uint8Array(SECRET_BYTES));
}

/** Encodes bytes as unpadded base64url. */
export function toBase64Url(bytes: Uint8Array): string {
	let binary = '';
	for (const b of bytes) binary += String.fromCharCode(b);
	return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Decodes unpadded base64url; throws on anything else. */
export function fromBase64Url(text: string): Uint8Array {
	if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new TypeError('not base64url');
	const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4));
	return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** Encodes a secret as unpadded base64url (43 characters). */
export function encodeSecret(secret: Uint8Array): string {
	if (secret.length !== SECRET_BYTES) throw new InvalidSecretError(`a secret has ${SECRET_BYTES} bytes`);
	return toBase64Url(secret);
}

/** Decodes {@link encodeSecret}'s output; throws {@link InvalidSecretError} on anything else. */
export function decodeSecret(text: string): Uint8Array {
	if (!/^[A-Za-z0-9_-]{43}$/.test(text)) throw new InvalidSecretError('not a 32-byte base64url secret');
	const bytes = fromBase64Url(text);
	if (toBase64Url(bytes) !== text) throw new InvalidSecretError('non-canonical base64url secret');
	return bytes;
}
