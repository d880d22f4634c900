/**
 * Hybrid logical clock (Kulkarni et al.): wall-clock milliseconds plus a counter, so that
 * timestamps follow real time when clocks are sane and still respect causality when they
 * are not. Encoded as a fixed-width string that sorts lexicographically in clock order;
 * the node id (a peer id) breaks ties, so every message has one stable place in history.
 */

/** A decoded timestamp. */
export interface Hlc {
	/** Milliseconds since the Unix epoch. */
	wall: number;
	/** Orders events within one millisecond. */
	counter: number;
	/** The peer that made the timestamp. */
	node: string;
}

const WALL_WIDTH = 11; // base 36, covers dates far beyond year 5000
const COUNTER_WIDTH = 5;
/** The largest counter that fits {@link COUNTER_WIDTH} base-36 digits. */
const MAX_COUNTER = 36 ** COUNTER_WIDTH - 1;
const HLC_PREFIX = new RegExp(`^[0-9a-z]{${WALL_WIDTH}}\\.[0-9a-z]{${COUNTER_WIDTH}}\\.`);
/** Clocks never run more than this far ahead of the local wall clock. */
export const MAX_DRIFT_MS = 24 * 60 * 60 * 1000;

/** Thrown for a timestamp string that cannot be parsed. */
export class HlcFormatError extends Error {
	override name = 'HlcFormatError';
}

/** Encodes a timestamp as its sortable string form. */
export function formatHlc(hlc: Hlc): string {
	return (
		hlc.wall.toString(36).padStart(WALL_WIDTH, '0') +
		'.' +
		hlc.counter.toString(36).padStart(COUNTER_WIDTH, '0') +
		'.' +
		hlc.node
	);
}

/** Decodes a string made by {@link formatHlc}. */
export function parseHlc(value: string): Hlc {
	const first = WALL_WIDTH;
	const second = WALL_WIDTH + COUNTER_WIDTH + 1;
	if (!HLC_PREFIX.test(value)) {
		throw new HlcFormatError(`not a clock value: ${value.slice(0, 40)}`);
	}
	return {
		wall: parseInt(value.slice(0, first), 36),
		counter: parseInt(value.slice(first + 1, second), 36),
		node: value.slice(second + 1)
	};
}

/** Wall-clock milliseconds of an encoded timestamp, or 0 if it cannot be parsed. */
export function hlcWall(value: string): number {
	return HLC_PREFIX.test(value) ? parseInt(value.slice(0, WALL_WIDTH), 36) : 0;
}

/** Orders two encoded timestamps (the string order is the clock order). */
export function compareHlc(a: string, b: string): number {
	return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * A hybrid logical clock for one node. `now` is injectable for tests.
 */
export class HybridClock {
	private wall = 0;
	private counter = 0;

	constructor(
		readonly node: string,
		private readonly now: () => number = Date.now
	) {}

	/** A new timestamp for a local event, later than every timestamp seen so far. */
	tick(): string {
		const physical = this.now();
		if (physical > this.wall) {
			this.wall = physical;
			this.counter = 0;
		} else if (this.counter < MAX_COUNTER) {
			this.counter++;
		} else {
			// The counter is full (a peer sent the largest one): borrow the next millisecond,
			// so the encoding stays fixed-width and still sorts after everything seen.
			this.wall++;
			this.counter = 0;
		}
		return formatHlc({ wall: this.wall, counter: this.counter, node: this.node });
	}

	/**
	 * Merges a timestamp seen in a remote event, so the next local tick orders after it.
	 * Timestamps implausibly far in the future are ignored rather than dragging the clock.
	 */
	receive(remote: string): void {
		let parsed: Hlc;
		try {
			parsed = parseHlc(remote);
		} catch {
			return;
		}
		const physical = this.now();
		if (parsed.wall > physical + MAX_DRIFT_MS) return;
		if (parsed.wall > this.wall) {
			this.wall = parsed.wall;
			this.counter = parsed.counter;
		} else if (parsed.wall === this.wall && parsed.counter > this.counter) {
			this.counter = parsed.counter;
		}
	}
}
