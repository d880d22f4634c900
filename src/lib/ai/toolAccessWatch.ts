/**
 * Ending a running shared tool call once its caller may no longer run it. A host checks the
 * caller's role against the tool's rule when a call starts; a call can then run for its server's
 * time limit (30 s on the relay), so a member removed, demoted below the tool's rule, or whose
 * device was removed while it ran kept the call (and its slot) to the end (found in review).
 * The host watches the caller's team instead: after every change it folds, the check is asked
 * again, and a refusal aborts the call with {@link ToolAccessEndedError}, which the host turns
 * into a refusal for the caller (HTTP 403, or ERROR not-allowed on the mesh) if it still listens.
 */

/** A running call was stopped because its caller's access to the tool ended. */
export class ToolAccessEndedError extends Error {
	override name = 'ToolAccessEndedError';
}

/** Calls `changed` after every change of the team a call's access depends on; returns the unsubscribe. */
export type TeamWatch = (changed: () => void) => () => void;

/**
 * `check` run once at a time: a change reported while it runs has it run once more when it
 * ends, however many changes came meanwhile (found in review: a member writing team operations
 * one after another had every running call start one more check per change, each still running
 * while the next began; a model host's check for an answer written into a document copies the
 * workspace's root). The last change is always checked after it was folded. `check` must not throw.
 */
export function oneCheckAtATime(check: () => Promise<void>): () => void {
	let running = false;
	let again = false;
	const run = async (): Promise<void> => {
		running = true;
		try {
			do {
				again = false;
				await check();
			} while (again);
		} finally {
			running = false;
		}
	};
	return () => {
		if (running) again = true;
		else void run();
	};
}

/** The words a caller is told when its running call of `tool` is stopped so. */
export function accessEndedMessage(tool: string): string {
	return `Your access to the tool "${tool}" ended while it ran (your role, your membership, this device's place in the team, or the tool's rule changed), so the call was stopped.`;
}

/**
 * Asks `refusal` after every change `watch` reports (one check at a time: {@link
 * oneCheckAtATime}; with `checkNow`, once now too, for a change folded since the first check),
 * and aborts `controller` with the error it gives; a check that throws aborts with `failed()`
 * (an access check that fails refuses). Returns the unsubscribe, to call when the work ends.
 * The one mechanism behind a tool call's watch ({@link abortWhenAccessEnds}) and a model
 * answer's (answerAccessWatch.ts).
 */
export function abortWhenRefused(
	watch: TeamWatch,
	refusal: () => Error | undefined | Promise<Error | undefined>,
	controller: AbortController,
	failed: () => Error,
	checkNow = false
): () => void {
	const check = oneCheckAtATime(async (): Promise<void> => {
		if (controller.signal.aborted) return;
		const refused = await Promise.resolve().then(refusal).catch(failed);
		if (refused !== undefined && !controller.signal.aborted) controller.abort(refused);
	});
	const unwatch = watch(check);
	if (checkNow) check();
	return unwatch;
}

/**
 * Asks `stillMay` after every change `watch` reports, and once now ({@link abortWhenRefused}),
 * and aborts `controller` with a {@link ToolAccessEndedError} for `tool` when it says no (or
 * throws). Returns the unsubscribe, to call when the call ends.
 */
export function abortWhenAccessEnds(watch: TeamWatch, stillMay: () => boolean | Promise<boolean>, controller: AbortController, tool: string): () => void {
	const ended = () => new ToolAccessEndedError(accessEndedMessage(tool));
	return abortWhenRefused(watch, async () => ((await stillMay()) ? undefined : ended()), controller, ended, true);
}
