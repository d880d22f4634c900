/**
 * What a peer that has proved nothing yet can make this side hold: a small, fixed amount.
 *
 * Every framed stream of a protocol that starts with membership (sync, models, tools) starts
 * under a budget from here, until the remote has proved it holds the workspace's key
 * (syncStream.ts lifts it then); so does every stream of a protocol whose first message is a
 * request the team's rule judges (blobs, huddles), until the rule has accepted it, under that
 * protocol's own smaller bounds ({@link UnprovenBudget.forStream}'s `narrower`). Under it a
 * stream accepts frames of at most `frameBytes` and holds at most `streamBytes` received and
 * not yet read; all such streams of one connection hold at most `connectionBytes` together,
 * and all of them on this node `totalBytes`. Bytes over any of these abort the stream with
 * {@link BudgetExceededError} and are counted in {@link refusals}.
 *
 * The numbers (PROTOCOL.md "Limits") fit the membership exchange with room to spare: its
 * largest message is HELLO with an 8 KiB admission, about 8.3 KiB.
 */
import type { ReadBudget } from './frameStream.js';
import { BudgetExceededError } from './transportErrors.js';

/** The budget's bounds, in bytes. */
export interface UnprovenLimits {
	/** Largest frame of a stream whose peer has not proved membership. */
	frameBytes: number;
	/** Bytes such a stream may hold received and not read. */
	streamBytes: number;
	/** Bytes all such streams of one connection may hold together. */
	connectionBytes: number;
	/** Bytes all such streams on this node may hold together. */
	totalBytes: number;
}

const KiB = 1024;

/** The bounds used when a caller gives none (PROTOCOL.md "Limits"). */
export const DEFAULT_UNPROVEN_LIMITS: Readonly<UnprovenLimits> = Object.freeze({
	frameBytes: 16 * KiB,
	streamBytes: 32 * KiB,
	connectionBytes: 128 * KiB,
	totalBytes: 8 * KiB * KiB
});

/** One node's account of bytes held for peers that have proved nothing yet. */
export class UnprovenBudget {
	readonly limits: UnprovenLimits;
	private held = 0;
	private readonly byConnection = new Map<string, number>();
	private refused = 0;

	/**
	 * `held`: whose bytes these are, in the refusal's words. The same account, with bounds of
	 * its own, holds what members' streams received and did not read yet
	 * ({@link provenLimits}).
	 */
	constructor(
		limits: Partial<UnprovenLimits> = {},
		private readonly whose = 'before the peer proved membership'
	) {
		this.limits = { ...DEFAULT_UNPROVEN_LIMITS, ...limits };
	}

	/** Bytes held now, on all streams under this budget. */
	get heldBytes(): number {
		return this.held;
	}

	/** Streams aborted for going over the budget since this node started. */
	get refusals(): number {
		return this.refused;
	}

	/**
	 * The budget a new stream on connection `connectionId` starts under; `narrower` bounds it
	 * further for a protocol whose first message is smaller (a blob GET, a huddle JOIN): its
	 * bytes still count against the connection's and the node's totals.
	 */
	forStream(connectionId: string, narrower: { maxFrameBytes?: number; maxUnreadBytes?: number } = {}): ReadBudget {
		const { maxFrameBytes = this.limits.frameBytes, maxUnreadBytes } = narrower;
		return {
			maxFrameBytes: Math.min(maxFrameBytes, this.limits.frameBytes),
			...(maxUnreadBytes !== undefined ? { maxUnreadBytes: Math.min(maxUnreadBytes, this.limits.streamBytes) } : {}),
			charge: (delta, unread) => this.charge(connectionId, delta, unread)
		};
	}

	private charge(connectionId: string, delta: number, unread: number): void {
		const onConnection = (this.byConnection.get(connectionId) ?? 0) + delta;
		this.held += delta;
		if (onConnection > 0) this.byConnection.set(connectionId, onConnection);
		else this.byConnection.delete(connectionId);
		if (delta <= 0) return;
		const { streamBytes, connectionBytes, totalBytes } = this.limits;
		const bounds: Array<[held: number, limit: number, what: string]> = [
			[unread, streamBytes, 'one stream'],
			[onConnection, connectionBytes, 'one connection'],
			[this.held, totalBytes, 'this node']
		];
		const over = bounds.find(([held, limit]) => held > limit);
		if (over === undefined) return;
		this.refused++;
		throw new BudgetExceededError(`${over[0]} bytes held for ${over[2]} ${this.whose}; the limit is ${over[1]}`);
	}
}

const MiB = 1024 * KiB;

/**
 * Bounds on what members' sync streams hold received and not yet read, once their peer
 * proved membership: a stream two of its largest frames, one connection three (at least
 * 16 MiB), the node eight (at least 64 MiB): 192 and 512 MiB with the default 64 MiB frame.
 * Found in review: past the proof only each stream was bounded, and a member's 32 streams on
 * one connection, their sessions waiting for their answers to drain, made it hold 4 GiB.
 */
export function provenLimits(maxFrameBytes: number): UnprovenLimits {
	return {
		frameBytes: maxFrameBytes,
		streamBytes: 2 * maxFrameBytes + 64,
		connectionBytes: Math.max(3 * maxFrameBytes, 16 * MiB),
		totalBytes: Math.max(8 * maxFrameBytes, 64 * MiB)
	};
}
