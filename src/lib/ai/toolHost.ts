/**
 * The tool host: serves a peer's shared tools (the relay's MCP servers) to workspace members
 * over `/outpost/tools/1.0.0` (toolProtocol.ts, PROTOCOL.md "Tools on the mesh"), as the model
 * host serves models:
 *
 * - **Members only.** Each stream starts with the membership exchange (streamMembership.ts):
 *   nothing is listed or run for a peer that has not proved, on that stream, that it holds the
 *   workspace's keys, and that the team counts (`isAllowed`, or a tab's delegation: `admits`).
 * - **Per-tool rules, on the host.** `mayUse` (the team's tool-access rule for the role of the
 *   asker's member) filters the list and is asked again for every call: a rule the asker's
 *   app alone enforced would be no rule.
 * - **Bounded.** At most `maxCallsPerPeer` calls of one asking member of a workspace (its
 *   devices and tabs together) run at once (each can hold a server for its time limit); beyond,
 *   ERROR busy. The relay counts them in {@link ToolCallSlots} it shares with `/api/tools`, so
 *   HTTP and the mesh together stay within that. A call is cancelled when its asker goes away
 *   (closes or resets the stream).
 * - **Access that ends.** With `watch`, a running call is checked again (`mayUse`) after every
 *   change of the asker's team, and stopped when it is refused (the asker removed, demoted below
 *   the tool's rule, or its device removed): its slot is freed at once and the asker, if still
 *   there, gets ERROR not-allowed (toolAccessWatch.ts).
 */
import type { Connection, Libp2p } from '@libp2p/interface';
import { DEFAULT_LIMITS } from '../mesh/constants.js';
import { handleFrames, type FrameStream } from '../mesh/frameStream.js';
import { proveAsker, type Asker, type ProveAskerInit } from '../mesh/streamMembership.js';
import { UnprovenBudget } from '../mesh/unprovenBudget.js';
import type { WorkspaceKeys } from '../mesh/workspaceKeys.js';
import { askerDevice } from './hostAccess.js';
import { abortWhenAccessEnds, ToolAccessEndedError } from './toolAccessWatch.js';
import { decodeToolRequest, encodeToolMessage, resultAnswer, TOOLS_PROTOCOL_ID, ToolWireLimits, type ToolAnswer, type ToolRequest } from './toolProtocol.js';
import type { ToolResult, ToolSpec } from './tools/types.js';

/** Calls one asking member (its devices together, with `memberOf`) may have running at once, by default. */
export const MAX_CALLS_PER_PEER = 4;

/**
 * The running calls of each member of each workspace, shared by every way a host runs tools for
 * members: the relay gives one to its mesh host and to `/api/tools` (relay/run.ts), so a member
 * holds at most `max` calls on its MCP servers whichever way it asks (each way counting alone
 * let it hold twice as many: found in review).
 */
export class ToolCallSlots {
	private readonly running = new Map<string, number>();

	constructor(readonly max: number = MAX_CALLS_PER_PEER) {}

	/** Takes a slot of `member` in `workspaceId`; false (nothing taken) when it holds `max` already. */
	take(workspaceId: string, member: string): boolean {
		const key = `${workspaceId}\n${member}`;
		const mine = this.running.get(key) ?? 0;
		if (mine >= this.max) return false;
		this.running.set(key, mine + 1);
		return true;
	}

	/** Gives back a slot {@link take} took. */
	release(workspaceId: string, member: string): void {
		const key = `${workspaceId}\n${member}`;
		const left = (this.running.get(key) ?? 1) - 1;
		if (left > 0) this.running.set(key, left);
		else this.running.delete(key);
	}

	/** Calls `member` of `workspaceId` has running. */
	count(workspaceId: string, member: string): number {
		return this.running.get(`${workspaceId}\n${member}`) ?? 0;
	}
}

/** Options of {@link ToolHost}. */
export interface ToolHostInit extends Pick<ProveAskerInit, 'isAllowed' | 'admits'> {
	/** The tools on offer now. */
	tools(): ToolSpec[];
	/** Runs one; throws what the tool's server threw (its message reaches the asker). */
	call(tool: string, args: Record<string, unknown>, signal: AbortSignal): Promise<ToolResult>;
	/** Whether `asker` may use `tool` (the team's rule for its member's role). */
	mayUse(asker: Asker, tool: string): boolean | Promise<boolean>;
	/** Default {@link MAX_CALLS_PER_PEER}; unused with `slots` (they have their own). */
	maxCallsPerPeer?: number;
	/** Where running calls are counted; default slots of this host's own. Share them with every other way the same tools are run. */
	slots?: ToolCallSlots;
	/**
	 * Calls `changed` after every change of `asker`'s team (hostAccess.ts `teamToolAccess`);
	 * returns the unsubscribe. A running call is asked `mayUse` again then, and stopped when
	 * refused. Without it a call runs to its end whatever changes.
	 */
	watch?: (asker: Asker, changed: () => void) => () => void;
	/** The member `asker` speaks for (hostAccess.ts `askerMember`): calls are counted per member. Default: per device. */
	memberOf?: (asker: Asker) => Promise<string | undefined>;
	/** Milliseconds for the membership exchange and the request; default 10,000. */
	timeoutMs?: number;
	/** Told about every stream that failed, and every tool call that threw. */
	onError?: (error: Error, peerId: string) => void;
}

