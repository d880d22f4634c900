/**
 * The relay's shared tools (its MCP servers', relay/ai/toolsApi.ts) as the app's tool loop
 * uses them: listed for this member (the relay leaves out what the member's role may not
 * use) and called with requests signed by this device. Every shared tool is taken to change
 * something (a server's tool could do anything), so each call asks the user first.
 */
import type { RunnableTool } from '../ai/tools/toolLoop.js';
import { checkTools } from '../ai/tools/toolWire.js';
import type { ToolResult } from '../ai/tools/types.js';
import { pageOrigin, RelayApiError, signedCall, type Signer } from './relayHttp.js';
import { RELAY_CHALLENGE_PATH, TOOLS_PATH } from './signedRequest.js';

/** Longest a shared tool may take, as the app waits (the relay's own limit is 30 s). */
export const RELAY_TOOL_TIMEOUT_MS = 45_000;

/** The relay's tools this member may use, ready for the tool loop; none when the relay has none (or is unreachable). */
export async function relayTools(signer: Signer, origin: string, workspaceId: string): Promise<RunnableTool[]> {
	let answer: object;
	try {
		answer = await signedCall(signer, origin, 'GET', `${TOOLS_PATH}?workspace=${encodeURIComponent(workspaceId)}`);
	} catch (error) {
		// No MCP servers (404), not archived there (403), or no relay: no shared tools.
		if (error instanceof RelayApiError || error instanceof TypeError || (error instanceof Error && error.name === 'TimeoutError')) return [];
		throw error;
	}
	const specs = checkTools((answer as { tools?: unknown }).tools ?? [], (why) => new RelayApiError(`the relay listed malformed tools: ${why}`, 502));
	return specs.map((spec) => ({
		spec,
		mutates: true,
		run: (args, signal) => callRelayTool(signer, origin, workspaceId, spec.name, args, signal)
	}));
}

/** The shared tools of the relay that served the app, for this device (`signer`); none outside a page the relay served. */
export async function servingRelayTools(signer: Signer, workspaceId: string): Promise<RunnableTool[]> {
	const origin = pageOrigin();
	return origin ? relayTools(signer, origin, workspaceId) : [];
}

/**
 * Calls one shared tool; a refusal or failure comes back as an error result the model sees.
 * `signal` (the tool loop's: the user stopped the answer) aborts the request, and the relay,
 * seeing its client go, cancels the call and frees the member's call slot (toolsApi.ts);
 * the call then rejects with the signal's reason.
 */
export async function callRelayTool(
	signer: Signer,
	origin: string,
	workspaceId: string,
	tool: string,
	args: Record<string, unknown>,
	signal?: AbortSignal
): Promise<ToolResult> {
	try {
		const body = JSON.stringify({ workspace: workspaceId, tool, arguments: args });
		const answer = (await signedCall(signer, origin, 'POST', `${TOOLS_PATH}/call`, body, RELAY_CHALLENGE_PATH, RELAY_TOOL_TIMEOUT_MS, signal)) as { content?: unknown; isError?: unknown };
		return { content: typeof answer.content === 'string' ? answer.content : '', isError: answer.isError === true };
	} catch (error) {
		if (error instanceof RelayApiError) return { content: error.message, isError: true };
		throw error;
	}
}
