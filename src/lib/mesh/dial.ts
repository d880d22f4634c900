/**
 * Dialling with retries. A LAN mesh dials peers that are not up yet (the relay is still
 * starting), links that drop (phones changing Wi-Fi) and WebRTC connections that
 * sometimes hang: the first WebRTC dial over a fresh relay reservation stalls in about
 * one run in four and a quick retry connects in ~45 ms (STACK-NOTES). So every attempt
 * gets a short timeout that grows with each retry, attempts are spaced by exponential
 * backoff with jitter (peers restarting together do not retry in lock-step), and the
 * caller's signal stops everything at once.
 */
import { TimeoutError } from '@libp2p/interface';
import type { AbortOptions, Connection, Libp2p, PeerId, Stream } from '@libp2p/interface';
import type { Multiaddr } from '@multiformats/multiaddr';
import { DialFailedError } from './transportErrors.js';

/** What can be dialled: a peer id (addresses from the peer store) or addresses. */
export type DialTarget = PeerId | Multiaddr | Multiaddr[];

/** Options of {@link dialWithRetry}. */
export interface DialRetryOptions extends AbortOptions {
	/** Attempts in all, including the first; default 5. */
	attempts?: number;
	/** Timeout of the first attempt; each later one doubles, up to `maxTimeoutMs`. Default 1,500 ms. */
	firstTimeoutMs?: number;
	/** Longest per-attempt timeout; default 10,000 ms. */
	maxTimeoutMs?: number;
	/** Pause after the first failure, before jitter; doubles each time. Default 200 ms. */
	firstDelayMs?: number;
	/** Longest pause between attempts, before jitter; default 5,000 ms. */
	maxDelayMs?: number;
	/** Told about each failed attempt that will be retried (for logs and UI state). */
	onRetry?: (event: RetryEvent) => void;
	/** Source of jitter in [0, 1); default `Math.random` (tests pass a fixed one). */
	random?: () => number;
}

/** One failed attempt that will be retried. */
export interface RetryEvent {
	/** The attempt that failed, from 1. */
	attempt: number;
	error: Error;
	/** The pause before the next attempt. */
	delayMs: number;
}

/**
 * libp2p errors that another attempt cannot fix: our gater refused every address, we
 * dialled ourselves, or the target is malformed. These end the dial at once.
 * (`NoValidAddressesError` is retried: a peer id's addresses may arrive meanwhile.)
 */
const PERMANENT_ERRORS = new Set(['DialDeniedError', 'InvalidPeerIdError', 'InvalidMultiaddrError', 'InvalidParametersError']);

const DEFAULTS = {
	attempts: 5,
	firstTimeoutMs: 1500,
	maxTimeoutMs: 10_000,
	firstDelayMs: 200,
	maxDelayMs: 5000
} as const;

/** The error to throw for an aborted signal: its reason when that is an Error. */
function abortReason(signal: AbortSignal): Error {
	const reason: unknown = signal.reason;
	if (reason instanceof Error) return reason;
	const error = new Error('The operation was aborted');
	error.name = 'AbortError';
	return error;
}

/** A signal that aborts when `parent` does or after `ms`; `dispose` releases the timer. */
function attemptSignal(parent: AbortSignal | undefined, ms: number) {
	const controller = new AbortController();
	const onParentAbort = () => controller.abort(parent?.reason);
	const timer = setTimeout(() => controller.abort(new TimeoutError(`Dial attempt timed out after ${ms} ms`)), ms);
	parent?.addEventListener('abort', onParentAbort, { once: true });
	return {
		signal: controller.signal,
		dispose() {
			clearTimeout(timer);
			parent?.removeEventListener('abort', onParentAbort);
		}
	};
}

