/**
 * Huddle signalling over the mesh (`/outpost/huddle/1`, PROTOCOL.md "Huddles"): one stream per
 * call between two browsers in a channel's huddle carries the JOIN, the offer and answer, the ICE
 * candidates and the goodbye. The audio itself goes over the RTCPeerConnection those set up
 * (CallMesh.ts); this layer knows nothing of WebRTC, so it runs (and is tested) in Node too.
 *
 * Every peer may be hostile:
 * - the responder reads the JOIN under a 128-byte frame bound (a stranger can make it hold no
 *   more, counted in the node's unproven budget) within `joinTimeoutMs`, then asks the team's
 *   rule ({@link HuddleSignallingInit.mayJoin}) with the connection's authenticated peer id:
 *   a device that is not a current member of the workspace (or a tab of one), or cannot read
 *   the private channel, gets DENIED 1 and the stream ends (reset if the peer does not close
 *   its end within `joinTimeoutMs`);
 * - the opener asks the same rule of the peer it dials before it sends anything (its SDP holds
 *   its addresses);
 * - at most {@link MAX_CALLS} calls run at once, one per remote peer (a new JOIN from a peer
 *   replaces its old call, and each makes the other side a new peer connection: a peer has at
 *   most {@link JOIN_BURST} calls taken in a row, then one per {@link JOIN_EVERY_MS}, its
 *   member device's tabs together (joinBucket.ts, `deviceOf`); over that its JOIN gets DENIED
 *   3, reported once); a call takes at most {@link MAX_DESCRIPTIONS} descriptions and {@link MAX_CANDIDATES} candidates from the other side, and an SDP is at most 64 KiB;
 * - a message that does not decode, or comes out of order, ends that stream;
 * - a call ended on either side (BYE) is over at once; a peer that keeps its end of the stream
 *   open more than {@link BYE_GRACE_MS} after that has the stream reset, so a modified client
 *   that neither reads nor closes cannot hold the call (or the audio behind it) open.
 */
import type { Connection, Libp2p } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { DEFAULT_LIMITS } from '../mesh/constants.js';
import { frameStream, handleFrames, type FrameStream } from '../mesh/frameStream.js';
import { closeGracefully } from '../mesh/syncStream.js';
import { UnprovenBudget } from '../mesh/unprovenBudget.js';
import { JOIN_BURST, JOIN_EVERY_MS, JoinBucket } from './joinBucket.js';
import {
	decodeHuddleMessage,
	encodeHuddleMessage,
	HUDDLE_PROTOCOL_ID,
	HuddleDenied,
	HuddleMessageType,
	MAX_HUDDLE_PEOPLE,
	MAX_JOIN_BYTES,
	MAX_SIGNAL_FRAME_BYTES,
	MalformedHuddleMessageError,
	type HuddleMessage
} from './huddleMessages.js';

/** Calls at once (each remote peer holds one): the huddle's others, and a few being replaced. */
export const MAX_CALLS = MAX_HUDDLE_PEOPLE + 2;
/** Candidates a call takes from the other side. */
export const MAX_CANDIDATES = 64;
/** Offers and answers a call takes from the other side. */
export const MAX_DESCRIPTIONS = 4;
/** How long the opener waits for ACCEPT or DENIED. */
const JOIN_TIMEOUT_MS = 10_000;
/**
 * How long, once a call ended, the other side has to close its end of the stream before it is
 * reset (an honest peer closes as soon as it reads BYE or the end of the stream).
 */
export const BYE_GRACE_MS = 2000;

/** The peer refused the call. */
export class HuddleDeniedError extends Error {
	override name = 'HuddleDeniedError';
	constructor(readonly reason: HuddleDenied) {
		super(reason === HuddleDenied.notAllowed ? 'the peer does not let this device into the huddle' : reason === HuddleDenied.full ? 'the peer has no room for another call' : 'the peer is not in this huddle');
	}
}

/** A peer broke the protocol (a message out of order, too many candidates). */
export class HuddleProtocolError extends Error {
	override name = 'HuddleProtocolError';
}

/** A peer JOINed more often than {@link JOIN_BURST} calls, then one per {@link JOIN_EVERY_MS}: its calls are refused for a while. */
export class HuddleJoinRateError extends Error {
	override name = 'HuddleJoinRateError';
}

