/**
 * Streams answer text to an asker without holding up generation: `push` never waits for the
 * network; text that arrives while a write is in flight goes out together in the next write.
 * The first text goes at once; after that at most one send starts per `intervalMs` (one
 * display frame by default), so a fast model's tokens share frames instead of each paying
 * the per-frame cost (encryption, multiplexing, decoding) on both sides, on the host's main
 * thread, which the model's own loop needs too. A reader cannot tell 16 ms apart.
 */

/** Sends one piece of text (one CHUNK); the writer keeps pieces in order. */
export type SendText = (text: string) => Promise<void>;

/** See the module comment. */
export class ChunkWriter {
	private pending = '';
	private flight: Promise<void> | undefined;
	private failure: { error: unknown } | undefined;
	/** When the last send started (`performance.now()`). */
	private lastStart = -Infinity;

	constructor(
		private readonly send: SendText,
		/** Largest text in one send; longer text is split (at character boundaries). */
		private readonly maxChars = 4096,
		/** Least time between the starts of two sends, in milliseconds; 0 sends as soon as the last one is done. */
		private readonly intervalMs = 16
	) {}

	/** Queues text; throws the error of an earlier send that failed. */
	push(text: string): void {
		if (this.failure) throw this.failure.error;
		if (text === '') return;
		this.pending += text;
		this.flight ??= this.pump();
	}

	/** Resolves when everything pushed was sent; rejects with a send's error. */
	async flush(): Promise<void> {
		while (this.flight) await this.flight;
		if (this.failure) throw this.failure.error;
	}

	private async pump(): Promise<void> {
		try {
			while (this.pending !== '' && !this.failure) {
				const wait = this.lastStart + this.intervalMs - performance.now();
				if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
				this.lastStart = performance.now();
				const text = this.pending;
				this.pending = '';
				for (const piece of pieces(text, this.maxChars)) await this.send(piece);
			}
		} catch (error) {
			this.failure = { error };
		} finally {
			// No await since the loop's last check: nothing can have been pushed in between.
			this.flight = undefined;
		}
	}
}

/** `text` in pieces of at most `max` characters (code points, never split in half). */
function pieces(text: string, max: number): string[] {
	if (text.length <= max) return [text];
	const chars = [...text];
	const out: string[] = [];
	for (let i = 0; i < chars.length; i += max) out.push(chars.slice(i, i + max).join(''));
	return out;
}
