/**
 * How many blob streams this node has open to each peer at once, over all its fetches and pins.
 * A server takes a few blob streams per connection at once (blobService.ts
 * `MAX_SERVING_STREAMS`) and resets the rest; a device fetching several files from one peer
 * (the view's images, the pins) would otherwise open two streams per fetch and have the extra
 * ones refused, and that peer dropped from its fetches. Waiters are served first come, first
 * served.
 */

/** Slots per peer; {@link run} waits for one. */
export class PeerSlots {
	private readonly peers = new Map<string, { open: number; waiting: Array<() => void> }>();

	constructor(private readonly max: number) {}

	/** Waits for a slot to `peer` (or for `signal`, whose reason it then throws), and counts it. */
	private async take(peer: string, signal?: AbortSignal): Promise<void> {
		signal?.throwIfAborted();
		let slots = this.peers.get(peer);
		if (slots === undefined) this.peers.set(peer, (slots = { open: 0, waiting: [] }));
		if (slots.open >= this.max) {
			const queue = slots.waiting;
			await new Promise<void>((resolve, reject) => {
				const onAbort = () => {
					queue.splice(queue.indexOf(wake), 1);
					reject(signal!.reason);
				};
				const wake = () => {
					signal?.removeEventListener('abort', onAbort);
					resolve();
				};
				queue.push(wake);
				signal?.addEventListener('abort', onAbort, { once: true });
			});
		}
		// A woken waiter takes the slot its waker left counted (see give).
		else slots.open++;
	}

	/** Runs `work` holding a slot to `peer` (waiting for one first, or for `signal`), and gives it back however `work` ends. */
	async run<T>(peer: string, signal: AbortSignal | undefined, work: () => Promise<T>): Promise<T> {
		await this.take(peer, signal);
		try {
			return await work();
		} finally {
			this.give(peer);
		}
	}

	private give(peer: string): void {
		const slots = this.peers.get(peer);
		if (slots === undefined) return;
		const next = slots.waiting.shift();
		// The slot passes to the next waiter as it is (still counted); else it is freed.
		if (next !== undefined) next();
		else if (--slots.open === 0) this.peers.delete(peer);
	}
}
