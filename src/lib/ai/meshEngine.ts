/**
 * The mesh engine: an {@link Engine} whose models run on another peer of the workspace,
 * reached over `/outpost/llm/1.0.0` (llmProtocol.ts; the host is llmHost.ts). Each
 * generation opens one stream to the host (on the existing connection, or dialling), proves
 * membership both ways on it, sends REQUEST right after its proof, and yields the host's
 * CHUNKs and DONE as they arrive.
 *
 * Errors and interruptions, for the UI:
 * - an ERROR from the host becomes a {@link RemoteEngineError} with the host's problem and
 *   message; `busy` carries `retryAfterMs` ("busy, try again in N s");
 * - QUEUED positions ("N ahead of you") go to `onQueued` of {@link MeshGenerateOptions};
 * - if the host goes away mid-answer (it stopped, the connection dropped, the stream was
 *   reset or ended before DONE), the generation fails with a {@link RemoteEngineError} whose
 *   problem is `failed` and `interrupted` is true: the text chunks already yielded are all
 *   of the answer there will be, and the UI should keep them and mark the message
 *   interrupted rather than discard it;
 * - a host that does not accept this peer as a member (or is not one itself) gives
 *   `failed` with the `MembershipDeniedError` as its cause;
 * - a host whose team does not let this member's role use the model gives `not-allowed`.
 *
 * A tab whose node runs with a throwaway key presents its device's delegation (`admission`)
 * in HELLO, so hosts serve it as that device's member.
 *
 * Aborting the signal sends CANCEL and resets the stream (the host stops generating at
 * once) and ends the iterable with the signal's reason.
 *
 * With `options.target` the host writes the answer into that document itself (it keeps
 * going if this peer leaves; only CANCEL stops it); the chunks still arrive here.
 */
import type { Libp2p, PeerId } from '@libp2p/interface';
import { DEFAULT_LIMITS } from '../mesh/constants.js';
import { frameStream, type FrameStream } from '../mesh/frameStream.js';
import { UnprovenBudget } from '../mesh/unprovenBudget.js';
import { proveToHost } from '../mesh/streamMembership.js';
import { closeGracefully } from '../mesh/syncStream.js';
import type { WorkspaceKeys } from '../mesh/workspaceKeys.js';
import type { MeshModel } from './adverts.js';
import {
	EngineError,
	type EngineProblem,
	type AnswerTarget,
	type GenerateChunk,
	type GenerateOptions,
	type GenerateRequest,
	type Engine,
	type ModelInfo
} from './engine.js';
import { LLM_PROTOCOL_ID, LlmLimits, LlmMessageType, decodeLlmMessage, encodeLlmMessage } from './llmProtocol.js';

/** QUEUED frames an asker takes from one host for one request (an honest host's queue holds a few requests). */
const MAX_QUEUED_FRAMES = 64;

/**
 * An {@link EngineError} from a remote host. Its `name` stays `EngineError`, so code that
 * handles engine errors handles these too; the extra fields say more where known.
 */
export class RemoteEngineError extends EngineError {
	constructor(
		problem: EngineProblem,
		message: string,
		/** For `busy`: the host's estimate of when to try again. */
		readonly retryAfterMs?: number,
		/** True when the answer was cut off mid-stream: what arrived is all there is. */
		readonly interrupted = false,
		options?: ErrorOptions
	) {
		super(problem, message, options);
	}
}

/** Options of a {@link MeshEngine}. */
export interface MeshEngineInit {
	/** This peer's libp2p node. */
	node: Pick<Libp2p, 'peerId' | 'dialProtocol'>;
	/** The peer hosting the models. */
	host: PeerId;
	/** Keys of the workspace whose membership opens the host (`MeshService.workspaceKeys`). */
	keys: WorkspaceKeys;
	/** Where the host's models are known from (model adverts); `models()` lists the host's. */
	catalog?: { models(): MeshModel[] };
	/** Milliseconds for dialling and the membership exchange; default 10,000. */
	openTimeoutMs?: number;
	/** What this node shows in HELLO as its admission: a tab's delegation from its device (doc/team/delegation.ts); default none. */
	admission?: () => Uint8Array | undefined | Promise<Uint8Array | undefined>;
	/**
	 * What a host that has proved nothing yet may make this node hold (`MeshService.unproven`,
	 * shared with sync and model hosting); default: a budget of this engine's own.
	 */
	unproven?: UnprovenBudget;
}

