/**
 * Ending a running answer once its asker may no longer have it. A model host asks the asker's
 * access again every few chunks (llmHost.ts), but an engine that produces no chunk for a long
 * time (a long prompt being read in) kept the answer of a member removed or demoted meanwhile
 * running until its next check or its end (found in review). As a tool host does
 * (toolAccessWatch.ts), the host watches the asker's team instead: after every change it folds,
 * the access is asked again, and a refusal ends the generation at once.
 */
import { EngineError } from './engine.js';
import { abortWhenRefused, type TeamWatch } from './toolAccessWatch.js';

/**
 * Asks `refusal` after every change `watch` reports (toolAccessWatch.ts `abortWhenRefused`: one
 * check at a time) and, when it gives a reason (or throws: a check that fails refuses), aborts
 * `controller` with an {@link EngineError} `not-allowed` of that reason. Returns the
 * unsubscribe, to call when the answer ends.
 */
export function endWhenRefused(watch: TeamWatch, refusal: () => Promise<string | undefined>, controller: AbortController): () => void {
	const notAllowed = (why: string) => new EngineError('not-allowed', why);
	return abortWhenRefused(
		watch,
		async () => {
			const why = await refusal();
			return why === undefined ? undefined : notAllowed(why);
		},
		controller,
		() => notAllowed('Your access to this model could not be checked again: the answer stopped.')
	);
}
