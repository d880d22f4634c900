/**
 * The model host: serves this peer's {@link Engine}s to workspace members over
 * `/outpost/llm/1.0.0` (llmProtocol.ts, PROTOCOL.md "Models on the mesh").
 *
 * - **Members only.** Every stream starts with the sync protocol's membership exchange
 *   (membership.ts), run on that stream with the keys of the workspace its HELLO names, so
 *   a request is served only to a peer that proved, on this very stream, that it holds the
 *   workspace secret (and that `isAllowed` still accepts, or `admits` takes the admission
 *   its HELLO carried: a tab's delegation). This needs no sync session to be up first (no
 *   race on a fresh connection) and no state shared with MeshService beyond the keys; it
 *   costs one round trip and two HMACs per request.
 * - **Model access.** Each REQUEST names its model: `mayUse` (the team's rule for the role of
 *   the asker's member: hostAccess.ts) decides it before anything is queued, again when its
 *   turn comes, every {@link RECHECK_EVERY_CHUNKS} chunks (found in review: asked once, so a
 *   request queued before its role lost the model, or its member was removed, still ran to its
 *   end), and with `watch` after every change of the team folded while it waits or runs (an
 *   engine reading a long prompt produces no chunk for a long time: answerAccessWatch.ts); a
 *   refusal is ERROR not-allowed.
 * - **Bounded queue, fair share.** At most `maxQueue` requests are admitted at once (running
 *   or waiting, all askers together), and at most `perPeer` of one member device (a tab, or any
 *   throwaway key its device delegated to, counts as that device); beyond either, the request
 *   gets ERROR busy with a `retryAfterMs` estimate. Before any of that, a device holds at most
 *   `perPeer` + 2 streams past membership (4 × `maxQueue` for all): a further one is told busy
 *   before its REQUEST (up to 4 MiB) is read. Each engine runs
 *   `concurrency` generations at a time; waiting requests are told their place (QUEUED,
 *   "N ahead of you") when they are queued and whenever it changes.
 * - **Cancellation.** Anything from the asker after its REQUEST (it closing its end, a
 *   reset, a dropped connection, an unexpected frame) aborts that generation through its
 *   AbortSignal, so the engine is free at once. A request with a target is the exception:
 *   only CANCEL (or the host stopping) ends it, so the answer is finished even when the
 *   asker closed the app.
 * - **Writing the answer.** A REQUEST may name a target document of the workspace (an
 *   AI-thread message the asker appended, or a new model's message in a channel): the host
 *   then writes the answer there itself (answerSink.ts, through a working copy kept in step
 *   with its store: targetDoc.ts) while still streaming it to the asker. A host without the
 *   workspace's documents, or whose copy does not show the entry within 5 s, refuses with
 *   ERROR failed before generating anything. It writes only where the asker could:
 *   `writeRefusal` (hostAccess.ts: may its device read and post in that document?) before
 *   anything is queued, and again when it starts, every {@link RECHECK_EVERY_CHUNKS} chunks and
 *   after every change `watch` reports (an asker taken out of the space meanwhile gets its
 *   answer ended, failed); the entry must be
 *   one started for this asker (targetAccess.ts `entryRefusal`); either refusal is ERROR
 *   not-allowed. The answer names the asker's signed question (targetAccess.ts
 *   `askedQuestion`; a channel answer waits for it like the target), and who asked is that
 *   question's author: views show it as asked only when that question asks this model of this
 *   host.
 * - **Adverts.** {@link LlmHost.advertisedModels} says what it serves and how busy it is, and
 *   `change` fires when that changes (adverts.ts publishes it); tokens/s are measured here.
 */
