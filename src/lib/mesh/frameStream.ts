/**
 * Whole messages ("frames") over a libp2p 3 stream: each frame is an unsigned-varint
 * length followed by that many bytes, the framing every libp2p protocol uses.
 *
 * libp2p 3 streams are message-based, but a stream's messages are transport chunks,
 * not the sender's messages: Yamux and Noise may split or join them. This wraps
 * `lpStream` from @libp2p/utils and makes it safe against a hostile peer:
 *
 * - a length prefix above `maxFrameBytes` is refused before any buffer of that size
 *   exists, and so is a varint longer than the longest allowed length (endless
 *   continuation bytes would otherwise be read one at a time for ever);
 * - any framing failure (too large, malformed, cut off mid-frame) aborts *that stream*
 *   with a named error ({@link FrameTooLargeError}, {@link MalformedFrameError}) and
 *   rethrows it; the connection and every other stream carry on;
 * - the remote closing its end between two frames is a clean end: `read()` gives `null`;
 * - a {@link ReadBudget} narrows what the stream accepts for a while (before the peer has
 *   proved anything): a smaller frame limit, a cap on bytes received and not yet read, and a
 *   shared account (unprovenBudget.ts) that may refuse them; over it, the stream is aborted;
 * - `queuedBytes` and `drained()` let a sender see and wait out what the transport has not
 *   taken yet (syncStream.ts bounds it).
 *
 * Reads must not overlap (await one before starting the next); writes may.
 */
import type { AbortOptions, Connection, Libp2p, Stream, StreamHandlerOptions } from '@libp2p/interface';
import { lpStream } from '@libp2p/utils';
import type { LengthPrefixedStream, LengthPrefixedStreamOpts } from '@libp2p/utils';
import { BudgetExceededError, FrameTooLargeError, MalformedFrameError } from './transportErrors.js';
import type { Uint8ArrayList } from 'uint8arraylist';

/** Default largest frame: 1 MiB. Protocols pass their own bound. */
export const DEFAULT_MAX_FRAME_BYTES = 1024 * 1024;

/** Options of {@link frameStream}. */
export interface FrameStreamInit {
	/** Largest frame accepted or sent, in bytes (payload, without the prefix). */
	maxFrameBytes?: number;
	/** A budget in force from the first byte (see {@link FrameStream.setBudget}). */
	budget?: ReadBudget;
}

/** A narrower bound on what a stream accepts for a while; see the module comment. */
export interface ReadBudget {
	/** Largest frame accepted now (the stream's own `maxFrameBytes` still caps it). */
	maxFrameBytes: number;
	/** Most bytes received and not read yet that the stream may hold now (none: lpStream's own bound). */
	maxUnreadBytes?: number;
	/**
	 * Told each change of the stream's unread bytes while the budget is in force (positive as
	 * bytes arrive; negative as frames are read, the budget is lifted or the stream ends) and
	 * how many it holds after it. May throw on a positive change to refuse the bytes: the
	 * stream is then aborted with that error.
	 */
	charge?(delta: number, unread: number): void;
}

/** A stream of whole length-prefixed frames; see the module comment. */
export interface FrameStream {
	/** The underlying libp2p stream. */
	readonly stream: Stream;
	/**
	 * Reads the next frame, or `null` when the remote closed cleanly between frames.
	 * A failed or cancelled read aborts the stream: its position is then unknown.
	 */
	read(options?: AbortOptions): Promise<Uint8Array | null>;
	/**
	 * {@link read}, with the frame as the pieces it arrived in, not joined: a reader that copies
	 * a large frame's payload somewhere anyway (blobService.ts) saves a copy.
	 */
	readPieces(options?: AbortOptions): Promise<Uint8ArrayList | null>;
	/**
	 * Writes one frame (a list of parts is sent as one frame without joining them); throws
	 * {@link FrameTooLargeError} (and sends nothing) if too large.
	 */
	write(frame: Uint8Array | Uint8ArrayList, options?: AbortOptions): Promise<void>;
	/** Closes this end for writing once queued frames are sent. */
	close(options?: AbortOptions): Promise<void>;
	/** Aborts the stream in both directions with this error (the remote sees a reset). */
	abort(err: Error): void;
	/** Puts `budget` in force, or with `undefined` lifts it (the stream's own limits stay). */
	setBudget(budget: ReadBudget | undefined): void;
	/** Bytes written that the transport has not taken yet (they wait for the peer's window). */
	readonly queuedBytes: number;
	/** Resolves once the transport has taken what was queued (at once if nothing waits). */
	drained(options?: AbortOptions): Promise<void>;
	/** Reads frames until the remote closes; framing errors are thrown as from `read`. */
	[Symbol.asyncIterator](): AsyncIterator<Uint8Array>;
}

