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
 * - the remote closing its end between two frames is a clean end: `read()` gives `null`.
 *
 * Reads must not overlap (await one before starting the next); writes may.
 */
import type { AbortOptions, Connection, Libp2p, Stream, StreamHandlerOptions } from '@libp2p/interface';
import { lpStream } from '@libp2p/utils';
import type { LengthPrefixedStream, LengthPrefixedStreamOpts } from '@libp2p/utils';
import { FrameTooLargeError, MalformedFrameError } from './transportErrors.js';

/** Default largest frame: 1 MiB. Protocols pass their own bound. */
export const DEFAULT_MAX_FRAME_BYTES = 1024 * 1024;

/** Options of {@link frameStream}. */
export interface FrameStreamInit {
	/** Largest frame accepted or sent, in bytes (payload, without the prefix). */
	maxFrameBytes?: number;
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
	/** Writes one frame; throws {@link FrameTooLargeError} (and sends nothing) if too large. */
	write(frame: Uint8Array, options?: AbortOptions): Promise<void>;
	/** Closes this end for writing once queued frames are sent. */
	close(options?: AbortOptions): Promise<void>;
	/** Aborts the stream in both directions with this error (the remote sees a reset). */
	abort(err: Error): void;
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

	// lpStream calls this after each prefix byte and reads on while it throws RangeError.
	function decodeLength(prefix: ByteList): number {
		prefixBytesSeen = prefix.byteLength;
		let value = 0;
		for (let i = 0; i < prefix.byteLength; i++) {
			const byte = prefix.get(i);
			value += (byte & 0x7f) * 2 ** (7 * i);
			if ((byte & 0x80) === 0) {
				if (value > maxFrameBytes) {
					throw new FrameTooLargeError(`Frame of ${value} bytes announced; the limit is ${maxFrameBytes}`);
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

	/** Turns a read failure into the error to report, aborting the stream when framing broke. */
	function failRead(err: unknown): Error {
		const error = err instanceof Error ? err : new Error(String(err));
		let named: Error = error;
		if (error.name === 'InvalidDataLengthError' || error.name === 'InvalidDataLengthLengthError') {
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

	async function read(options?: AbortOptions): Promise<Uint8Array | null> {
		prefixBytesSeen = 0;
		try {
			return (await lp.read(options)).subarray();
		} catch (err) {
			if (err instanceof Error && err.name === 'UnexpectedEOFError' && prefixBytesSeen === 0) {
				return null;
			}
			throw failRead(err);
		}
	}

	return {
		stream,
		read,
		async write(frame, options) {
			if (frame.byteLength > maxFrameBytes) {
				throw new FrameTooLargeError(`Frame of ${frame.byteLength} bytes; the limit is ${maxFrameBytes}`);
			}
			await lp.write(frame, options);
		},
		close: (options) => stream.close(options),
		abort: (err) => stream.abort(err),
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
export interface HandleFramesOptions extends FrameStreamInit, StreamHandlerOptions {
	/**
	 * Told about every failure of a handler (a framing error, a thrown decoder error);
	 * the stream has been aborted by then. Default: `console.warn`.
	 */
	onError?: (err: Error, connection: Connection) => void;
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
	const { onError, maxFrameBytes, ...handlerOptions } = options;
	const report = onError ?? ((err: Error) => console.warn(`${protocol}: stream failed`, err));
	await node.handle(
		protocol,
		async (stream, connection) => {
			try {
				const frames = frameStream(stream, { maxFrameBytes });
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