/** What a call's other side sends once the call is accepted. */
export type SignalMessage = Extract<HuddleMessage, { type: 4 | 5 | 6 }>;

/** Options of {@link HuddleSignalling}. */
export interface HuddleSignallingInit {
	node: Pick<Libp2p, 'handle' | 'unhandle' | 'dialProtocol'>;
	/**
	 * The team's rule: whether device `peerId` may be in a huddle of channel `channelId` of the
	 * workspace (a current member device, and for a private channel one that reads it).
	 */
	mayJoin(workspaceId: string, channelId: string, peerId: string): boolean;
	/** Told about calls that failed (bad bytes, refused, broken streams). */
	onError?: (error: Error) => void;
	/**
	 * What peers that have proved nothing yet may make this node hold (`MeshService.unproven`,
	 * shared with sync and models); default: a budget of the signalling's own.
	 */
	unproven?: UnprovenBudget;
	/** Milliseconds a peer has, once it opened a stream, to send its JOIN; default the membership time (10 s). */
	joinTimeoutMs?: number;
	/** The clock the JOIN rate of each peer is counted by (joinBucket.ts); default `Date.now`. */
	now?: () => number;
	/**
	 * The member device a peer that may join counts as for the JOIN rate (huddleRule.ts
	 * `huddleDevice`: a tab counts as the device that delegated to it, which may mint any number
	 * of tab keys); default the peer itself.
	 */
	deviceOf?: (workspaceId: string, peerId: string) => string | undefined;
}

/**
 * Takes an incoming call the team allowed: true when this device is in that huddle and takes it
 * (it then reads the call with {@link SignalCall.run}), false to refuse it (DENIED 2).
 */
export type CallHandler = (call: SignalCall) => boolean;

/** One call's signalling: see the module comment. */
export class SignalCall {
	private descriptions = 0;
	private candidates = 0;
	private closed = false;
	private readonly ended: Promise<void>;
	private end!: () => void;

	constructor(
		private readonly frames: FrameStream,
		/** The other side's peer id (authenticated by the connection). */
		readonly peerId: string,
		readonly workspaceId: string,
		readonly channelId: string,
		/** This side's role: the opener sends the offer. */
		readonly role: 'opener' | 'responder'
	) {
		this.ended = new Promise((resolve) => (this.end = resolve));
	}

	/** Whether the call ended (BYE, closed, or broken). */
	get done(): boolean {
		return this.closed;
	}

	/** Sends an offer, an answer or a candidate; false when the call has ended. */
	async send(m: SignalMessage): Promise<boolean> {
		if (this.closed) return false;
		try {
			await this.frames.write(encodeHuddleMessage(m));
			return true;
		} catch {
			this.finish();
			return false;
		}
	}

	/**
	 * Reads the other side's messages until the call ends, handing each to `onMessage`; resolves
	 * when the call ended (BYE, or the stream closed); rejects (and aborts the stream) on bad bytes.
	 */
	async run(onMessage: (m: SignalMessage) => void | Promise<void>): Promise<void> {
		try {
			for (;;) {
				if (this.closed) return;
				const frame = await this.frames.read();
				// Ended here while that read waited: what the other side sent since is not acted on.
				if (this.closed) return;
				const m = frame === null ? undefined : decodeHuddleMessage(frame);
				if (m === undefined || m.type === HuddleMessageType.bye) {
					// The other side ended the call: end this side's half of the stream too (and
					// reset it if the other side said BYE but keeps its own half open).
					this.finish();
					closeGracefully(this.frames, BYE_GRACE_MS);
					return;
				}
				if (m.type === HuddleMessageType.offer || m.type === HuddleMessageType.answer) {
					const expected = this.role === 'opener' ? HuddleMessageType.answer : HuddleMessageType.offer;
					if (m.type !== expected || ++this.descriptions > MAX_DESCRIPTIONS) throw new HuddleProtocolError(`an unexpected ${m.type === HuddleMessageType.offer ? 'OFFER' : 'ANSWER'}`);
				} else if (m.type === HuddleMessageType.candidate) {
					if (++this.candidates > MAX_CANDIDATES) throw new HuddleProtocolError(`over ${MAX_CANDIDATES} candidates`);
				} else {
					throw new HuddleProtocolError(`message type ${m.type} inside a call`);
				}
				await onMessage(m);
			}
		} catch (error) {
			if (!this.closed) this.frames.abort(error instanceof Error ? error : new Error(String(error)));
			throw error;
		} finally {
			this.finish();
		}
	}

