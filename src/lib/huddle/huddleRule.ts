/**
 * The team's rule for huddles, asked by the signalling on both sides of every call: a device
 * may be in a channel's huddle when it is a current member device of the workspace (or a tab
 * one delegated to) and may hold the channel's document: a private channel's or direct
 * conversation's only its members' devices (TeamGate.mayShare, the rule sync applies). A tab
 * counts once its delegation admitted it here (on a sync or model stream), as sync and models
 * admit it (PROTOCOL.md "Membership", tab delegations). Awareness
 * says who is in a huddle, but it is unsigned: it is only ever a hint of whom to call.
 */
import type { MeshAuthority } from '../mesh/authority.js';
import type { SyncDocs } from '../mesh/syncDocs.js';
import { TeamGate } from '../mesh/teamGate.js';

/** What the rule needs of an open workspace. */
export interface HuddleWorkspace {
	authority: MeshAuthority;
	docs: SyncDocs;
}

/**
 * The member device `peerId` is, or speaks for (a tab its delegation admitted here); undefined
 * for anyone else. What the signalling counts calls by (joinBucket.ts): a device may delegate to
 * any number of throwaway tab keys, so counted per key its calls were not bounded (found in review).
 */
export function huddleDevice(workspace: HuddleWorkspace | undefined, peerId: string): string | undefined {
	const authority = workspace?.authority;
	if (authority === undefined) return undefined;
	return authority.isMember(peerId) ? peerId : authority.deviceOf?.(peerId);
}

/** Whether `peerId` may be in a huddle of `channelId` of `workspace` (undefined: not open here). */
export function mayHuddle(workspace: HuddleWorkspace | undefined, channelId: string, peerId: string): boolean {
	if (workspace === undefined) return false;
	const { authority, docs } = workspace;
	if (authority.excluded || !authority.joined) return false;
	const device = huddleDevice(workspace, peerId);
	if (device === undefined || !authority.isMember(device)) return false;
	return new TeamGate(authority).mayShare(peerId, channelId, docs);
}
