/**
 * Runs one {@link SyncSession} over one framed libp2p stream (frameStream.ts): frames in
 * are fed to `session.receive` in order, the session's sends become frames out, and the
 * two end together. A framing error, a failed write or a session error ends the session
 * and resets *that stream only*; a clean end on either side closes it gracefully. Also the
 * responder's first step: reading the HELLO and picking the workspace it names.
 */
import { DeniedReason, MessageType, PROTOCOL_VERSION, type SyncLimits } from './constants.js';
import { MalformedMessageError, SessionEndedEarlyError } from './errors.js';
import type { FrameStream } from './frameStream.js';
import { SlowPeerError, StreamCloseTimeoutError } from './transportErrors.js';
import { SessionState, type SyncSession } from './SyncSession.js';
import { decodeMessage, encodeMessage, sizeLimit, type Hello } from './wire.js';

/** How long a locally closed stream waits for the remote to close its end before it is reset. */
export const CLOSE_GRACE_MS = 5000;

/** The largest frame a sync stream accepts: the largest message any type may have. */
export function maxSyncFrameBytes(limits: SyncLimits): number {
	return Math.max(
		limits.maxControlBytes,
		sizeLimit(MessageType.update, limits),
		sizeLimit(MessageType.syncStep2, limits)
	);
}

/**
 * A `send` for {@link SyncSession}: writes each message as a frame, in order (stream writes
 * are queued synchronously), and resets the stream when a write fails. What the transport
 * has not taken yet is bounded: a send that would queue more than `maxQueuedBytes` (by
 * default 65 MiB: one largest catch-up message and 1 MiB) drops the stream with {@link SlowPeerError} instead
 * of buffering for a peer that stopped reading.
 */
export function frameSender(frames: FrameStream, maxQueuedBytes = DEFAULT_MAX_QUEUED_BYTES): (bytes: Uint8Array) => void {
	return (bytes) => {
		const queued = frames.queuedBytes;
		if (queued > 0 && queued + bytes.byteLength > maxQueuedBytes) {
			const error = new SlowPeerError(`${queued} bytes wait for the peer to read; one more message would pass ${maxQueuedBytes}`);
			frames.abort(error);
			throw error;
		}
		frames.write(bytes).catch((error: unknown) => frames.abort(asError(error)));
	};
}

/** Default bound of {@link frameSender}'s queue: one largest catch-up message and 1 MiB. */
export const DEFAULT_MAX_QUEUED_BYTES = 65 * 1024 * 1024;

/** Bytes a session may leave queued (its peer's window shut) before it waits for them to go: {@link frameDrain}. */
export const LOW_WATER_BYTES = 1024 * 1024;

/**
 * A `drained` for {@link SyncSession}: resolves at once while at most `lowWaterBytes` wait for
 * the transport (live traffic never waits), else once the queue is back under it; rejects with
 * {@link SlowPeerError} (and drops the stream) when it is not within `timeoutMs`: the peer's
 * window stayed shut.
 */
export function frameDrain(frames: FrameStream, timeoutMs: number, lowWaterBytes = LOW_WATER_BYTES): () => Promise<void> {
	return async () => {
		const deadline = Date.now() + timeoutMs;
		while (frames.queuedBytes > lowWaterBytes) {
			const left = deadline - Date.now();
			if (frames.stream.status !== 'open') throw new SlowPeerError('the stream closed with answers still queued');
			if (left <= 0) {
				const slow = new SlowPeerError(`the peer took nothing for ${timeoutMs} ms (${frames.queuedBytes} bytes wait)`);
				frames.abort(slow);
				throw slow;
			}
			// The drain event, or a look again shortly (the event only comes after a shut window).
			await Promise.race([frames.drained({ signal: AbortSignal.timeout(left) }).catch(() => undefined), delay(Math.min(50, left))]);
		}
	};
}

function delay(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Starts `session` and pumps frames into it until the session or the stream ends. Feeds
 * `first` (an already-read HELLO) before reading. Resolves with the error that ended the
 * session, if any (the session's own, or the stream's); never rejects.
 */
export async function runSyncStream(
	frames: FrameStream,
	session: SyncSession,
	first?: Uint8Array,
	graceMs = CLOSE_GRACE_MS
): Promise<Error | undefined> {
	let streamError: Error | undefined;
	session.on('closed', () => {
		if (session.error !== undefined) return frames.abort(session.error);
		// A clean end: the remote sees the end of our side as the clean end of its session.
		closeGracefully(frames, graceMs);
	});
	session.start();
	try {
		if (first !== undefined) await session.receive(first);
		while (session.state !== SessionState.closed) {
			const frame = await frames.read();
			if (frame === null) {
				// A session ends cleanly only once it was established; an end (or a reset, which reads
				// the same) before that is a failure, which the opener answers by opening again.
				if (session.state === SessionState.membership) streamError = new SessionEndedEarlyError('the peer ended the stream before the session was established');
				break;
			}
			await session.receive(frame);
		}
	} catch (error) {
		// frameStream already reset the stream; say why the session ended.
		streamError = asError(error);
	}
	if (streamError !== undefined && session.state !== SessionState.closed) frames.abort(streamError);
	session.close(); // a no-op when the session ended first
	return session.error ?? streamError;
}

/** What a responder makes of a stream's first frame. */
export type HelloResult = { ok: true; hello: Hello } | { ok: false; reason: DeniedReason; error: Error };

/**
 * Decodes a stream's first frame as HELLO. Anything else (bad bytes, another message type,
 * another protocol version) is refused with the DENIED reason to send. Never throws.
 */
export function readHello(first: Uint8Array, limits: SyncLimits): HelloResult {
	let message;
	try {
		if (first.length > limits.maxControlBytes) throw new MalformedMessageError('first message over the control limit');
		message = decodeMessage(first, limits);
	} catch (error) {
		return { ok: false, reason: DeniedReason.malformed, error: asError(error) };
	}
	if (message.type !== MessageType.hello) {
		const error = new MalformedMessageError(`first message of type ${message.type}, expected HELLO`);
		return { ok: false, reason: DeniedReason.malformed, error };
	}
	if (message.version !== PROTOCOL_VERSION) {
		return { ok: false, reason: DeniedReason.version, error: new MalformedMessageError(`HELLO of version ${message.version}`) };
	}
	return { ok: true, hello: message };
}

/**
 * Sends DENIED with `reason` as the stream's last frame and closes the stream gracefully
 * ({@link closeGracefully}); whatever else the peer sends is never read.
 */
export async function deny(frames: FrameStream, reason: DeniedReason, graceMs = CLOSE_GRACE_MS): Promise<void> {
	await frames.write(encodeMessage({ type: MessageType.denied, reason }));
	closeGracefully(frames, graceMs);
}

/**
 * Closes our end once everything queued is sent, then waits up to `graceMs` for the remote
 * to close its end (an honest peer does as soon as it reads the end of its session) before
 * resetting the stream: a peer that keeps its end open cannot keep the stream alive here.
 */
export function closeGracefully(frames: FrameStream, graceMs = CLOSE_GRACE_MS): void {
	const { stream } = frames;
	if (stream.status !== 'open') return; // already closing, closed or reset
	const timer = setTimeout(() => frames.abort(new StreamCloseTimeoutError('the peer did not close the stream')), graceMs);
	stream.addEventListener('close', () => clearTimeout(timer), { once: true });
	frames.close().catch(() => {});
}

function asError(error: unknown): Error {
	return error instanceof Error ? error : new Error(String(error));
}