import type { Connection, Libp2p } from '@libp2p/interface';
import { DEFAULT_LIMITS } from '../mesh/constants.js';
import { handleFrames, type FrameStream } from '../mesh/frameStream.js';
import { proveAsker, type Asker } from '../mesh/streamMembership.js';
import { UnprovenBudget } from '../mesh/unprovenBudget.js';
import type { WorkspaceKeys } from '../mesh/workspaceKeys.js';
import type { AdmitVerdict } from '../mesh/authority.js';
import type { AdvertModel } from './adverts.js';
import { EngineError, failureProblem, type Engine, type ModelInfo } from './engine.js';
import {
	LLM_PROTOCOL_ID,
	LlmLimits,
	LlmMessageType,
	decodeLlmMessage,
	encodeLlmMessage,
	type LlmMessage,
	type LlmRequest
} from './llmProtocol.js';
import { Listeners } from '../events.js';
import type * as Y from 'yjs';
import { AiThreadDoc } from '../doc/AiThreadDoc.js';
import { ChannelDoc } from '../doc/ChannelDoc.js';
import type { SyncDocs } from '../mesh/syncDocs.js';
import { channelSink, pumpAnswer, threadSink, type AnswerSigner, type AnswerSink } from './answerSink.js';
import { openTargetDoc, type TargetDoc } from './targetDoc.js';
import { askedQuestion, entryRefusal, settledRefusal, type AskedQuestion, type TargetRefusal } from './targetAccess.js';
import { askerDevice } from './hostAccess.js';
import { endWhenRefused } from './answerAccessWatch.js';
import { ChunkWriter } from './chunkWriter.js';
import type { AnswerTarget, GenerateChunk } from './engine.js';

/** A host writing an answer asks again every this many chunks whether the asker may still have it written there. */
const RECHECK_EVERY_CHUNKS = 16;

/** Options of {@link llmHost}. */
export interface LlmHostInit {
	/** The engines to serve; each model id is served by the first engine that lists it. */
	engines: Engine[];
	/** Requests admitted at once (running and waiting), all askers together; default 8. */
	maxQueue?: number;
	/**
	 * Requests admitted at once from one member device (its tabs count as it); default 2 (one
	 * running, one waiting).
	 */
	perPeer?: number;
	/** Generations one engine runs at a time; default 1. */
	concurrency?: number;
	/** Milliseconds for the membership exchange and the REQUEST; default 10,000. */
	membershipTimeoutMs?: number;
	/** Whether a proven member may be served (false when revoked in the roster); default: yes. */
	isAllowed?: (workspaceId: string, peerId: string) => boolean | Promise<boolean>;
	/**
	 * The check of an asker `isAllowed` refused, by the admission its HELLO carried (a second
	 * tab's delegation from its member device); default: refused.
	 */
	admits?: (workspaceId: string, peerId: string, admission: Uint8Array) => AdmitVerdict | Promise<AdmitVerdict>;
	/**
	 * Whether `asker` may use `model` (the team's model-access rule for its member's role:
	 * hostAccess.ts), asked for every REQUEST once membership is proven; false answers ERROR
	 * not-allowed. Default: yes.
	 */
	mayUse?: (asker: Asker, model: string) => boolean | Promise<boolean>;
	/**
	 * The member `asker` speaks for (hostAccess.ts `askerMember`): what the host bounds per asker
	 * (`perPeer`) it counts per member, its devices together. Default: per device.
	 */
	memberOf?: (asker: Asker) => Promise<string | undefined>;
	/** Told about every stream that failed (bad bytes, timeouts); default `console.warn`. */
	onError?: (error: Error, peerId: string) => void;
	/** Milliseconds to wait for a target entry to reach this peer; default 5,000. */
	targetTimeoutMs?: number;
	/**
	 * Why `asker`'s answer may not be written into `target` (hostAccess.ts: the team's read and
	 * post rules for the asker's device, over the workspace's documents `docs`), asked for every
	 * REQUEST with a target before anything is queued; a refusal is ERROR not-allowed. One that is
	 * `unknown` (the document is not known here yet) is asked again as the workspace's root and
	 * roster change, for up to `targetTimeoutMs`. Default: no refusal.
	 */
	writeRefusal?: (asker: Asker, target: AnswerTarget, docs: SyncDocs) => Promise<TargetRefusal | undefined>;
	/**
	 * Calls `changed` after every change of `asker`'s team (hostAccess.ts `teamHostAccess`);
	 * returns the unsubscribe. A waiting or running request is asked `mayUse` (and, with a
	 * target, `writeRefusal`) again then, and ended when refused. Without it, access is asked
	 * again only when a request's turn comes and every {@link RECHECK_EVERY_CHUNKS} chunks.
	 */
	watch?: (asker: Asker, changed: () => void) => () => void;
}

