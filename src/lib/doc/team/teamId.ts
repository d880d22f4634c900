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

/**
 * The document id of a private space that device `creator` makes in workspace `workspaceId`
 * with `nonce` (its `space` operation carries the nonce): nobody can claim an id that
 * already names another document (the root, the roster, a channel or a note) as a space,
 * which would keep it from everyone outside the space.
 */
export function teamSpaceId(workspaceId: string, creator: string, nonce: string): string {
	return base32(sha256(utf8.encode(`outpost/space/1\n${workspaceId}\n${creator}\n${nonce}`)).slice(0, 16));
}

/**
 * The id of an invitation that device `by` makes in workspace `workspaceId` with public key
 * `key` (hex): derived, like a space's, so no member can take another's invitation id with an
 * invitation of its own (found in review: one ordered first voided an admin's link, or admitted
 * its newcomer as a device of the squatter's member).
 */
export function teamInviteId(workspaceId: string, by: string, key: string): string {
	return base32(sha256(utf8.encode(`outpost/invite/1\n${workspaceId}\n${by}\n${key}`)).slice(0, 16));
}

/** A new private space's id and the nonce its `space` operation carries. */
export function newSpaceId(workspaceId: string, creator: string): { space: string; nonce: string } {
	const nonce = newTeamNonce();
	return { space: teamSpaceId(workspaceId, creator, nonce), nonce };
}

/** The roster document of a workspace with a signed team: derived from its id, so a joiner knows it before anything arrives. */
export function teamRosterId(workspaceId: string): string {
	return base32(sha256(utf8.encode(`outpost/roster/1\n${workspaceId}`)).slice(0, 16));
}