/** Per-generation options beyond the {@link Engine} interface. */
export interface MeshGenerateOptions extends GenerateOptions {
	/** The request id sent to the host (logs, usage traces); default a random one. */
	requestId?: string;
}

/** A remote peer's engines as one {@link Engine}; see the module comment. */
export class MeshEngine implements Engine {
	readonly kind = 'mesh' as const;
	readonly writesTargets = true;

	private readonly unproven: UnprovenBudget;

	constructor(private readonly init: MeshEngineInit) {
		this.unproven = init.unproven ?? new UnprovenBudget();
	}

	/** The models adverts say the host serves (engine `mesh`; the name says where). */
	async models(): Promise<ModelInfo[]> {
		const host = this.init.host.toString();
		return (this.init.catalog?.models() ?? [])
			.filter((m) => m.peer === host)
			.map((m) => ({
				id: m.id,
				name: `${m.id} (${m.engine} on ${host.slice(-6)})`,
				engine: this.kind,
				contextLength: m.contextLength,
				...(m.tokensPerSecond !== undefined ? { tokensPerSecond: m.tokensPerSecond } : {})
			}));
	}

	async *generate(request: GenerateRequest, signal?: AbortSignal, options: MeshGenerateOptions = {}): AsyncGenerator<GenerateChunk> {
		signal?.throwIfAborted();
		const frames = await this.open(signal);
		const onAbort = () => {
			// CANCEL first: a host writing into a target document keeps going when the stream just drops.
			void frames
				.write(encodeLlmMessage({ type: LlmMessageType.cancel }))
				.catch(() => {})
				.finally(() => frames.abort(asError(signal?.reason)));
		};
		signal?.addEventListener('abort', onAbort, { once: true });
		let finished = false;
		try {
			try {
				await this.prove(frames, request, options.requestId ?? crypto.randomUUID(), options.target);
			} catch (error) {
				// Let a DENIED this side sent reach the host before the stream ends.
				finished = !signal?.aborted;
				if (finished) closeGracefully(frames);
				throw error;
			}
			// What a host may send is bounded like what it may be sent: a hostile host cannot fill this side's memory.
			let chars = 0;
			let calls = 0;
			/** QUEUED frames so far and the last position: a queue only moves forward (found in review: a host answering QUEUED 1, 2, 1, 2 … made the asker write an update into the shared chat for each). */
			let queuedFrames = 0;
			let lastPosition = Number.POSITIVE_INFINITY;
			while (true) {
				let frame: Uint8Array | null;
				try {
					frame = await frames.read();
				} catch (error) {
					throw interrupted(error);
				}
				if (frame === null) throw interrupted(new Error('the host ended the stream before DONE'));
				const m = decodeLlmMessage(frame, [LlmMessageType.queued, LlmMessageType.chunk, LlmMessageType.toolCall, LlmMessageType.done, LlmMessageType.error]);
				switch (m.type) {
					case LlmMessageType.queued:
						if (++queuedFrames > MAX_QUEUED_FRAMES || m.position > lastPosition) {
							throw new RemoteEngineError('failed', 'The model host said the request waits in a queue that does not move forward.');
						}
						lastPosition = m.position;
						options.onQueued?.(m.position);
						break;
					case LlmMessageType.chunk:
						chars += m.text.length;
						if (chars > LlmLimits.maxAnswerChars) throw new RemoteEngineError('failed', 'The model host sent a longer answer than any model writes.');
						if (m.text !== '') yield { type: 'text', text: m.text };
						break;
					case LlmMessageType.toolCall:
						if (++calls > LlmLimits.maxToolCalls) throw new RemoteEngineError('failed', 'The model host called more tools in one answer than an answer may.');
						if (!request.tools?.some((tool) => tool.name === m.call.name))
							throw new RemoteEngineError('failed', `The model host called a tool that was not offered ("${m.call.name}").`);
						yield { type: 'tool-call', call: m.call };
						break;
					case LlmMessageType.done: {
						finished = true;
						const { type: _type, ...done } = m;
						closeGracefully(frames);
						yield { type: 'done', ...done };
						return;
					}
					case LlmMessageType.error:
						finished = true;
						closeGracefully(frames);
						throw new RemoteEngineError(m.problem, m.message, m.retryAfterMs);
				}
			}
		} catch (error) {
			if (signal?.aborted) throw signal.reason;
			if (error instanceof EngineError) throw error;
			throw new RemoteEngineError('failed', `The model host sent something unreadable: ${asError(error).message}`, undefined, false, {
				cause: error
			});
		} finally {
			signal?.removeEventListener('abort', onAbort);
			// Stopped reading early (aborted, or the caller broke out): the host must stop too.
			if (!finished) frames.abort(new DOMException('The asker stopped reading', 'AbortError'));
		}
	}