	/**
	 * Ends the call now (no-op once ended): says BYE and closes this side's end of the stream;
	 * a peer that has not closed its end within {@link BYE_GRACE_MS} (it may not even read the
	 * BYE) has the stream reset. {@link whenEnded} resolves at once, whatever the peer does.
	 */
	close(): void {
		if (this.closed) return;
		// The write starts before finish(): the responder's handler closes the stream once the call ends.
		void this.frames
			.write(encodeHuddleMessage({ type: HuddleMessageType.bye }), { signal: AbortSignal.timeout(BYE_GRACE_MS) })
			.then(() => closeGracefully(this.frames, BYE_GRACE_MS))
			.catch(() => this.frames.abort(new Error('huddle call closed')));
		this.finish();
	}

	/** Resolves once the call has ended. */
	whenEnded(): Promise<void> {
		return this.ended;
	}

	private finish(): void {
		if (this.closed) return;
		this.closed = true;
		this.end();
	}
}

/** See the module comment. */
export class HuddleSignalling {
	/** Calls running, by remote peer id. */
	private readonly calls = new Map<string, SignalCall>();
	private handler: CallHandler | undefined;
	private readonly unproven: UnprovenBudget;
	private readonly joinTimeoutMs: number;
	/** How many calls of each peer were taken lately. */
	private readonly joins: JoinBucket;

	constructor(private readonly init: HuddleSignallingInit) {
		this.unproven = init.unproven ?? new UnprovenBudget();
		this.joins = new JoinBucket(JOIN_BURST, JOIN_EVERY_MS, init.now);
		this.joinTimeoutMs = init.joinTimeoutMs ?? DEFAULT_LIMITS.membershipTimeoutMs;
	}

	async start(): Promise<void> {
		await handleFrames(this.init.node, HUDDLE_PROTOCOL_ID, (frames, connection) => this.serve(frames, connection), {
			maxFrameBytes: MAX_SIGNAL_FRAME_BYTES,
			// What a stranger may send: one small JOIN, held in the node's unproven budget until the call is accepted.
			budget: (connection) => this.unproven.forStream(connection.id, { maxFrameBytes: MAX_JOIN_BYTES, maxUnreadBytes: 2 * MAX_JOIN_BYTES }),
			runOnLimitedConnection: true,
			onError: (error) => this.init.onError?.(error)
		});
	}

	async stop(): Promise<void> {
		this.handler = undefined;
		for (const call of this.calls.values()) call.close();
		this.calls.clear();
		await this.init.node.unhandle(HUDDLE_PROTOCOL_ID);
	}

	/** Who takes incoming calls (none: every JOIN is answered DENIED 2). */
	setHandler(handler: CallHandler | undefined): void {
		this.handler = handler;
	}

	/** Calls running now. */
	get active(): number {
		return this.calls.size;
	}

	/**
	 * The team's rule ({@link HuddleSignallingInit.mayJoin}): whether `peerId` may be in the huddle
	 * of `channelId`. The calls ask it before anything is sent; CallMesh asks it too, so that it
	 * never wants a peer awareness lists but the team keeps out.
	 */
	allows(workspaceId: string, channelId: string, peerId: string): boolean {
		return this.init.mayJoin(workspaceId, channelId, peerId);
	}

	/** Ends every call whose peer the team's rule no longer lets in (call after a change of the team). */
	revisit(): void {
		for (const call of this.calls.values()) {
			if (!this.init.mayJoin(call.workspaceId, call.channelId, call.peerId)) call.close();
		}
	}

