/**
 * Envelopes received on a workspace's gossip topic, opened and applied one after another, with
 * bounds on what waits before anything about it is checked: how many envelopes, how many
 * bytes, and how many from one publisher. Gossipsub does not wait for its handlers, so without
 * them a member publishing faster than a replica opens envelopes made it hold every one (found
 * in review: 2,000 envelopes that never open, nearly all waiting at once; the member's real
 * updates waited behind them). What does not fit is dropped: gossip is a fast path that
 * anti-entropy repairs, and presence renews itself.
 */

/** Bounds of a {@link ReceiveQueue}. */
export interface ReceiveQueueLimits {
	/** Envelopes waiting at once. */
	maxItems: number;
	/** Their bytes together. */
	maxBytes: number;
	/** Envelopes of one publisher waiting at once. */
	maxPerPublisher: number;
}

/** See the module comment. */
export class ReceiveQueue {
	private tail: Promise<void> = Promise.resolve();
	private items = 0;
	private bytes = 0;
	private readonly byPublisher = new Map<string, number>();
	/** The most envelopes that waited at once (for tests and figures). */
	peak = 0;
	/** Envelopes dropped since the queue last ran empty. */
	private droppedNow = 0;

	constructor(private readonly limits: ReceiveQueueLimits) {}

	/** Envelopes waiting now. */
	get pending(): number {
		return this.items;
	}

	/**
	 * Queues `work` on an envelope of `size` bytes from `publisher` (undefined: not known) after
	 * the work queued before it; `onError` hears its failure. Returns false, queuing nothing, when
	 * it would pass a bound; `onDrop` is then called for the first drop after the queue last ran
	 * empty (one report per flood, not one per envelope).
	 */
	push(size: number, publisher: string | undefined, work: () => Promise<void>, onError: (error: unknown) => void, onDrop: () => void): boolean {
		const { maxItems, maxBytes, maxPerPublisher } = this.limits;
		const mine = publisher === undefined ? 0 : (this.byPublisher.get(publisher) ?? 0);
		if (this.items >= maxItems || this.bytes + size > maxBytes || mine >= maxPerPublisher) {
			if (this.droppedNow++ === 0) onDrop();
			return false;
		}
		this.items++;
		this.bytes += size;
		if (publisher !== undefined) this.byPublisher.set(publisher, mine + 1);
		this.peak = Math.max(this.peak, this.items);
		this.tail = this.tail
			.then(work)
			.catch(onError)
			.finally(() => {
				this.items--;
				this.bytes -= size;
				if (publisher !== undefined) {
					const left = (this.byPublisher.get(publisher) ?? 1) - 1;
					if (left > 0) this.byPublisher.set(publisher, left);
					else this.byPublisher.delete(publisher);
				}
				if (this.items === 0) this.droppedNow = 0;
			});
		return true;
	}

	/** Resolves once everything queued so far has run. */
	idle(): Promise<void> {
		return this.tail;
	}
}