/** The dependencies of an {@link LlmHost}. */
export interface LlmHostComponents {
	node: Pick<Libp2p, 'peerId' | 'handle' | 'unhandle'>;
	/** The keys of a workspace this peer holds (`MeshService.workspaceKeys`), else undefined. */
	keys: (workspaceId: string) => WorkspaceKeys | undefined;
	/** The documents of a workspace this peer holds (`MeshService.workspaceDocs`), for targeted requests. */
	documents?: (workspaceId: string) => SyncDocs | undefined;
	/** This peer's key and clock, to sign a model's messages in channels. */
	signer?: AnswerSigner;
	/** What askers that have proved nothing yet may make this node hold (`MeshService.unproven`); default: a budget of the host's own. */
	unproven?: UnprovenBudget;
}

/** Who sent a REQUEST (streamMembership.ts). */
export type { Asker } from '../mesh/streamMembership.js';

/** Serves local engines to members; see the module comment. */
export interface LlmHost {
	start(): Promise<void>;
	/** Stops serving; running and waiting requests are cut (their askers see an interruption). */
	stop(): Promise<void>;
	/** Lists the engines' models again (after one loaded or unloaded a model). */
	refreshModels(): Promise<void>;
	/** What this host serves now, for adverts. */
	advertisedModels(): AdvertModel[];
	/** Requests admitted now (running and waiting). */
	readonly queueDepth: number;
	/** Requests running now. */
	readonly running: number;
	/** Adds a handler called whenever the models or the queue change; returns its remover. */
	on(event: 'change', handler: () => void): () => void;
}

/** One admitted request. */
interface Job {
	/** The member device that asked (a tab's delegating device): the share is counted by it. */
	device: string;
	engine: Engine;
	controller: AbortController;
	started: boolean;
	/** The last position told to the asker. */
	told: number;
	tell: (position: number) => void;
	begin: () => void;
}

interface Served {
	engine: Engine;
	info: ModelInfo;
	/** Measured tokens per second (moving average), once a generation was long enough. */
	measured?: number;
}

/** Most characters in one CHUNK (at most 4 UTF-8 bytes each: well within its 64 KiB bound). */
const CHUNK_CHARS = 4096;


/** Retry delay given when nothing was measured yet. */
const DEFAULT_GENERATION_MS = 2000;

class DefaultLlmHost implements LlmHost {
	private readonly served = new Map<string, Served>();
	private readonly jobs: Job[] = [];
	/** Streams past membership and not ended, by asker device, and in all (see {@link serve}). */
	private readonly openStreams = new Map<string, number>();
	private openTotal = 0;
	private readonly listeners = new Listeners<{ change: () => void }>('LlmHost');
	private averageMs = DEFAULT_GENERATION_MS;
	private started = false;
	private readonly unproven: UnprovenBudget;

	constructor(
		private readonly components: LlmHostComponents,
		private readonly init: LlmHostInit
	) {
		this.unproven = components.unproven ?? new UnprovenBudget();
	}

	get queueDepth(): number {
		return this.jobs.length;
	}

	get running(): number {
		return this.jobs.filter((j) => j.started).length;
	}

	async start(): Promise<void> {
		if (this.started) return;
		await this.refreshModels();
		await handleFrames(this.components.node, LLM_PROTOCOL_ID, (frames, connection) => this.serve(frames, connection), {
			maxFrameBytes: LlmLimits.maxRequestBytes,
			budget: (connection) => this.unproven.forStream(connection.id),
			runOnLimitedConnection: true,
			onError: (error, connection) => this.report(error, connection.remotePeer.toString())
		});
		this.started = true;
	}

	async stop(): Promise<void> {
		if (!this.started) return;
		this.started = false;
		await this.components.node.unhandle(LLM_PROTOCOL_ID);
		for (const job of [...this.jobs]) job.controller.abort(new EngineError('failed', 'The host stopped.'));
	}

