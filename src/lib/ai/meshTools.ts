/**
 * The asker's side of `/outpost/tools/1.0.0` (toolProtocol.ts): the shared tools of the peers
 * that advertise some (a relay's MCP servers, adverts.ts `tools`), listed for this member and
 * ready for the tool loop. Each list and each call opens its own stream with the membership
 * exchange, as a model request does; a peer that cannot be reached or refuses lists nothing.
 * Every shared tool is taken to change something (a server's tool could do anything), so each
 * call asks the user first.
 */
import type { Libp2p, PeerId } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { TeamRole } from '../doc/team/ops.js';
import { DEFAULT_LIMITS } from '../mesh/constants.js';
import { frameStream } from '../mesh/frameStream.js';
import { proveToHost } from '../mesh/streamMembership.js';
import { closeGracefully } from '../mesh/syncStream.js';
import { UnprovenBudget } from '../mesh/unprovenBudget.js';
import type { WorkspaceKeys } from '../mesh/workspaceKeys.js';
import { decodeToolAnswer, encodeToolMessage, TOOLS_PROTOCOL_ID, ToolWireLimits, type ToolAnswer, type ToolRequest } from './toolProtocol.js';
import type { RunnableTool } from './tools/toolLoop.js';
import type { ToolResult } from './tools/types.js';

/** How this device reaches tool hosts in one workspace. */
export interface MeshToolsInit {
	node: Pick<Libp2p, 'peerId' | 'dialProtocol'>;
	keys: WorkspaceKeys;
	/** What this node shows in HELLO as its admission (a tab's delegation). */
	admission?: () => Uint8Array | undefined | Promise<Uint8Array | undefined>;
	/** What a host that has proved nothing yet may make this node hold. */
	unproven?: UnprovenBudget;
	/** Milliseconds for dialling, the membership exchange and a list; default 10,000. */
	timeoutMs?: number;
}

/** Longest a shared tool's call is waited for (the relay's own limit is 30 s). */
export const MESH_TOOL_TIMEOUT_MS = 45_000;

/** A host refused a request, or answered what was not asked; the message says why. */
export class MeshToolError extends Error {
	override name = 'MeshToolError';
}

/**
 * The peers this device asks for shared tools: those whose adverts say they share some and
 * whom the team counts as a relay (the relays run the MCP servers). A member's device that
 * advertises tools is not asked: a modified client would otherwise put tools (and the
 * descriptions the model reads) of its own making into every member's chats.
 */
export function toolHostsOf(advertised: readonly string[], roleOf: (peerId: string) => TeamRole | undefined): PeerId[] {
	return advertised.flatMap((peer) => {
		if (roleOf(peer) !== TeamRole.relay) return [];
		try {
			return [peerIdFromString(peer)];
		} catch {
			return [];
		}
	});
}

/** The tools `host` shares with this member (none when it refuses or cannot be reached: see the module comment). */
export async function listMeshTools(init: MeshToolsInit, host: PeerId): Promise<RunnableTool[]> {
	let answer: ToolAnswer;
	try {
		answer = await ask(init, host, { type: 'list', workspaceId: init.keys.workspaceId }, init.timeoutMs ?? DEFAULT_LIMITS.membershipTimeoutMs);
	} catch {
		return [];
	}
	if (answer.type !== 'tools') return [];
	return answer.tools.map((spec) => ({ spec, mutates: true, run: (args, signal) => callMeshTool(init, host, spec.name, args, signal) }));
}

/** Runs `tool` on `host`; a refusal or failure comes back as an error result the model sees. */
export async function callMeshTool(init: MeshToolsInit, host: PeerId, tool: string, args: Record<string, unknown>, signal?: AbortSignal): Promise<ToolResult> {
	try {
		const answer = await ask(init, host, { type: 'call', workspaceId: init.keys.workspaceId, tool, arguments: args }, MESH_TOOL_TIMEOUT_MS, signal);
		if (answer.type === 'result') return { content: answer.content, ...(answer.isError ? { isError: true } : {}) };
		if (answer.type === 'error') return { content: answer.message, isError: true };
		return { content: 'The peer answered something other than a result.', isError: true };
	} catch (error) {
		if (signal?.aborted) throw signal.reason;
		return { content: `The tool could not be run on the peer that shares it: ${error instanceof Error ? error.message : String(error)}`, isError: true };
	}
}

/** One request on its own stream: the membership exchange, the request, its answer. */
async function ask(init: MeshToolsInit, host: PeerId, request: ToolRequest, timeoutMs: number, signal?: AbortSignal): Promise<ToolAnswer> {
	const timeout = AbortSignal.timeout(timeoutMs);
	const both = signal ? AbortSignal.any([signal, timeout]) : timeout;
	const stream = await init.node.dialProtocol(host, TOOLS_PROTOCOL_ID, { signal: both, runOnLimitedConnection: true });
	// Until the host proves itself a member, what it sends is held to the unproven budget.
	const budget = (init.unproven ?? new UnprovenBudget()).forStream(`tools-asker:${host.toString()}`);
	const frames = frameStream(stream, { maxFrameBytes: ToolWireLimits.maxAnswerBytes, budget });
	try {
		const admission = await init.admission?.();
		const proof = {
			keys: init.keys,
			localPeerId: init.node.peerId.toString(),
			hostPeerId: host.toString(),
			timeoutMs: init.timeoutMs ?? DEFAULT_LIMITS.membershipTimeoutMs,
			...(admission !== undefined ? { admission } : {})
		};
		await proveToHost(frames, proof, encodeToolMessage(request), () => frames.setBudget(undefined));
		const frame = await frames.read({ signal: both });
		if (frame === null) throw new MeshToolError('the peer closed the stream without an answer');
		return decodeToolAnswer(frame, request.type);
	} catch (error) {
		frames.abort(error instanceof Error ? error : new Error(String(error)));
		throw error;
	} finally {
		closeGracefully(frames);
	}
}
