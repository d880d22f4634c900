/**
 * Whom a model host serves, as the workspace's team says (PROTOCOL.md "Models on the mesh"):
 *
 * - **Membership**, per stream: a current member device, or a tab of one (a second browser
 *   tab runs its node with a throwaway key and shows its device's signed delegation in its
 *   HELLO: doc/team/delegation.ts). A joiner whose admission this host has not folded yet is
 *   not served: it has no role to use a model with.
 * - **Model access**, per REQUEST: the team's `model-access` rule for the role of the member
 *   the asker speaks for (a tab: its delegating device's member), doc/team/modelAccess.ts.
 * - **Where answers go**, per REQUEST with a target: only into a document the asker's device may
 *   read and post in, and only into an entry started for the asker (targetAccess.ts).
 *
 * The browser's host (state/MeshModels.ts) and the relay's (relay/ai/relayModels.ts) build
 * their checks here from each workspace's TeamAuthority, so both decide alike, from the
 * signed operations they folded themselves.
 */
import { readDelegation } from '../doc/team/delegation.js';
import { roleMayUseModel } from '../doc/team/modelAccess.js';
import { roleMayUseTool } from '../doc/team/toolAccess.js';
import type { TeamRole } from '../doc/team/ops.js';
import type { Team } from '../doc/team/teamTypes.js';
import * as Y from 'yjs';
import { WorkspaceDoc } from '../doc/WorkspaceDoc.js';
import type { AdmitVerdict } from '../mesh/authority.js';
import { EMPTY_STATE_VECTOR, type SyncDocs } from '../mesh/syncDocs.js';
import type { AnswerTarget } from './engine.js';
import type { Asker, LlmHostInit } from './llmHost.js';
import { documentRefusal, type TargetRefusal, type TargetTeam } from './targetAccess.js';

/** The team's answers a host needs (a TeamAuthority gives them). */
export interface HostTeam extends TargetTeam {
	isMember(peerId: string): boolean;
	admits(peerId: string, admission: Uint8Array): Promise<AdmitVerdict>;
	/** Resolves once every change of the team received so far is folded. */
	settled?(): Promise<void>;
	/** Calls `handler` after every change of the team it folds; returns the unsubscribe (TeamAuthority has it). */
	onChange?(handler: () => void): () => void;
}

/**
 * Whether a model advert from `peerId` is taken: a member device of any role but guest. A guest
 * uses no model, and a guest's device advertising a member's model id would be sent the
 * members' questions (found in review, first on the relay's `/v1`, then in the browser).
 */
export function takesAdvertsFrom(team: Pick<HostTeam, 'isMember' | 'roleOf'> | undefined, peerId: string): boolean {
	const role = team?.isMember(peerId) === true ? team.roleOf(peerId) : undefined;
	return role !== undefined && role !== 'guest';
}

/** The checks {@link teamToolAccess} gives a tool host. */
export type HostAccess = Required<Pick<LlmHostInit, 'isAllowed' | 'admits' | 'mayUse' | 'memberOf'>>;

/** The checks {@link teamHostAccess} gives an {@link LlmHostInit}: a tool host's, where answers may be written, and a watch on the asker's team. */
export type ModelHostAccess = HostAccess & Required<Pick<LlmHostInit, 'writeRefusal' | 'watch'>>;

/**
 * The role of the member `asker` speaks for: its own device's, or (a tab) the device's whose
 * unexpired delegation for this workspace and this tab its HELLO carried; undefined for
 * anyone else. Never throws.
 */
export async function askerRole(team: Pick<HostTeam, 'roleOf'>, asker: Asker, now: number = Date.now()): Promise<TeamRole | undefined> {
	const own = team.roleOf(asker.peerId);
	if (own !== undefined) return own;
	const device = await askerDevice(asker, now);
	return device === undefined ? undefined : team.roleOf(device);
}

/**
 * The device `asker` speaks for: itself, or (a tab) the device whose unexpired delegation for
 * this workspace and this tab its HELLO carried; undefined for a delegation that does not hold.
 * What a host counts per device (running calls) it counts here, so a member cannot multiply its
 * share by minting delegations to throwaway keys. Never throws.
 */