	async refreshModels(): Promise<void> {
		const lists = await Promise.all(
			this.init.engines.map((engine) =>
				engine.models().catch((error: unknown) => {
					this.report(asError(error), this.components.node.peerId.toString());
					return [] as ModelInfo[];
				})
			)
		);
		const previous = new Map(this.served);
		this.served.clear();
		lists.forEach((models, i) => {
			const engine = this.init.engines[i]!;
			for (const info of models) {
				if (this.served.has(info.id)) continue;
				const old = previous.get(info.id);
				this.served.set(info.id, { engine, info, ...(old?.engine === engine && old.measured ? { measured: old.measured } : {}) });
			}
		});
		this.changed();
	}

	advertisedModels(): AdvertModel[] {
		const free = Math.max(0, (this.init.maxQueue ?? 8) - this.jobs.length);
		return [...this.served.entries()].map(([id, { engine, info, measured }]) => {
			const tokensPerSecond = measured ?? info.tokensPerSecond;
			return {
				id,
				engine: info.engine,
				contextLength: info.contextLength,
				...(tokensPerSecond !== undefined ? { tokensPerSecond } : {}),
				queueDepth: this.jobs.filter((j) => j.engine === engine).length,
				freeSlots: free
			};
		});
	}

	on(_event: 'change', handler: () => void): () => void {
		return this.listeners.on('change', handler);
	}

	/**
	 * One stream: membership, REQUEST, admission, the answer. A proven device has at most
	 * `perPeer` + 2 streams past membership at once (its queued requests and two being read or
	 * checked), and all devices together 4 × `maxQueue`: a 4 MiB REQUEST is read only within them.
	 */
	private async serve(frames: FrameStream, connection: Connection): Promise<void> {
		const peerId = connection.remotePeer.toString();
		const asker = await this.prove(frames, peerId);
		if (asker === undefined) return;
		const send = (m: LlmMessage) => frames.write(encodeLlmMessage(m));
		// Counted per member: its devices, and tabs (or a modified client's throwaway keys) with a
		// delegation, together; a member may invite devices of its own (found in review).
		const device = (await this.init.memberOf?.(asker)) ?? (await askerDevice(asker)) ?? peerId;
		const open = this.openStreams.get(device) ?? 0;
		const maxQueue = this.init.maxQueue ?? 8;
		if (open >= (this.init.perPeer ?? 2) + 2 || this.openTotal >= 4 * maxQueue) {
			return send({ type: LlmMessageType.error, problem: 'busy', message: 'The model host is busy with your earlier requests: try again in a moment.', retryAfterMs: 2000 });
		}
		this.openStreams.set(device, open + 1);
		this.openTotal++;
		try {
			await this.serveProven(frames, asker, device, send);
		} finally {
			this.openTotal--;
			const left = (this.openStreams.get(device) ?? 1) - 1;
			if (left > 0) this.openStreams.set(device, left);
			else this.openStreams.delete(device);
		}
	}

	/** A proven asker's stream: its REQUEST, the checks, admission, the answer. */
	private async serveProven(frames: FrameStream, asker: Asker, device: string, send: (m: LlmMessage) => Promise<void>): Promise<void> {
		frames.setBudget(undefined); // proven: the request may be as large as LlmLimits allow
		const { workspaceId } = asker;
		const frame = await frames.read({ signal: AbortSignal.timeout(this.timeoutMs) });
		if (frame === null) return;
		const request = decodeLlmMessage(frame, [LlmMessageType.request]) as LlmRequest;
		if (request.workspaceId !== workspaceId) {
			return send({ type: LlmMessageType.error, problem: 'failed', message: 'The request names another workspace than its proof.' });
		}
		if (this.init.mayUse !== undefined && !(await this.init.mayUse(asker, request.model))) {
			return send({
				type: LlmMessageType.error,
				problem: 'not-allowed',
				message: `Your role in this workspace may not use "${request.model}": an owner or admin can allow it under Models → Model access.`
			});
		}
		const served = this.served.get(request.model);
		if (served === undefined || !this.started) {
			return send({ type: LlmMessageType.error, problem: 'unknown-model', message: `This peer does not serve "${request.model}".` });
		}
		if (request.target !== undefined) {
			const docs = this.components.documents?.(workspaceId);
			const refusal = docs === undefined ? undefined : await this.writeRefusal(asker, request.target, docs);
			if (refusal !== undefined) return send({ type: LlmMessageType.error, problem: 'not-allowed', message: refusal.message });
		}
		const refusal = this.admissible(device);
		if (refusal !== undefined) return send(refusal);
		await this.run(served, request, frames, asker, device);
	}

