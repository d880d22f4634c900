/**
 * Ending a running answer once its asker may no longer have it. A model host asks the asker's
 * access again every few chunks (llmHost.ts), but an engine that produces no chunk for a long
 * time (a long prompt being read in) kept the answer of a member removed or demoted meanwhile
 * running until its next check or its end (found in review). As a tool host does
 * (toolAccessWatch.ts), the host watches the asker's team instead: after every change it folds,
 * the access is asked again, and a refusal ends the generation at once.
 */
import { EngineError } from './engine.js';
import { oneCheckAtATime, type TeamWatch } from './toolAccessWatch.js';

/**
 * Asks `refusal` after every change `watch` reports (one check at a time, the changes reported
 * meanwhile asked once after it: toolAccessWatch.ts `oneCheckAtATime`) and, when it gives a
 * reason (or throws: a check that fails refuses), aborts `controller` with an
 * {@link EngineError} `not-allowed` of that reason. Returns the unsubscribe, to call when the
 * answer ends.
 */
export function endWhenRefused(watch: TeamWatch, refusal: () => Promise<string | undefined>, controller: AbortController): () => void {
	const check = oneCheckAtATime(async (): Promise<void> => {
		if (controller.signal.aborted) return;
		const why = await Promise.resolve()
			.then(refusal)
			.catch(() => 'Your access to this model could not be checked again: the answer stopped.');
		if (why !== undefined && !controller.signal.aborted) controller.abort(new EngineError('not-allowed', why));
	});
	return watch(check);
}
