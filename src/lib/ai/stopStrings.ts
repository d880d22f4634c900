/**
 * Stop strings over a stream of text pieces: text is released as soon as it can no longer
 * be the start of a stop string, and the stream ends just before the first stop string.
 * Runtime-independent (any engine that streams text can use it).
 */

/** Result of feeding one piece of text. */
export interface StopStep {
	/** Text that is safe to emit now. */
	text: string;
	/** A stop string was produced; nothing after it must be emitted. */
	stopped: boolean;
}

/** Holds back text that might begin a stop string; see the module comment. */
export class StopMatcher {
	private readonly stops: string[];
	private held = '';

	constructor(stops: readonly string[]) {
		this.stops = stops.filter((s) => s.length > 0);
	}

	/** Feeds the next piece of generated text. */
	push(piece: string): StopStep {
		const text = this.held + piece;
		let first = -1;
		for (const stop of this.stops) {
			const at = text.indexOf(stop);
			if (at >= 0 && (first < 0 || at < first)) first = at;
		}
		if (first >= 0) {
			this.held = '';
			return { text: text.slice(0, first), stopped: true };
		}
		const keep = this.longestStopPrefixSuffix(text);
		this.held = text.slice(text.length - keep);
		return { text: text.slice(0, text.length - keep), stopped: false };
	}

	/** The text still held back, at the end of the stream. */
	flush(): string {
		const text = this.held;
		this.held = '';
		return text;
	}

	/** Length of the longest suffix of `text` that is a proper prefix of a stop string. */
	private longestStopPrefixSuffix(text: string): number {
		let best = 0;
		for (const stop of this.stops) {
			for (let n = Math.min(stop.length - 1, text.length); n > best; n--) {
				if (text.endsWith(stop.slice(0, n))) {
					best = n;
					break;
				}
			}
		}
		return best;
	}
}