	/** `writeRefusal`'s answer, waiting up to `targetTimeoutMs` while the document is unknown here. */
	private async writeRefusal(asker: Asker, target: AnswerTarget, docs: SyncDocs): Promise<TargetRefusal | undefined> {
		const check = this.init.writeRefusal;
		if (check === undefined) return undefined;
		return settledRefusal(() => check(asker, target, docs), docs, asker.workspaceId, this.init.targetTimeoutMs ?? 5000);
	}

	/** Runs the membership exchange as responder (streamMembership.ts); the proven asker, or undefined (DENIED sent). */
	private prove(frames: FrameStream, peerId: string): Promise<Asker | undefined> {
		const { isAllowed, admits } = this.init;
		return proveAsker(frames, peerId, {
			keys: this.components.keys,
			localPeerId: this.components.node.peerId.toString(),
			timeoutMs: this.timeoutMs,
			onError: (error) => this.report(error, peerId),
			...(isAllowed !== undefined ? { isAllowed } : {}),
			...(admits !== undefined ? { admits } : {})
		});
	}

	/** ERROR busy when the host or the share of the asker's member device is full, else undefined. */
	private admissible(device: string): LlmMessage | undefined {
		const maxQueue = this.init.maxQueue ?? 8;
		const perPeer = this.init.perPeer ?? 2;
		const mine = this.jobs.filter((j) => j.device === device).length;
		if (this.jobs.length < maxQueue && mine < perPeer) return undefined;
		const ahead = mine >= perPeer ? mine : this.jobs.length;
		const concurrency = (this.init.concurrency ?? 1) * Math.max(1, new Set(this.jobs.map((j) => j.engine)).size);
		const retryAfterMs = Math.min(60_000, Math.max(500, Math.ceil((this.averageMs * ahead) / concurrency)));
		const message =
			mine >= perPeer
				? `The model host is busy with your ${mine} earlier requests: try again in ${Math.ceil(retryAfterMs / 1000)} s.`
				: `The model host is busy: ${ahead} requests ahead of you. Try again in ${Math.ceil(retryAfterMs / 1000)} s.`;
		return { type: LlmMessageType.error, problem: 'busy', message, retryAfterMs };
	}

