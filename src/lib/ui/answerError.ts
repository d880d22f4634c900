/**
 * The text of a failed answer's recorded error, in the reader's language: an answer that
 * failed with a problem the app words itself records the problem's code (ai/engine.ts
 * `failureText`), so a host's or an engine's English never shows inside a translated sentence;
 * any other failure keeps the runtime's own message, which only it can word.
 */
import { WORDED_PROBLEMS } from '$lib/ai/engine';

/** `error` as shown: `ai.problem.<code>` through `t` for a worded problem, else as recorded. */
export function answerErrorText(t: (key: string) => string, error: string | undefined): string {
	if (error !== undefined && WORDED_PROBLEMS.has(error)) return t(`ai.problem.${error}`);
	return error ?? '';
}
