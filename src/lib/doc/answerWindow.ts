/**
 * How long after its question a model's answer, and every edit of it, may be dated and still
 * count as that question's answer (channelRights.ts `provenAsker`, `editShows`).
 *
 * Found in review: the relay a member once asked could date its one answer, and any number of
 * further signed edits of it, whenever it chose after the question, days later included, and
 * backdate them into a span where the asker could post (a channel that has since gone
 * read-only). The window is the AI chat's: an answer is on its way at most
 * {@link ANSWER_WINDOW_MS} (AiChatState.svelte.ts `STREAMING_TRUST_MS`). Honest writers always
 * meet it: a host dates an answer it starts late (a long queue, a clock ahead of the asker's),
 * and the end of an answer still running when the window closes, at the window's last
 * millisecond ({@link clockInWindow}; answerSink.ts `channelSink`), so such an answer still
 * shows as asked, with all its text.
 *
 * The window is measured on the clocks the records carry, never the local clock: every
 * replica judges the same records the same way.
 */
import { compareHlc, formatHlc, hlcWall } from './hlc.js';

/** How long after its question an answer and its edits may be dated: 15 minutes. */
export const ANSWER_WINDOW_MS = 15 * 60 * 1000;

/** Whether clock `hlc` falls within the answer window of the question dated `questionHlc` (on or after it, at most {@link ANSWER_WINDOW_MS} later). */
export function withinAnswerWindow(questionHlc: string, hlc: string): boolean {
	const asked = hlcWall(questionHlc);
	const wall = hlcWall(hlc);
	// A clock that does not parse reads as 0: never within a real question's window.
	return compareHlc(questionHlc, hlc) <= 0 && wall >= asked && wall - asked <= ANSWER_WINDOW_MS;
}

/**
 * The clock an honest writer signs an answer, or its end, with: `now`, or, once the window of
 * the question dated `questionHlc` has closed, the window's last millisecond, by `node` (never
 * before `notBefore`: an end's answer). It never dates later than `now`: a `now` not after
 * the question (dated implausibly far ahead, so the writer's clock did not follow it) stays.
 */
export function clockInWindow(questionHlc: string, now: string, node: string, notBefore = questionHlc): string {
	if (compareHlc(now, questionHlc) <= 0 || withinAnswerWindow(questionHlc, now)) return now;
	const last = formatHlc({ wall: hlcWall(questionHlc) + ANSWER_WINDOW_MS, counter: 0, node });
	return compareHlc(last, notBefore) >= 0 ? last : notBefore;
}