	/** Queues the request, waits for its turn, streams the answer. */
	private async run(served: Served, request: LlmRequest, frames: FrameStream, asker: Asker, device: string): Promise<void> {
		const controller = new AbortController();
		const { signal } = controller;
		let turn!: () => void;
		const started = new Promise<void>((resolve) => (turn = resolve));
		const job: Job = {
			device,
			engine: served.engine,
			controller,
			started: false,
			told: 0,
			tell: (position) => void frames.write(encodeLlmMessage({ type: LlmMessageType.queued, position })).catch(() => {}),
			begin: turn
		};
		// Anything from the asker after its REQUEST cancels: its end closing, a reset, more bytes.
		// With a target only CANCEL (or bytes that are not a message) does: the answer goes on.
		const targeted = request.target !== undefined;
		frames.read().then(
			(frame) => {
				if (!targeted || frame !== null) controller.abort(new DOMException('The asker cancelled', 'AbortError'));
			},
			() => {
				if (!targeted) controller.abort(new DOMException('The asker went away', 'AbortError'));
			}
		);
		this.jobs.push(job);
		this.schedule();
		// Asked again when its turn comes, while it streams, and after every change of the team
		// (`watch`): `ended` is aborted with the refusal, which ends the wait or the generation.
		const { mayUse, watch } = this.init;
		const accessNow = async (): Promise<string | undefined> =>
			mayUse === undefined || (await mayUse(asker, request.model))
				? undefined
				: `Your access to "${request.model}" here ended (your role, your membership or the team's model access changed): the answer stopped.`;
		const ended = new AbortController();
		const generating = AbortSignal.any([signal, ended.signal]);
		const unwatch = watch === undefined ? undefined : endWhenRefused((changed) => watch(asker, changed), accessNow, ended);
		try {
			await Promise.race([started, new Promise((_, reject) => generating.addEventListener('abort', () => reject(generating.reason)))]);
			const refusedAtTurn = await accessNow();
			if (refusedAtTurn !== undefined) throw new EngineError('not-allowed', refusedAtTurn);
			if (request.target !== undefined) return await this.streamToTarget(served, request, request.target, frames, signal, asker, device, accessNow, ended);
			await this.stream(served, request, frames, signal, generating, accessNow);
		} catch (caught) {
			const error: unknown = ended.signal.aborted ? ended.signal.reason : caught;
			if (signal.aborted || frames.stream.status !== 'open') {
				// The asker is gone, or the host stops: nothing more to say.
				frames.abort(asError(signal.aborted ? signal.reason : error));
				return;
			}
			const problem = error instanceof EngineError ? error.problem : 'failed';
			const message = error instanceof EngineError ? error.message : `The model failed: ${asError(error).message}`;
			await frames.write(encodeLlmMessage({ type: LlmMessageType.error, problem, message })).catch((e: unknown) => frames.abort(asError(e)));
		} finally {
			unwatch?.();
			this.jobs.splice(this.jobs.indexOf(job), 1);
			controller.abort(new DOMException('The request ended', 'AbortError')); // ends the read above's purpose
			this.schedule();
		}
	}

	/** Generates (the engine stopped by `generating`) and writes CHUNKs and DONE; measures the speed. */
	private async stream(
		served: Served,
		request: LlmRequest,
		frames: FrameStream,
		signal: AbortSignal,
		generating: AbortSignal,
		accessNow: () => Promise<string | undefined>
	): Promise<void> {
		const { type: _type, workspaceId: _ws, requestId: _id, ...generate } = request;
		const begun = performance.now();
		let firstText: number | undefined;
		const writer = new ChunkWriter((text) => frames.write(encodeLlmMessage({ type: LlmMessageType.chunk, text }), { signal }), CHUNK_CHARS);
		let chunks = 0;
		for await (const chunk of served.engine.generate(generate, generating)) {
			const refused = ++chunks % RECHECK_EVERY_CHUNKS === 0 ? await accessNow() : undefined;
			if (refused !== undefined) throw new EngineError('not-allowed', refused);
			if (chunk.type === 'text') {
				firstText ??= performance.now();
				writer.push(chunk.text);
				continue;
			}
			await writer.flush();
			if (chunk.type === 'tool-call') {
				await frames.write(encodeLlmMessage({ type: LlmMessageType.toolCall, call: chunk.call }), { signal });
				continue;
			}
			await frames.write(encodeLlmMessage({ type: LlmMessageType.done, ...stripType(chunk) }), { signal });
			const now = performance.now();
			this.averageMs = 0.7 * this.averageMs + 0.3 * (now - begun);
			const seconds = (now - (firstText ?? now)) / 1000;
			if (chunk.completionTokens >= 4 && seconds > 0) {
				const speed = (chunk.completionTokens - 1) / seconds;
				served.measured = served.measured === undefined ? speed : 0.7 * served.measured + 0.3 * speed;
			}
			return;
		}
		throw new EngineError('failed', 'The engine ended without finishing its answer.');
	}

