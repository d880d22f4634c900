/**
 * Named errors of the transport layer (node factory, gater, dialling, framed streams).
 * Match on `name`, as everywhere in Outpost. The sync protocol's own errors live in
 * `errors.ts`.
 */

/** A deny-list entry given to the gater is not an IP address or CIDR block. */
export class InvalidDenyEntryError extends Error {
	override name = 'InvalidDenyEntryError';
}

/** A relay (bootstrap) address is not a multiaddr ending in `/p2p/<peer id>`. */
export class InvalidRelayAddressError extends Error {
	override name = 'InvalidRelayAddressError';
}

/** Every attempt of {@link dialWithRetry} failed; `cause` is the last attempt's error. */
export class DialFailedError extends Error {
	override name = 'DialFailedError';
	/** How many attempts were made. */
	readonly attempts: number;

	constructor(message: string, attempts: number, options?: { cause?: unknown }) {
		super(message, options);
		this.attempts = attempts;
	}
}

/**
 * A length prefix announced a frame larger than the stream's limit (or a varint too long
 * to be a valid length). The stream is aborted before anything of that size is allocated.
 */
export class FrameTooLargeError extends Error {
	override name = 'FrameTooLargeError';
}

/** The bytes on a framed stream do not form whole frames (bad prefix, cut-off frame). */
export class MalformedFrameError extends Error {
	override name = 'MalformedFrameError';
}

/** A stream this peer closed cleanly whose remote did not close its end in time; it is reset. */
export class StreamCloseTimeoutError extends Error {
	override name = 'StreamCloseTimeoutError';
}

/**
 * A peer made this side hold more than its budget allows (unprovenBudget.ts: bytes received
 * before it proved membership); the stream is aborted.
 */
export class BudgetExceededError extends Error {
	override name = 'BudgetExceededError';
}

/** A peer stopped taking what this side sends (its window stayed shut); the stream is dropped, not buffered for. */
export class SlowPeerError extends Error {
	override name = 'SlowPeerError';
}
