/**
 * How often one peer may have a huddle call taken. Each JOIN a responder takes makes a new
 * RTCPeerConnection (and closes the one of the call it replaces), and a peer in the huddle
 * could re-JOIN as often as it liked (found in review): a token bucket per peer (the signalling
 * keys it by member device, a tab counting as the device that delegated to it) bounds it to
 * {@link JOIN_BURST} calls, then one per {@link JOIN_EVERY_MS}. An honest peer joins once, and
 * again after a network drop or a reload, well within the burst; one that is over is refused
 * until a token is back (its caller retries), and reported once until then.
 */

/** Calls of one peer taken in a row before the rate applies. */
export const JOIN_BURST = 4;
/** Milliseconds for one more call to be taken once the burst is spent. */
export const JOIN_EVERY_MS = 10_000;
/** Peers tracked at once (member devices of the huddle's workspaces); beyond, the oldest goes. */
const MAX_TRACKED = 256;

interface Bucket {
	tokens: number;
	at: number;
	told: boolean;
}

/** What {@link JoinBucket.check} says of a peer's JOIN. */
export type JoinVerdict = 'ok' | 'over' | 'over-first';

/** See the module comment. */
export class JoinBucket {
	private readonly buckets = new Map<string, Bucket>();

	constructor(
		private readonly burst = JOIN_BURST,
		private readonly everyMs = JOIN_EVERY_MS,
		private readonly now: () => number = Date.now
	) {}

	/** Whether a call of `peer` may be taken now: `over-first` the first time it is over since it last was taken. */
	check(peer: string): JoinVerdict {
		const bucket = this.refill(peer);
		if (bucket === undefined || bucket.tokens >= 1) return 'ok';
		if (bucket.told) return 'over';
		bucket.told = true;
		return 'over-first';
	}

	/** Counts a call of `peer` taken (after {@link check} said ok). */
	take(peer: string): void {
		const bucket = this.refill(peer) ?? { tokens: this.burst, at: this.now(), told: false };
		bucket.tokens = Math.max(0, bucket.tokens - 1);
		bucket.told = false;
		this.buckets.delete(peer);
		if (this.buckets.size >= MAX_TRACKED) this.buckets.delete(this.buckets.keys().next().value!);
		this.buckets.set(peer, bucket); // most recent last
	}

	/** `peer`'s bucket with what the time since brought back; undefined (and forgotten) once full. */
	private refill(peer: string): Bucket | undefined {
		const bucket = this.buckets.get(peer);
		if (bucket === undefined) return undefined;
		const now = this.now();
		bucket.tokens = Math.min(this.burst, bucket.tokens + (now - bucket.at) / this.everyMs);
		bucket.at = now;
		if (bucket.tokens < this.burst) return bucket;
		this.buckets.delete(peer);
		return undefined;
	}
}