	/**
	 * Writes the answer into the target document and streams it to the asker as long as the
	 * asker listens (a write to a gone asker is dropped, never fatal). The end (done with its
	 * stats, cancelled, failed) is recorded in the document; DONE or ERROR go to the asker.
	 */
	private async streamToTarget(
		served: Served,
		request: LlmRequest,
		target: AnswerTarget,
		frames: FrameStream,
		signal: AbortSignal,
		asker: Asker,
		device: string,
		accessNow: () => Promise<string | undefined>,
		ended: AbortController
	): Promise<void> {
		const { peerId } = asker;
		const refuse = (message: string, problem: 'failed' | 'not-allowed' = 'failed') =>
			frames.write(encodeLlmMessage({ type: LlmMessageType.error, problem, message })).catch(() => {});
		if (request.tools?.length) return refuse('A host cannot write an answer that calls tools: the asker runs the tools, so the asker writes it.');
		const docs = this.components.documents?.(request.workspaceId);
		if (docs === undefined) return refuse('This model host does not keep the workspace\'s documents, so it cannot write the answer.');
		if (target.kind === 'channel' && this.components.signer === undefined) return refuse('This model host cannot sign messages in channels.');
		const askers = new Set([peerId, device]);
		// A channel answer waits for its question (it names it: targetAccess.ts `askedQuestion`).
		const ready = (doc: Y.Doc) =>
			target.kind === 'ai-thread'
				? new AiThreadDoc(doc).entry(target.entryId) !== undefined
				: target.after === undefined
					? new ChannelDoc(doc).messages.length > 0
					: askedQuestion(doc, target, askers) !== undefined;
		const working = await openTargetDoc(docs, target.docId, {
			ready,
			timeoutMs: this.init.targetTimeoutMs ?? 5000,
			signal,
			onError: (error) => this.report(error, peerId)
		});
		if (working === undefined) {
			if (signal.aborted) return;
			return refuse('The model host has not received this conversation yet: try again in a moment.');
		}
		const notYours = entryRefusal(working.doc, target, askers, this.components.signer?.peerId);
		if (notYours !== undefined) {
			working.close();
			return refuse(notYours, 'not-allowed');
		}
		// Asked again now that the request has waited its turn, and while it streams: an asker
		// taken out of the space (or the team) meanwhile gets no more written there in its name.
		const check = this.init.writeRefusal;
		const refusalNow = async (): Promise<string | undefined> => (await accessNow()) ?? (check === undefined ? undefined : (await check(asker, target, docs))?.message);
		const { watch } = this.init;
		const unwatch = watch === undefined ? undefined : endWhenRefused((changed) => watch(asker, changed), refusalNow, ended);
		// A check that throws gives the watch back too (found in review: it stayed subscribed,
		// checking again after every later change of the team for an answer long over).
		const refusedAtStart = await refusalNow().catch((error: unknown) => {
			unwatch?.();
			working.close();
			throw error;
		});
		if (refusedAtStart !== undefined) {
			unwatch?.();
			working.close();
			return refuse(refusedAtStart, 'not-allowed');
		}
		// The engine's signal: the asker's CANCEL or the host stopping (`signal`: the answer ends
		// cancelled), or the asker's access ending (`ended`: the answer ends failed, not-allowed).
		const generating = AbortSignal.any([signal, ended.signal]);
		let listening = true;
		const tell = async (m: LlmMessage): Promise<void> => {
			if (!listening) return;
			try {
				await frames.write(encodeLlmMessage(m), { signal });
			} catch {
				listening = false; // the asker left: the answer goes on into the document
			}
		};
		const writer = new ChunkWriter((text) => tell({ type: LlmMessageType.chunk, text }), CHUNK_CHARS);
		try {
			const sink = await this.targetSink(working, target, request, peerId, askedQuestion(working.doc, target, askers));
			const { type: _type, workspaceId: _ws, requestId: _id, target: _target, ...generate } = request;
			const engine = served.engine;
			const result = await pumpAnswer(
				() =>
					(async function* (): AsyncGenerator<GenerateChunk> {
						let chunks = 0;
						try {
							for await (const chunk of engine.generate(generate, generating)) {
								const refused = ++chunks % RECHECK_EVERY_CHUNKS === 0 ? await refusalNow() : undefined;
								if (refused !== undefined) throw new EngineError('not-allowed', refused);
								if (chunk.type === 'text') writer.push(chunk.text);
								else if (chunk.type === 'done') {
									await writer.flush();
									await tell({ type: LlmMessageType.done, ...stripType(chunk) });
								}
								yield chunk;
							}
						} catch (error) {
							throw ended.signal.aborted && !signal.aborted ? ended.signal.reason : error;
						}
					})(),
				sink,
				{ signal }
			);
			if (result.stats) this.measure(served, result.stats.tokensOut, result.stats.ttftMs, result.stats.tokensPerSecond);
			// A worded problem (the asker taken out meanwhile) keeps its code, so the asker words it too.
			if (result.status === 'failed') await tell({ type: LlmMessageType.error, problem: failureProblem(result.error), message: result.error ?? 'The model failed.' });
			if (listening) await frames.close().catch(() => {});
		} finally {
			unwatch?.();
			working.close();
		}
	}

