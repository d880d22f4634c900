/**
 * The relay's MCP servers' tools, offered to the members of the workspaces it archives
 * (issue 15), under `/api/tools`:
 *
 * - `GET /api/tools?workspace=<id>` → 200 `{tools: [{name, description, parameters}], servers:
 *   [{name, state, error?, tools}]}`: the tools the signer's role may use (the team's
 *   `tool-access` rule, doc/team/toolAccess.ts), and how each server is doing.
 * - `POST /api/tools/call` with `{"workspace": "<id>", "tool": "<server.tool>", "arguments":
 *   {…}}` → 200 `{content, isError}`: the tool's result.
 *
 * Every call is signed (signedRequests.ts) by a current device of a member of a workspace the
 * relay archives (a list for anyone else is empty, as it is when the relay runs no MCP
 * servers), and the host (this relay) checks the member's role against the tool's rule
 * at every call: a rule the browser alone enforced would be no rule. The relay's tools are
 * never offered through `/v1` (openai.ts). Errors are `{error: "<what happened>"}`: 400 a bad
 * request or arguments, 401 a bad signature, 403 a call by a non-member (or of a workspace
 * not archived here: one answer for both) or by a role the tool's rule leaves out, 404 no such tool,
 * 403 a request signed for another relay,
 * 413 a body over {@link MAX_TOOLS_BODY_BYTES}, 429 a member with {@link MAX_CALLS_PER_MEMBER}
 * calls already running on its devices together, here and on the mesh (each can hold a server
 * for its time limit),
 * 502 the MCP server is down or failed, 503 it runs as many calls as it takes at once
 * (McpServer.ts `MAX_RUNNING_CALLS`), 504 it did not answer in time.
 *
 * A running call is checked again after every change of the team the relay folds, and stopped
 * when the rule no longer lets the signer use the tool (its member removed or demoted, its
 * device removed): the server's call is cancelled, the member's slot freed, and the caller, if
 * still connected, gets 403 (ai/toolAccessWatch.ts).
 */
import type { IncomingMessage } from 'node:http';
import { ToolCallSlots } from '../../src/lib/ai/toolHost.ts';
import { isId } from '../../src/lib/doc/ids.ts';
import { roleMayUseTool } from '../../src/lib/doc/team/toolAccess.ts';
import { abortWhenAccessEnds } from '../../src/lib/ai/toolAccessWatch.ts';
import type { TeamAuthority } from '../../src/lib/core/TeamAuthority.ts';
import { TOOLS_PATH } from '../../src/lib/mesh/signedRequest.ts';
import { dropBody, readBoundedBody } from '../body.ts';
import { bodyField, HttpError, parseJsonBody, sendJson } from '../json.ts';
import type { McpHub, McpServerStatus } from '../mcp/McpHub.ts';
import { TeamRole } from '../../src/lib/doc/team/ops.ts';
import { claimBeforeBody, verifyClaim } from '../signedRequests.ts';
import type { RequestHandler } from '../static.ts';
import type { Challenges } from './challenges.ts';

/** Largest request body: the arguments of one call. */
export const MAX_TOOLS_BODY_BYTES = 128 * 1024;

/**
 * Calls one member may have running at once, its devices together (each call can hold a server
 * for its time limit). Counted per member, not per device: a member may invite devices of its
 * own, and did multiply its share so (found in review).
 */
export const MAX_CALLS_PER_MEMBER = 4;

/** Options of {@link createToolsApiHandler}. */
export interface ToolsApiInit {
	/** The MCP servers; none: the list is empty and calls get 404. */
	hub?: Pick<McpHub, 'tools' | 'call' | 'status'>;
	/** The team of each workspace the relay keeps (its archive's), watched while a member's call runs. */
	teams: (workspaceId: string) => Pick<TeamAuthority, 'roleOf' | 'team' | 'onChange'> | undefined;
	/** Whether the operator shares the relay's tools with a workspace (run.ts `serveWorkspaces`); default: every one. */
	serves?: (workspaceId: string) => boolean;
	challenges: Challenges;
	/** This relay's peer id: signed requests must name it (signedRequests.ts; 403 otherwise). */
	relayId: string;
	/** Calls one member may have running at once; default {@link MAX_CALLS_PER_MEMBER}. Unused with `slots`. */
	maxCallsPerMember?: number;
	/**
	 * Where running calls are counted: the relay shares them with its mesh tool host
	 * (relayTools.ts), so a member's calls over HTTP and over the mesh count together.
	 * Default: slots of this handler's own.
	 */
	slots?: ToolCallSlots;
	onError?: (error: unknown) => void;
}