/** Bytes needed to write `n` as an unsigned varint. */
function varintLength(n: number): number {
	let bytes = 1;
	while (n >= 0x80) {
		n = Math.floor(n / 0x80);
		bytes++;
	}
	return bytes;
}

/** The byte list lpStream hands around (a `Uint8ArrayList`). */
type ByteList = Parameters<LengthPrefixedStreamOpts['lengthDecoder']>[0];

/** Wraps a libp2p stream so it reads and writes whole frames; see the module comment. */
export function frameStream(stream: Stream, init: FrameStreamInit = {}): FrameStream {
	const maxFrameBytes = init.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
	if (!Number.isSafeInteger(maxFrameBytes) || maxFrameBytes < 0) {
		throw new RangeError(`maxFrameBytes must be a non-negative integer, got ${maxFrameBytes}`);
	}
	const maxPrefixBytes = varintLength(maxFrameBytes);
	/** Length-prefix bytes seen by the current read; 0 means it ended at a frame boundary. */
	let prefixBytesSeen = 0;
	let budget: ReadBudget | undefined;
	/** Bytes received and not yet handed out by a read (prefixes included). */
	let unread = 0;
	/** Why the budget refused bytes, once it did: the stream is going, later bytes are ignored. */
	let refused: Error | undefined;
	const frameLimit = () => Math.min(maxFrameBytes, budget?.maxFrameBytes ?? maxFrameBytes);

	/** Moves `delta` unread bytes in or out of the budget's account. */
	function account(delta: number): void {
		unread += delta;
		if (budget === undefined || delta === 0) return;
		budget.charge?.(delta, unread);
		if (delta > 0 && budget.maxUnreadBytes !== undefined && unread > budget.maxUnreadBytes) {
			throw new BudgetExceededError(`${unread} bytes received and not read; the limit is ${budget.maxUnreadBytes}`);
		}
	}

	// lpStream calls this after each prefix byte and reads on while it throws RangeError.
	function decodeLength(prefix: ByteList): number {
		prefixBytesSeen = prefix.byteLength;
		let value = 0;
		for (let i = 0; i < prefix.byteLength; i++) {
			const byte = prefix.get(i);
			value += (byte & 0x7f) * 2 ** (7 * i);
			if ((byte & 0x80) === 0) {
				const limit = frameLimit();
				if (value > limit) {
					throw new FrameTooLargeError(`Frame of ${value} bytes announced; the limit is ${limit}`);
				}
				return value;
			}
		}
		if (prefix.byteLength >= maxPrefixBytes) {
			throw new FrameTooLargeError(`Length prefix longer than ${maxPrefixBytes} bytes; the limit is ${maxFrameBytes}`);
		}
		throw new RangeError('incomplete varint');
	}

	const lp: LengthPrefixedStream<Stream> = lpStream(stream, {
		maxDataLength: maxFrameBytes,
		maxLengthLength: maxPrefixBytes,
		lengthDecoder: decodeLength,
		// Unread bytes kept per stream: libp2p's usual 4 MiB, or two whole frames if more.
		// A sender that runs further ahead of our reads than that gets the stream reset.
		maxBufferSize: Math.max(4 * 1024 * 1024, 2 * (maxFrameBytes + maxPrefixBytes))
	});
	budget = init.budget;

	// Counts what arrives (after lpStream's own listener has buffered it) against the budget.
	stream.addEventListener('message', (evt) => {
		if (refused) return;
		try {
			account(evt.data.byteLength);
		} catch (err) {
			const error = err instanceof Error ? err : new Error(String(err));
			refused = error;
			// Let the current dispatch finish first, as lpStream does on its own overflow.
			queueMicrotask(() => stream.abort(error));
		}
	});
	stream.addEventListener('close', () => setBudget(undefined), { once: true });

	function setBudget(next: ReadBudget | undefined): void {
		if (budget !== undefined && unread > 0) budget.charge?.(-unread, 0);
		budget = next;
		if (next !== undefined && unread > 0) next.charge?.(unread, unread);
	}

	/** Turns a read failure into the error to report, aborting the stream when framing broke. */
	function failRead(err: unknown): Error {
		const error = err instanceof Error ? err : new Error(String(err));
		let named: Error = error;
		if (refused !== undefined) {
			named = refused; // the read ended because the budget refused the stream
		} else if (error.name === 'InvalidDataLengthError' || error.name === 'InvalidDataLengthLengthError') {
			named = new FrameTooLargeError(error.message, { cause: error });
		} else if (error.name === 'InvalidMessageLengthError') {
			named = new MalformedFrameError(error.message, { cause: error });
		} else if (error.name === 'UnexpectedEOFError') {
			named = new MalformedFrameError('Stream ended inside a frame', { cause: error });
		}
		// After any failed read the position in the byte stream is unknown: nothing more
		// can be read from it safely, so the stream goes, with the reason attached.
		stream.abort(named);
		return named;
	}

	async function readPieces(options?: AbortOptions): Promise<Uint8ArrayList | null> {
		prefixBytesSeen = 0;
		try {
			const frame = await lp.read(options);
			account(-(prefixBytesSeen + frame.byteLength));
			return frame;
		} catch (err) {
			if (err instanceof Error && err.name === 'UnexpectedEOFError' && prefixBytesSeen === 0) {
				return null;
			}
			throw failRead(err);
		}
	}

	async function read(options?: AbortOptions): Promise<Uint8Array | null> {
		return (await readPieces(options))?.subarray() ?? null;
	}

	return {
		stream,
		read,
		readPieces,
		async write(frame, options) {
			if (frame.byteLength > maxFrameBytes) {
				throw new FrameTooLargeError(`Frame of ${frame.byteLength} bytes; the limit is ${maxFrameBytes}`);
			}
			await lp.write(frame, options);
		},
		close: (options) => stream.close(options),
		abort: (err) => stream.abort(err),
		setBudget,
		get queuedBytes() {
			return stream.writeBufferLength;
		},
		drained: (options) => stream.onDrain(options),
		async *[Symbol.asyncIterator]() {
			while (true) {
				const frame = await read();
				if (frame === null) return;
				yield frame;
			}
		}
	};
}

