/**
 * The team of a roster document, read once: every operation decoded, its signature checked,
 * and the whole folded. For one-off readers (export); live replicas use the workspace
 * core's TeamAuthority, which checks each signature only once.
 */
import type * as Y from 'yjs';
import { foldTeam, type Team } from './fold.js';
import { verifyTeamOp } from './sign.js';
import { readTeamOps } from './TeamDoc.js';

/** The folded team of `doc` (the roster of `workspaceId`). */
export async function readTeam(workspaceId: string, doc: Y.Doc): Promise<Team> {
	const { ops } = readTeamOps(doc);
	const valid = await Promise.all(ops.map((op) => verifyTeamOp(op)));
	return foldTeam(workspaceId, ops.filter((_, i) => valid[i]));
}

/** The display name of a device in `team`: its member's name (removed members too), else undefined. */
export function teamName(team: Team, peerId: string): string | undefined {
	const id = team.devices.get(peerId);
	const current = id === undefined ? undefined : team.members.get(id);
	if (current) return current.name || undefined;
	for (const removed of team.removed.values()) if (removed.devices.includes(peerId)) return removed.name || undefined;
	return undefined;
}
