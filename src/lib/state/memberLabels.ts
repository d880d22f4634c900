/**
 * The name a device is shown with, from the folded team alone, so every view (TeamState, for
 * the UI) and every other reader (the AI's workspace tools, which name message authors to a
 * model) shows the same one: the member's name on one line, without bidi controls or
 * invisible characters (found in review: an RLO in a name reversed the text after it on its
 * line), or its id's tail when it has none; and, when it looks like another current member's,
 * with its id's tail added (nameSkeleton.ts says when, and why for every one of them).
 */
import type { Team } from '../doc/team/fold.js';
import { MAX_TEAM_NAME } from '../doc/team/ops.js';
import { oneLineLabel } from '../markdown/invisible.js';
import { distinctLabels, nameSkeleton, removedLabel } from './nameSkeleton.js';

/** A member's name on one line, or its id's tail when it has none (before any suffix). */
export function baseLabel(member: { id: string; name: string }): string {
	return oneLineLabel(member.name, MAX_TEAM_NAME) || `…${member.id.slice(-6)}`;
}

/** Shown names of current members by member id, and their skeletons; worked out once per folded team (a fold makes a new one). */
const cache = new WeakMap<Team, { labels: Map<string, string>; skeletons: Set<string> }>();

function labelsOf(team: Team): { labels: Map<string, string>; skeletons: Set<string> } {
	let found = cache.get(team);
	if (!found) {
		const labels = distinctLabels([...team.members.values()].map((m) => ({ id: m.id, label: baseLabel(m) })));
		found = { labels, skeletons: new Set([...labels.values()].map(nameSkeleton)) };
		cache.set(team, found);
	}
	return found;
}

/**
 * The name device `peerId` is shown with: its member's (current or removed; a removed one's
 * gets its id's tail when it looks like a current member's, never the other way round), or
 * the peer id's tail for a device the team does not name.
 */
export function memberLabel(team: Team, peerId: string): string {
	const { labels, skeletons } = labelsOf(team);
	const id = team.devices.get(peerId) ?? peerId;
	const current = team.members.get(id);
	if (current) return labels.get(current.id) ?? baseLabel(current);
	const removed = team.removed.get(id) ?? [...team.removed.values()].find((m) => m.devices.includes(peerId));
	if (removed) return removedLabel({ id: removed.id, label: baseLabel(removed) }, skeletons);
	return `…${peerId.slice(-6)}`;
}
