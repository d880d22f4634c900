/**
 * Private spaces (private channels and direct conversations) as the team folds them: who may
 * read a document. A space's document is offered, served and accepted only between devices of
 * its members; every other document of the workspace is open to every member device. The
 * answers come from the folded team alone, so the browser and the relay agree.
 */
import type { Team, TeamSpace } from './teamTypes.js';

/** The space whose document `docId` is, if it is one. */
export function spaceOf(team: Team, docId: string): TeamSpace | undefined {
	return team.spaces.get(docId);
}

/** Whether member `memberId` may read (and so write, by its role's rules) document `docId`. */
export function memberMayRead(team: Team, memberId: string | undefined, docId: string): boolean {
	if (memberId === undefined || !team.members.has(memberId)) return false;
	const space = team.spaces.get(docId);
	if (space === undefined) return !team.claimedSpaces.has(docId); // a refused space has no readers
	return space.members.has(memberId);
}

/** Whether the device `peerId` may read document `docId`. */
export function deviceMayRead(team: Team, peerId: string, docId: string): boolean {
	return memberMayRead(team, team.devices.get(peerId), docId);
}

/** The spaces member `memberId` belongs to, oldest first. */
export function spacesOf(team: Team, memberId: string | undefined): TeamSpace[] {
	if (memberId === undefined) return [];
	return [...team.spaces.values()].filter((s) => s.members.has(memberId)).sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
}

/** A direct conversation with exactly these members, if one exists (the oldest). */
export function findDirect(team: Team, members: Iterable<string>): TeamSpace | undefined {
	const wanted = new Set(members);
	return [...team.spaces.values()]
		.filter((s) => s.kind === 'dm' && s.members.size === wanted.size && [...wanted].every((m) => s.members.has(m)))
		.sort((a, b) => a.createdAt - b.createdAt)[0];
}

/**
 * The member that makes the space's new generations: of its members with a current device
 * (and, when `seen` is given, that it says yes to), its creator, else the one with the smallest
 * id (one writer, so members online at once do not each make one; a member whose last device
 * was removed cannot write one). Its devices' key boxes outrank other holders' (fold.ts).
 */
export function spaceKeyMaker(team: Team, space: TeamSpace, seen?: (member: string) => boolean): string | undefined {
	let smallest: string | undefined;
	for (const member of space.members) {
		if ((team.members.get(member)?.devices.length ?? 0) === 0 || (seen !== undefined && !seen(member))) continue;
		if (member === space.creator) return member;
		if (smallest === undefined || member < smallest) smallest = member;
	}
	return smallest;
}

/** Whether `member` makes the space's new generations ({@link spaceKeyMaker}). */
export function makesSpaceKeys(team: Team, space: TeamSpace, member: string): boolean {
	return spaceKeyMaker(team, space) === member;
}