	/**
	 * The sink of a target, in the working copy (a channel answer is posted here, signed by this
	 * peer). The answer names `question` (the asker's, found here) and its author as who asked;
	 * without one, the stream's peer, and it shows as nobody's question answered.
	 */
	private async targetSink(working: TargetDoc, target: AnswerTarget, request: LlmRequest, peerId: string, question: AskedQuestion | undefined): Promise<AnswerSink> {
		const asked = question === undefined ? { askedBy: peerId } : { askedBy: question.author, question: question.id };
		if (target.kind === 'ai-thread') {
			// Only what this host produced is signed: no sources (it ran no knowledge search; found in
			// review: a third member's sources written into the queued entry were signed as the host's).
			const sink = threadSink(new AiThreadDoc(working.doc), target.entryId, working.origin, this.components.signer, { ...asked, model: request.model, sources: [] });
			if (sink === undefined) throw new EngineError('failed', 'The chat message to answer is gone.');
			return sink;
		}
		return channelSink(
			new ChannelDoc(working.doc),
			{
				id: target.entryId,
				model: request.model,
				...asked,
				...(target.after !== undefined ? { after: target.after } : {}),
				...(target.parent !== undefined ? { parent: target.parent } : {})
			},
			this.components.signer!,
			working.origin
		);
	}

	/** Folds one finished generation into the model's measured speed and the average duration. */
	private measure(served: Served, tokensOut: number, ttftMs: number, tokensPerSecond: number): void {
		if (tokensOut < 4 || tokensPerSecond <= 0) return;
		const ms = ttftMs + (tokensOut / tokensPerSecond) * 1000;
		this.averageMs = 0.7 * this.averageMs + 0.3 * ms;
		served.measured = served.measured === undefined ? tokensPerSecond : 0.7 * served.measured + 0.3 * tokensPerSecond;
	}

	/** Starts what can run, then tells every waiting request its place. */
	private schedule(): void {
		const concurrency = this.init.concurrency ?? 1;
		for (const job of this.jobs) {
			if (job.started || job.controller.signal.aborted) continue;
			const running = this.jobs.filter((j) => j.started && j.engine === job.engine).length;
			if (running >= concurrency) continue;
			job.started = true;
			job.begin();
		}
		for (const job of this.jobs) {
			if (job.started) continue;
			const position = this.jobs.slice(0, this.jobs.indexOf(job)).filter((j) => j.engine === job.engine).length;
			if (position !== job.told) {
				job.told = position;
				job.tell(position);
			}
		}
		this.changed();
	}

	private changed(): void {
		this.listeners.emit('change');
	}

	private get timeoutMs(): number {
		return this.init.membershipTimeoutMs ?? DEFAULT_LIMITS.membershipTimeoutMs;
	}

	private report(error: Error, peerId: string): void {
		if (this.init.onError) this.init.onError(error, peerId);
		else console.warn(`${LLM_PROTOCOL_ID}: ${peerId}:`, error);
	}
}

function stripType<T extends { type: string }>({ type: _type, ...rest }: T): Omit<T, 'type'> {
	return rest;
}

/**
 * The model host in the libp2p service style: `llmHost(init)(components)`; `start()` once
 * the node runs. Pass `keys: (id) => mesh.workspaceKeys(id)`.
 */
export function llmHost(init: LlmHostInit): (components: LlmHostComponents) => LlmHost {
	return (components) => new DefaultLlmHost(components, init);
}

function asError(error: unknown): Error {
	return error instanceof Error ? error : new Error(String(error));
}
