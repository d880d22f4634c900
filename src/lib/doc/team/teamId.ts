/**
 * Self-certifying workspace ids: a workspace's id is a hash of its creator's peer id and a
 * nonce, so only the creator's `create` operation can be the root of its team. A member who
 * forges another `create` for the same id would need a second preimage of a 128-bit hash.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { base32, isId } from '../ids.js';

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
 * How space ids are told from every other document's (found in review: a member created a
 * public channel under an id she had derived for a space of her own, then claimed it, and the
 * channel left everyone's list and stopped syncing to them). An id is 26 base32 characters,
 * 130 bits, of which a 128-bit value fills 128: the last character's two low bits are spare,
 * and every other document id (`newId`, the workspace's, the roster's, the old space ids)
 * leaves them 0. A space id made now sets them to 01 ({@link isSpaceId}); the root lists no
 * document under such an id (rootPolicy.ts, WorkspaceDoc.ts, writePolicy.ts `isListed*`), so
 * no space can take a document the root lists, and no listing can take a space.
 */
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** `id` with its spare bits set to the space mark. */
function markSpace(id: string): string {
	return id.slice(0, -1) + BASE32[(BASE32.indexOf(id.slice(-1)) & ~3) | 1];
}

/** Whether `id` has the form of a space id made now (see the note above `markSpace`): the root never lists one. */
export function isSpaceId(id: string): boolean {
	return isId(id) && (BASE32.indexOf(id.slice(-1)) & 3) === 1;
}

/**
 * The document id of a private space that device `creator` makes in workspace `workspaceId`
 * with `nonce` (its `space` operation carries the nonce), in the space form: nobody can
 * claim an id that already names another document (the root, the roster, a channel, a note,
 * an AI chat) as a space, which would keep it from everyone outside the space.
 */
export function teamSpaceId(workspaceId: string, creator: string, nonce: string): string {
	return markSpace(base32(sha256(utf8.encode(`outpost/space/2\n${workspaceId}\n${creator}\n${nonce}`)).slice(0, 16)));
}

/**
 * A space id as made before space ids were marked: not told apart from other documents'
 * ids, so a member could list a public channel under one and claim it later. The fold still
 * takes it in a workspace made before ({@link marksSpaceIds}), for the spaces made there.
 */
export function legacySpaceId(workspaceId: string, creator: string, nonce: string): string {
	return base32(sha256(utf8.encode(`outpost/space/1\n${workspaceId}\n${creator}\n${nonce}`)).slice(0, 16));
}

/**
 * Whether `id` is the space id that `creator` derives with `nonce` in workspace
 * `workspaceId`: the marked form always, the legacy form too when `legacy` (a workspace whose
 * root does not mark its space ids: {@link marksSpaceIds}).
 */
export function isSpaceIdOf(id: string, workspaceId: string, creator: string, nonce: string, legacy: boolean): boolean {
	if (isSpaceId(id)) return id === teamSpaceId(workspaceId, creator, nonce);
	return legacy && id === legacySpaceId(workspaceId, creator, nonce);
}

/**
 * Start of the root nonce of a workspace whose spaces take marked ids only (see
 * {@link marksSpaceIds}). The nonce is part of what the workspace id certifies, so nobody
 * adds or takes it away after the workspace was made.
 */
const MARKED_SPACES = 'spaces2.';

/** A nonce for a new workspace's root (`create`): its spaces take marked ids only. */
export function newWorkspaceNonce(): string {
	return MARKED_SPACES + newTeamNonce();
}

/**
 * Whether the workspace whose root carries `rootNonce` takes marked space ids only. One made
 * before (with another nonce) also takes the legacy ones, so its spaces stay spaces; there a
 * member with a modified client can still claim, as a space, a public channel she listed
 * under a legacy space id of her own (README).
 */
export function marksSpaceIds(rootNonce: string): boolean {
	return rootNonce.startsWith(MARKED_SPACES);
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

/**
 * A new private space's id and the nonce its `space` operation carries: marked, or of the
 * legacy form when `legacy` (in a workspace made before marked ids, so that devices not yet
 * updated there still see the space: team `legacySpaceIds`).
 */
export function newSpaceId(workspaceId: string, creator: string, legacy = false): { space: string; nonce: string } {
	const nonce = newTeamNonce();
	return { space: (legacy ? legacySpaceId : teamSpaceId)(workspaceId, creator, nonce), nonce };
}

/** The roster document of a workspace with a signed team: derived from its id, so a joiner knows it before anything arrives. */
export function teamRosterId(workspaceId: string): string {
	return base32(sha256(utf8.encode(`outpost/roster/1\n${workspaceId}`)).slice(0, 16));
}