	private async serve(frames: FrameStream, connection: Connection): Promise<void> {
		const first = await frames.read({ signal: AbortSignal.timeout(this.joinTimeoutMs) });
		if (first === null) return;
		const m = decodeHuddleMessage(first);
		if (m.type !== HuddleMessageType.join) throw new HuddleProtocolError(`a huddle stream must start with JOIN, not type ${m.type}`);
		const peerId = connection.remotePeer.toString();
		// DENIED ends the stream: a peer that keeps its end open has it reset.
		const deny = async (reason: HuddleDenied) => {
			await frames.write(encodeHuddleMessage({ type: HuddleMessageType.denied, reason }), { signal: AbortSignal.timeout(this.joinTimeoutMs) });
			closeGracefully(frames, this.joinTimeoutMs);
		};
		if (!this.init.mayJoin(m.workspaceId, m.channelId, peerId)) return deny(HuddleDenied.notAllowed);
		// Calling again and again would have this side make peer connection after peer connection;
		// over its rate a peer keeps the call it has, and an honest caller tries again shortly.
		// Counted per member device: a tab's key is its device's to mint, and each fresh one had a fresh burst.
		const caller = this.init.deviceOf?.(m.workspaceId, peerId) ?? peerId;
		const rate = this.joins.check(caller);
		if (rate === 'over-first') this.init.onError?.(new HuddleJoinRateError(`${peerId} called more than ${JOIN_BURST} times in a row: its calls are refused for a while`));
		if (rate !== 'ok') return deny(HuddleDenied.full);
		this.calls.get(peerId)?.close(); // a peer that calls again (a reload) replaces its call
		if (this.calls.size >= MAX_CALLS) return deny(HuddleDenied.full);
		const call = new SignalCall(frames, peerId, m.workspaceId, m.channelId, 'responder');
		if (this.handler === undefined || !this.handler(call)) return deny(HuddleDenied.notInHuddle);
		this.joins.take(caller);
		// A member: descriptions up to 64 KiB from now on, and no more than two of them unread.
		frames.setBudget({ maxFrameBytes: MAX_SIGNAL_FRAME_BYTES, maxUnreadBytes: 2 * MAX_SIGNAL_FRAME_BYTES + 1024 });
		this.track(call);
		await frames.write(encodeHuddleMessage({ type: HuddleMessageType.accept }));
		await call.whenEnded();
	}

	/**
	 * Calls `peerId` for the huddle of `channelId`: resolves with the call once accepted; the
	 * caller then sends the offer and reads with {@link SignalCall.run}.
	 * @throws {HuddleDeniedError} when the peer refused; {@link HuddleDeniedError} with reason 1
	 * without dialling when the team's rule does not let `peerId` in.
	 */
	async call(peerId: string, workspaceId: string, channelId: string, signal?: AbortSignal): Promise<SignalCall> {
		if (!this.init.mayJoin(workspaceId, channelId, peerId)) throw new HuddleDeniedError(HuddleDenied.notAllowed);
		const timeout = AbortSignal.timeout(JOIN_TIMEOUT_MS);
		const abort = signal === undefined ? timeout : AbortSignal.any([signal, timeout]);
		const stream = await this.init.node.dialProtocol(peerIdFromString(peerId), HUDDLE_PROTOCOL_ID, { signal: abort, runOnLimitedConnection: true });
		const frames = frameStream(stream, {
			maxFrameBytes: MAX_SIGNAL_FRAME_BYTES,
			budget: { maxFrameBytes: MAX_SIGNAL_FRAME_BYTES, maxUnreadBytes: 2 * MAX_SIGNAL_FRAME_BYTES + 1024 }
		});
		try {
			await frames.write(encodeHuddleMessage({ type: HuddleMessageType.join, workspaceId, channelId }));
			const frame = await frames.read({ signal: abort });
			if (frame === null) throw new HuddleProtocolError('the peer ended the stream before answering JOIN');
			const answer = decodeHuddleMessage(frame);
			if (answer.type === HuddleMessageType.denied) throw new HuddleDeniedError(answer.reason);
			if (answer.type !== HuddleMessageType.accept) throw new HuddleProtocolError(`JOIN answered with type ${answer.type}`);
			// The team may have changed while the peer took its time to accept (found in review: a
			// member removed meanwhile got a live call, and then the offer and the microphone).
			if (!this.init.mayJoin(workspaceId, channelId, peerId)) throw new HuddleDeniedError(HuddleDenied.notAllowed);
		} catch (error) {
			frames.abort(error instanceof Error ? error : new Error(String(error)));
			throw error instanceof Error && error.name === 'AbortError' ? new HuddleProtocolError('the peer did not answer JOIN', { cause: error }) : error;
		}
		this.calls.get(peerId)?.close();
		const call = new SignalCall(frames, peerId, workspaceId, channelId, 'opener');
		this.track(call);
		return call;
	}

	private track(call: SignalCall): void {
		this.calls.set(call.peerId, call);
		void call.whenEnded().then(() => {
			if (this.calls.get(call.peerId) === call) this.calls.delete(call.peerId);
		});
	}
}

export { MalformedHuddleMessageError };
