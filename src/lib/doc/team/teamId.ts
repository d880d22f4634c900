/**
 * Self-certifying workspace ids: a workspace's id is a hash of its creator's peer id and a
 * nonce, so only the creator's `create` operation can be the root of its team. A member who
 * forges another `create` for the same id would need a second preimage of a 128-bit hash.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { base32 } from '../ids.js';

const utf8 = new TextEncoder();

/** The workspace id that `creator` makes with `nonce`. */
export function teamWorkspaceId(creator: string, nonce: string): string {
	return base32(sha256(utf8.encode(`outpost/ws/1\n${creator}\n${nonce}`)).slice(0, 16));
}

/** A fresh nonce (base32 of 16 random bytes). */
export function newTeamNonce(): string {
	return base32(crypto.getRandomValues(new Uint8Array(16)));
}

/** The roster document of a workspace with a signed team: derived from its id, so a joiner knows it before anything arrives. */
export function teamRosterId(workspaceId: string): string {
	return base32(sha256(utf8.encode(`outpost/roster/1\n${workspaceId}`)).slice(0, 16));
}
