/**
 * Per-role tool access, as the team folds it: an admin's `tool-access` operation names the
 * roles that may use one shared tool (an MCP server's tool on the relay, by its advertised
 * `server.tool` name). A tool with no rule is open to owners, admins and members; guests and
 * the relay's own role use none unless a rule names them. The host that runs the tool (the
 * relay) asks this before every call, with the role of the member the call comes from;
 * browsers ask it only to leave out of the chat the tools their member may not use.
 */
import { TeamRole } from './ops.js';
import type { Team } from './teamTypes.js';

/** Roles that may use a tool no rule names. */
export const DEFAULT_TOOL_ROLES: ReadonlySet<TeamRole> = new Set([TeamRole.owner, TeamRole.admin, TeamRole.member]);

/** The roles that may use tool `tool`. */
export function toolRoles(team: Team, tool: string): ReadonlySet<TeamRole> {
	return team.toolAccess.get(tool) ?? DEFAULT_TOOL_ROLES;
}

/** Whether a member with `role` (undefined: not a member) may use tool `tool`. */
export function roleMayUseTool(team: Team, role: TeamRole | undefined, tool: string): boolean {
	return role !== undefined && toolRoles(team, tool).has(role);
}