	/** Opens a framed stream to the host. */
	private async open(signal?: AbortSignal): Promise<FrameStream> {
		const timeout = AbortSignal.timeout(this.init.openTimeoutMs ?? DEFAULT_LIMITS.membershipTimeoutMs);
		try {
			const stream = await this.init.node.dialProtocol(this.init.host, LLM_PROTOCOL_ID, {
				signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
				runOnLimitedConnection: true
			});
			// Until the host's CHALLENGE proves it a member (prove), what it sends is held to the unproven budget.
			return frameStream(stream, { maxFrameBytes: LlmLimits.maxRequestBytes, budget: this.unproven.forStream(`llm-asker:${this.init.host.toString()}`) });
		} catch (error) {
			if (signal?.aborted) throw signal.reason;
			throw new RemoteEngineError('failed', 'Could not reach the peer that runs this model: it may have gone offline.', undefined, false, {
				cause: error
			});
		}
	}

	/**
	 * HELLO, CHALLENGE (the host proves itself), then PROOF and at once REQUEST (the host is
	 * a proven member, so the prompt may go), then OK.
	 */
	private async prove(frames: FrameStream, request: GenerateRequest, requestId: string, target?: AnswerTarget): Promise<void> {
		const { keys } = this.init;
		const admission = await this.init.admission?.();
		const { model, messages, maxTokens, temperature, stop, seed, tools, toolChoice } = request;
		let bytes: Uint8Array;
		try {
			bytes = encodeLlmMessage({
				type: LlmMessageType.request,
				workspaceId: keys.workspaceId,
				requestId,
				model,
				messages,
				...(maxTokens !== undefined ? { maxTokens } : {}),
				...(temperature !== undefined ? { temperature } : {}),
				...(stop !== undefined ? { stop } : {}),
				...(seed !== undefined ? { seed } : {}),
				...(tools !== undefined ? { tools } : {}),
				...(toolChoice !== undefined ? { toolChoice } : {}),
				...(target !== undefined ? { target } : {})
			});
		} catch (error) {
			throw new RemoteEngineError('input-too-long', `The request does not fit the mesh protocol's limits: ${asError(error).message}.`);
		}
		if (bytes.length > LlmLimits.maxRequestBytes) {
			throw new RemoteEngineError('input-too-long', 'The conversation is too long to send to another peer: shorten it or start a new chat.');
		}
		try {
			const proof = {
				keys,
				localPeerId: this.init.node.peerId.toString(),
				hostPeerId: this.init.host.toString(),
				timeoutMs: this.init.openTimeoutMs ?? DEFAULT_LIMITS.membershipTimeoutMs,
				...(admission !== undefined ? { admission } : {})
			};
			// Proven: the answer's frames may be as large as LlmLimits allow.
			await proveToHost(frames, proof, bytes, () => frames.setBudget(undefined));
		} catch (error) {
			throw new RemoteEngineError(
				'failed',
				'The peer that runs this model did not accept this device as a member of the workspace (or is not one itself).',
				undefined,
				false,
				{ cause: error }
			);
		}
	}
}

function interrupted(cause: unknown): RemoteEngineError {
	return new RemoteEngineError(
		'failed',
		'The answer was interrupted: the peer running the model went away. The text so far is all that arrived.',
		undefined,
		true,
		{ cause }
	);
}

function asError(error: unknown): Error {
	return error instanceof Error ? error : new Error(String(error));
}