/** Creates the handler of `/api/tools…`; see the module comment. */
export function createToolsApiHandler(init: ToolsApiInit): RequestHandler {
	const onError = init.onError ?? ((error: unknown) => console.error('relay /api/tools:', error));
	/** Calls running, by workspace and member (of the signing device). */
	const slots = init.slots ?? new ToolCallSlots(init.maxCallsPerMember ?? MAX_CALLS_PER_MEMBER);
	return async (req, res) => {
		try {
			const url = new URL(req.url ?? '/', 'http://relay');
			const method = req.method ?? 'GET';
			const route = url.pathname === TOOLS_PATH ? 'list' : url.pathname === `${TOOLS_PATH}/call` ? 'call' : undefined;
			if (route === undefined) throw new HttpError(404, `no such API: ${url.pathname}`);
			const allowed = route === 'list' ? 'GET' : 'POST';
			if (method !== allowed) {
				dropBody(req);
				throw new HttpError(405, `use ${allowed} here`, { Allow: allowed });
			}
			// Signed or refused before the body is read: a stranger's body is never held.
			const claim = claimBeforeBody(req, init.challenges, init.relayId, MAX_TOOLS_BODY_BYTES, tooLarge);
			const body = await readBody(req);
			const hub = init.hub;
			// No MCP servers: nothing to list (to anyone) and nothing to call.
			if (hub === undefined) {
				if (route === 'call') throw new HttpError(404, 'this relay runs no MCP servers (its operator adds them with --mcp)');
				sendJson(res, 200, { tools: [], servers: [] });
				return;
			}
			const parsed = route === 'call' ? parseJsonBody(body) : undefined;
			const workspace = route === 'call' ? bodyField(parsed, 'workspace') : url.searchParams.get('workspace');
			if (!isId(workspace)) throw new HttpError(400, 'name the workspace: a workspace id is missing or malformed');
			const signer = await verifyClaim(req, claim, url.pathname + url.search, body);
			const team = init.teams(workspace);
			const role = team?.roleOf(signer);
			if (team === undefined || role === undefined) {
				// A list for a stranger, or of a workspace not kept here, is empty: the same answer for both.
				if (route === 'list') return sendJson(res, 200, { tools: [], servers: [] });
				throw new HttpError(403, 'you are not a member of that workspace on this relay (or it does not keep a copy)');
			}
			if (init.serves?.(workspace) === false) {
				if (route === 'list') return sendJson(res, 200, { tools: [], servers: [] });
				throw new HttpError(403, "this relay's operator does not share its tools with that workspace (it lists the workspaces it serves with --serve-workspace)");
			}
			const may = (tool: string) => roleMayUseTool(team.team, team.roleOf(signer), tool);
			if (route === 'list') {
				const tools = hub.tools().filter((t) => may(t.name));
				sendJson(res, 200, { tools, servers: serversFor(hub.status(), tools, role === TeamRole.owner || role === TeamRole.admin) });
				return;
			}
			const tool = bodyField(parsed, 'tool');
			if (typeof tool !== 'string' || tool.length > 200) throw new HttpError(400, 'name the tool to call');
			if (!hub.tools().some((t) => t.name === tool)) throw new HttpError(404, `no tool "${tool}" on this relay (its server may be down)`);
			if (!may(tool)) throw new HttpError(403, `your role (${role}) may not use the tool "${tool}"; an owner or admin can allow it under Members → Tools`);
			const member = team.team.devices.get(signer) ?? signer;
			if (!slots.take(workspace, member))
				throw new HttpError(429, `you already have ${slots.count(workspace, member)} tool calls running (on your devices together, over HTTP and the mesh): wait for one to finish`, {
					'Retry-After': '5'
				});
			// The client going away cancels the call, as does the signer's access ending while it runs.
			const controller = new AbortController();
			res.once('close', () => {
				if (!res.writableFinished) controller.abort();
			});
			const stillMay = () => {
				const now = init.teams(workspace);
				return now !== undefined && roleMayUseTool(now.team, now.roleOf(signer), tool);
			};
			const unwatch = abortWhenAccessEnds((changed) => team.onChange(changed), stillMay, controller, tool);
			const result = await hub
				.call(tool, bodyField(parsed, 'arguments') ?? {}, controller.signal)
				.catch((error: unknown) => {
					throw asHttp(error);
				})
				.finally(() => {
					unwatch();
					slots.release(workspace, member);
				});
			sendJson(res, 200, { content: result.content, isError: result.isError === true });
		} catch (error) {
			if (res.headersSent || res.destroyed) {
				res.destroy();
				return;
			}
			if (error instanceof HttpError) sendJson(res, error.status, { error: error.message }, error.headers);
			else {
				onError(error);
				sendJson(res, 500, { error: 'the relay could not run the tool; see its log' });
			}
		}
	};
}

/** An MCP hub failure as the HTTP error to answer (mcp/errors.ts, matched by name). */
/**
 * The servers' status as a member sees it: an owner or admin (who sets the tools' rules) every
 * server with why it is down; anyone else only the servers of tools it may use, without the
 * reason, which quotes the server's command, address or last line of output (found in review:
 * a guest, or the owner of a workspace any stranger made, read them all).
 */
function serversFor(status: McpServerStatus[], usable: readonly { name: string }[], manages: boolean): McpServerStatus[] {
	if (manages) return status;
	const servers = new Set(usable.map((t) => t.name.split('.', 1)[0]));
	return status.filter((s) => servers.has(s.name)).map(({ name, state, tools }) => ({ name, state, tools }));
}

function asHttp(error: unknown): unknown {
	if (!(error instanceof Error)) return error;
	switch (error.name) {
		case 'McpToolNotFoundError':
			return new HttpError(404, error.message);
		case 'McpArgumentsError':
			return new HttpError(400, error.message);
		case 'ToolAccessEndedError':
			return new HttpError(403, error.message);
		case 'McpTimeoutError':
			return new HttpError(504, error.message);
		case 'McpBusyError':
			return new HttpError(503, error.message, { 'Retry-After': '5' });
		case 'McpServerDownError':
		case 'McpCallError':
			return new HttpError(502, error.message);
		default:
			return error;
	}
}



function tooLarge(): HttpError {
	return new HttpError(413, `the request body is over ${MAX_TOOLS_BODY_BYTES} bytes`);
}

function readBody(req: IncomingMessage): Promise<string> {
	return readBoundedBody(req, {
		maxBytes: MAX_TOOLS_BODY_BYTES,
		tooLarge,
		cutOff: () => new HttpError(400, 'the request body was cut off')
	});
}
