/**
 * Per-role model access, as the team folds it: an admin's `model-access` operation names the
 * roles that may use one shared model (by the id its host advertises). A model with no rule
 * is open to owners, admins, members and the relay (which asks on behalf of `/v1` keys, each
 * checked on the relay by its maker's role); guests use no model unless a rule names them. Every
 * host (a browser serving the mesh, the relay's models and its `/v1`) asks this before it
 * runs a request, with the role of the member the request comes from.
 */
import { TeamRole } from './ops.js';
import type { Team } from './teamTypes.js';

/** Roles that may use a model no rule names. */
export const DEFAULT_MODEL_ROLES: ReadonlySet<TeamRole> = new Set([TeamRole.owner, TeamRole.admin, TeamRole.member, TeamRole.relay]);

/** The roles that may use model `model`. */
export function modelRoles(team: Team, model: string): ReadonlySet<TeamRole> {
	return team.modelAccess.get(model) ?? DEFAULT_MODEL_ROLES;
}

/** Whether a member with `role` (undefined: not a member) may use model `model`. */
export function roleMayUseModel(team: Team, role: TeamRole | undefined, model: string): boolean {
	return role !== undefined && modelRoles(team, model).has(role);
}