/** What the host runs on. */
export interface ToolHostComponents {
	node: Pick<Libp2p, 'peerId' | 'handle' | 'unhandle'>;
	/** The keys of a workspace this peer holds (`MeshService.workspaceKeys`), else undefined. */
	keys: (workspaceId: string) => WorkspaceKeys | undefined;
	/** What askers that proved nothing yet may make this node hold (`MeshService.unproven`). */
	unproven?: UnprovenBudget;
}

/** See the module comment. */
export class ToolHost {
	private started = false;
	/** Calls running, by workspace and asking member (or device, without `memberOf`). */
	private readonly slots: ToolCallSlots;
	private readonly unproven: UnprovenBudget;

	constructor(
		private readonly components: ToolHostComponents,
		private readonly init: ToolHostInit
	) {
		this.unproven = components.unproven ?? new UnprovenBudget();
		this.slots = init.slots ?? new ToolCallSlots(init.maxCallsPerPeer ?? MAX_CALLS_PER_PEER);
	}

	async start(): Promise<void> {
		if (this.started) return;
		await handleFrames(this.components.node, TOOLS_PROTOCOL_ID, (frames, connection) => this.serve(frames, connection), {
			maxFrameBytes: ToolWireLimits.maxAnswerBytes,
			budget: (connection) => this.unproven.forStream(connection.id),
			runOnLimitedConnection: true,
			onError: (error, connection) => this.report(error, connection.remotePeer.toString())
		});
		this.started = true;
	}

	async stop(): Promise<void> {
		if (!this.started) return;
		this.started = false;
		await this.components.node.unhandle(TOOLS_PROTOCOL_ID);
	}

	private async serve(frames: FrameStream, connection: Connection): Promise<void> {
		const peerId = connection.remotePeer.toString();
		const timeoutMs = this.init.timeoutMs ?? DEFAULT_LIMITS.membershipTimeoutMs;
		const { isAllowed, admits } = this.init;
		const asker = await proveAsker(frames, peerId, {
			keys: this.components.keys,
			localPeerId: this.components.node.peerId.toString(),
			timeoutMs,
			onError: (error) => this.report(error, peerId),
			...(isAllowed !== undefined ? { isAllowed } : {}),
			...(admits !== undefined ? { admits } : {})
		});
		if (asker === undefined) return;
		frames.setBudget({ maxFrameBytes: ToolWireLimits.maxRequestBytes }); // proven: a request, no more
		const frame = await frames.read({ signal: AbortSignal.timeout(timeoutMs) });
		if (frame === null) return;
		const request = decodeToolRequest(frame);
		const answer = await this.answer(asker, request, frames);
		if (answer !== undefined) await frames.write(encodeToolMessage(answer));
	}

	private async answer(asker: Asker, request: ToolRequest, frames: FrameStream): Promise<ToolAnswer | undefined> {
		if (request.workspaceId !== asker.workspaceId) return { type: 'error', problem: 'failed', message: 'The request names another workspace than its proof.' };
		if (request.type === 'list') {
			const tools: ToolSpec[] = [];
			for (const tool of this.init.tools()) if (await this.init.mayUse(asker, tool.name)) tools.push(tool);
			return { type: 'tools', tools };
		}
		const { tool } = request;
		if (!this.init.tools().some((t) => t.name === tool)) return { type: 'error', problem: 'unknown-tool', message: `This peer offers no tool "${tool}" now (its server may be down).` };
		if (!(await this.init.mayUse(asker, tool)))
			return { type: 'error', problem: 'not-allowed', message: `Your role in this workspace may not use the tool "${tool}": an owner or admin can allow it under Members → Tools.` };
		// Counted per member of the workspace: its devices, and tabs (or a modified client's throwaway keys) with a
		// delegation, together; a member may invite devices of its own (found in review).
		const device = (await this.init.memberOf?.(asker)) ?? (await askerDevice(asker)) ?? asker.peerId;
		const workspaceId = asker.workspaceId;
		if (!this.slots.take(workspaceId, device))
			return {
				type: 'error',
				problem: 'busy',
				message: `You already have ${this.slots.count(workspaceId, device)} tool calls running here (your devices together): wait for one to finish.`
			};
		// The asker going away (closing or resetting its end) cancels the call, as does its access ending.
		const controller = new AbortController();
		const gone = () => controller.abort(new Error('the asker went away'));
		frames.stream.addEventListener('close', gone, { once: true });
		void frames.read().then(gone, gone);
		const { watch, mayUse } = this.init;
		const unwatch = watch === undefined ? undefined : abortWhenAccessEnds((changed) => watch(asker, changed), () => mayUse(asker, tool), controller, tool);
		try {
			return resultAnswer(await this.init.call(tool, request.arguments, controller.signal));
		} catch (error) {
			const reason: unknown = controller.signal.reason;
			if (reason instanceof ToolAccessEndedError) return { type: 'error', problem: 'not-allowed', message: reason.message.slice(0, ToolWireLimits.maxMessage) };
			if (controller.signal.aborted) return undefined;
			const e = error instanceof Error ? error : new Error(String(error));
			this.report(e, asker.peerId);
			return { type: 'error', problem: 'failed', message: e.message.slice(0, ToolWireLimits.maxMessage) };
		} finally {
			unwatch?.();
			frames.stream.removeEventListener('close', gone);
			this.slots.release(workspaceId, device);
		}
	}

	private report(error: Error, peerId: string): void {
		if (this.init.onError) this.init.onError(error, peerId);
		else console.warn('tool host:', peerId, error.message);
	}
}