/** Handler of framed streams registered with {@link handleFrames}. */
export type FrameHandler = (frames: FrameStream, connection: Connection) => void | Promise<void>;

/** Options of {@link handleFrames}. */
export interface HandleFramesOptions extends Omit<FrameStreamInit, 'budget'>, StreamHandlerOptions {
	/**
	 * Told about every failure of a handler (a framing error, a thrown decoder error);
	 * the stream has been aborted by then. Default: `console.warn`.
	 */
	onError?: (err: Error, connection: Connection) => void;
	/** The budget each new stream starts under, from its connection (none: the stream's own limits). */
	budget?: (connection: Connection) => ReadBudget | undefined;
}

/**
 * Registers a handler for `protocol` that receives framed streams; when the handler
 * returns, this end of the stream is closed for writing. Whatever the handler throws is reported through `onError` and aborts only that stream, never the node: a
 * peer's bad bytes cannot take down the service for other peers.
 */
export async function handleFrames(
	node: Pick<Libp2p, 'handle'>,
	protocol: string,
	handler: FrameHandler,
	options: HandleFramesOptions = {}
): Promise<void> {
	const { onError, maxFrameBytes, budget, ...handlerOptions } = options;
	const report = onError ?? ((err: Error) => console.warn(`${protocol}: stream failed`, err));
	await node.handle(
		protocol,
		async (stream, connection) => {
			try {
				const initial = budget?.(connection);
				const frames = frameStream(stream, { maxFrameBytes, ...(initial !== undefined ? { budget: initial } : {}) });
				await handler(frames, connection);
				// A handler that returns is done writing; let the remote see the end.
				await frames.close().catch(() => {});
			} catch (err) {
				const error = err instanceof Error ? err : new Error(String(err));
				stream.abort(error); // a no-op when the frame reader already aborted it
				report(error, connection);
			}
		},
		handlerOptions
	);
}