/** Waits `ms`, or rejects at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
	return new Promise((resolve, reject) => {
		if (signal?.aborted) return reject(abortReason(signal));
		const onAbort = () => {
			clearTimeout(timer);
			reject(abortReason(signal!));
		};
		const timer = setTimeout(() => {
			signal?.removeEventListener('abort', onAbort);
			resolve();
		}, ms);
		signal?.addEventListener('abort', onAbort, { once: true });
	});
}

function describe(target: DialTarget): string {
	if (Array.isArray(target)) return target.map(String).join(', ');
	return target.toString();
}

/**
 * The pause after failed attempt `attempt` (from 1): `firstDelayMs · 2^(attempt−1)`,
 * capped at `maxDelayMs`, then scaled by a random factor in [0.5, 1).
 */
export function backoffDelay(attempt: number, options: DialRetryOptions = {}): number {
	const first = options.firstDelayMs ?? DEFAULTS.firstDelayMs;
	const max = options.maxDelayMs ?? DEFAULTS.maxDelayMs;
	const random = options.random ?? Math.random;
	const base = Math.min(max, first * 2 ** (attempt - 1));
	return Math.round(base * (0.5 + random() / 2));
}

/**
 * Dials `target`, retrying with backoff; resolves with the connection (an existing one
 * if libp2p already has it). Rejects with {@link DialFailedError} (the last attempt's
 * error as `cause`) when every attempt failed or one failed for good (the gater denied
 * it, a dial to ourselves), or with the signal's reason (an `AbortError` by default)
 * as soon as `options.signal` aborts.
 */
export async function dialWithRetry(
	node: Pick<Libp2p, 'dial'>,
	target: DialTarget,
	options: DialRetryOptions = {}
): Promise<Connection> {
	const { signal } = options;
	const attempts = Math.max(1, Math.floor(options.attempts ?? DEFAULTS.attempts));
	const firstTimeoutMs = options.firstTimeoutMs ?? DEFAULTS.firstTimeoutMs;
	const maxTimeoutMs = Math.max(firstTimeoutMs, options.maxTimeoutMs ?? DEFAULTS.maxTimeoutMs);
	let lastError: Error = new Error('no attempt made');

	for (let attempt = 1; attempt <= attempts; attempt++) {
		if (signal?.aborted) throw abortReason(signal);
		const timeoutMs = Math.min(maxTimeoutMs, firstTimeoutMs * 2 ** (attempt - 1));
		const perAttempt = attemptSignal(signal, timeoutMs);
		try {
			return await node.dial(target, { signal: perAttempt.signal });
		} catch (err) {
			if (signal?.aborted) throw abortReason(signal);
			// libp2p reports our timeout as its own AbortError; say what actually happened.
			lastError = perAttempt.signal.aborted
				? abortReason(perAttempt.signal)
				: err instanceof Error
					? err
					: new Error(String(err));
		} finally {
			perAttempt.dispose();
		}
		if (PERMANENT_ERRORS.has(lastError.name)) {
			throw new DialFailedError(`Cannot connect to ${describe(target)}: ${lastError.message}`, attempt, { cause: lastError });
		}
		if (attempt === attempts) break;
		const delayMs = backoffDelay(attempt, options);
		options.onRetry?.({ attempt, error: lastError, delayMs });
		await sleep(delayMs, signal);
	}
	throw new DialFailedError(
		`Could not connect to ${describe(target)} after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${lastError.message}`,
		attempts,
		{ cause: lastError }
	);
}

/** Options of {@link openStream}. */
export interface OpenStreamOptions extends DialRetryOptions {
	/** Allow a relayed (data- and time-limited) connection; default false. */
	runOnLimitedConnection?: boolean;
}

/**
 * Connects to `peer` with {@link dialWithRetry} (reusing a live connection) and opens a
 * stream for `protocol` on it. Protocol negotiation is bounded by the signal only.
 */
export async function openStream(
	node: Pick<Libp2p, 'dial'>,
	peer: DialTarget,
	protocol: string,
	options: OpenStreamOptions = {}
): Promise<Stream> {
	const connection = await dialWithRetry(node, peer, options);
	return connection.newStream(protocol, {
		signal: options.signal,
		runOnLimitedConnection: options.runOnLimitedConnection
	});
}