export async function askerDevice(asker: Asker, now: number = Date.now()): Promise<string | undefined> {
	if (asker.admission.length === 0) return asker.peerId;
	const d = await readDelegation(asker.admission);
	if (d === undefined || d.tab !== asker.peerId || d.ws !== asker.workspaceId || now > d.expires) return undefined;
	return d.device;
}

/**
 * The member `asker` speaks for (its device's, or its delegating device's), by `team`;
 * undefined for anyone else. What a host bounds per asker it counts per member: a member may
 * invite devices of its own, and multiplied a per-device share so (found in review).
 */
export async function askerMember(team: Pick<HostTeam, 'team'>, asker: Asker, now: number = Date.now()): Promise<string | undefined> {
	const own = team.team.devices.get(asker.peerId);
	if (own !== undefined) return own;
	const device = await askerDevice(asker, now);
	return device === undefined ? undefined : team.team.devices.get(device);
}

/** A host's checks over the team of each workspace (`teamOf`: undefined where this peer holds none); see the module comment. */
export function teamHostAccess(teamOf: (workspaceId: string) => HostTeam | undefined, now: () => number = Date.now): ModelHostAccess {
	return {
		...teamAccess(teamOf, now, roleMayUseModel),
		writeRefusal: (asker, target, docs) => writeRefusal(teamOf(asker.workspaceId), asker, target, docs, now()),
		watch: teamWatch(teamOf)
	};
}

/**
 * Why `asker`'s answer may not be written into `target` (targetAccess.ts `documentRefusal`),
 * by the team as this replica folds it and the workspace root as `docs` holds it.
 */
async function writeRefusal(team: HostTeam | undefined, asker: Asker, target: AnswerTarget, docs: SyncDocs, now: number): Promise<TargetRefusal | undefined> {
	if (team === undefined) return { message: "This model host does not hold this workspace's team.", unknown: false };
	await team.settled?.();
	// A member device's HELLO carries its admission, a tab's its delegation: the device is the member device it speaks for.
	const device = team.isMember(asker.peerId) ? asker.peerId : await askerDevice(asker, now);
	const doc = new Y.Doc();
	try {
		const root = await docs.diff(asker.workspaceId, EMPTY_STATE_VECTOR);
		if (root !== undefined) Y.applyUpdate(doc, root);
		return documentRefusal(new WorkspaceDoc(doc), team, device, target);
	} finally {
		doc.destroy();
	}
}

/** The checks {@link teamToolAccess} gives a tool host: a model host's, and a watch on the asker's team. */
export type ToolHostAccess = HostAccess & { watch: (asker: Asker, changed: () => void) => () => void };

/**
 * The same checks for a tool host (toolHost.ts): per call, the team's `tool-access` rule for the
 * asker's role (doc/team/toolAccess.ts), asked again after every change of the team the host
 * folds while the call runs (`watch`: a member removed or demoted meanwhile has its call stopped).
 */
export function teamToolAccess(teamOf: (workspaceId: string) => HostTeam | undefined, now: () => number = Date.now): ToolHostAccess {
	return {
		...teamAccess(teamOf, now, roleMayUseTool),
		watch: teamWatch(teamOf)
	};
}

/** Calls `changed` after every change the asker's team folds (none where this peer holds no team); returns the unsubscribe. */
function teamWatch(teamOf: (workspaceId: string) => HostTeam | undefined): (asker: Asker, changed: () => void) => () => void {
	return (asker, changed) => teamOf(asker.workspaceId)?.onChange?.(changed) ?? (() => {});
}

function teamAccess(
	teamOf: (workspaceId: string) => HostTeam | undefined,
	now: () => number,
	rule: (team: Team, role: TeamRole | undefined, name: string) => boolean
): HostAccess {
	return {
		isAllowed: (workspaceId, peerId) => teamOf(workspaceId)?.isMember(peerId) ?? false,
		admits: async (workspaceId, peerId, admission) => {
			const team = teamOf(workspaceId);
			if (team === undefined || (await readDelegation(admission)) === undefined) return 'refused';
			return team.admits(peerId, admission);
		},
		mayUse: async (asker, name) => {
			const team = teamOf(asker.workspaceId);
			if (team === undefined) return false;
			return rule(team.team, await askerRole(team, asker, now()), name);
		},
		memberOf: async (asker) => {
			const team = teamOf(asker.workspaceId);
			return team === undefined ? undefined : askerMember(team, asker, now());
		}
	};
}
