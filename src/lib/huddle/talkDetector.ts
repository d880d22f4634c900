/**
 * "Who is talking", from audio levels: a voice counts as talking once its RMS level has stayed
 * above a threshold for {@link TALK_ON_MS}, and stops once it has stayed below for
 * {@link TALK_OFF_MS} (a pause between words does not make the indicator flicker). Pure: fed
 * with (time, level) samples by a meter (levelMeter.ts) that reads an AnalyserNode.
 */

/** RMS (of samples in −1…1) above which a voice counts: about −40 dBFS. */
export const TALK_THRESHOLD = 0.01;
/** How long the level must stay above the threshold. */
export const TALK_ON_MS = 150;
/** How long the level must stay below it to stop. */
export const TALK_OFF_MS = 400;

/** RMS of audio samples. */
export function rms(samples: Float32Array): number {
	let sum = 0;
	for (const s of samples) sum += s * s;
	return samples.length === 0 ? 0 : Math.sqrt(sum / samples.length);
}

/** See the module comment. */
export class TalkDetector {
	private aboveSince: number | undefined;
	private belowSince: number | undefined;
	/** Whether the voice counts as talking now. */
	talking = false;

	constructor(private readonly threshold = TALK_THRESHOLD) {}

	/** Takes a level measured at `now` (ms); returns whether talking changed. */
	sample(now: number, level: number): boolean {
		const loud = level > this.threshold;
		if (loud) {
			this.belowSince = undefined;
			this.aboveSince ??= now;
		} else {
			this.aboveSince = undefined;
			this.belowSince ??= now;
		}
		const next = this.talking ? !(this.belowSince !== undefined && now - this.belowSince >= TALK_OFF_MS) : this.aboveSince !== undefined && now - this.aboveSince >= TALK_ON_MS;
		if (next === this.talking) return false;
		this.talking = next;
		return true;
	}
}
