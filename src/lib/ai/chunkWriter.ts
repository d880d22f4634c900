/**
 * Streams answer text to an asker without holding up generation: `push` never waits for the
 * network; text that arrives while a write is in flight goes out together in the next write.
 * On a fast link every token is its own frame as before; when the link (or the asker's CPU)
 * is slower than the model, frames carry several tokens instead of queueing one per token,
 * which saves the per-frame cost (encryption, multiplexing, decoding) on both sides.
 */

/** Sends one piece of text (one CHUNK); the writer keeps pieces in order. */
export type SendText = (text: string) => Promise<void>;

/** See the module comment. */
export class ChunkWriter {
	private pending = '';
	private flight: Promise<void> | undefined;
	private failure: { error: unknown } | undefined;

	constructor(
		private readonly send: SendText,
		/** Largest text in one send; longer text is split (at character boundaries). */
		private readonly maxChars = 4096
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
