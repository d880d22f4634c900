/**
 * Tool arguments and results for people: JSON indented when it parses, other text as it is.
 * A model (or a peer serving one) writes the arguments and a tool's data the result, and a
 * person approves a call from what this shows, so bidi controls, invisible and control
 * characters are shown as `\uXXXX` escapes rather than acted on (found in review: an RLO in an
 * argument showed its value reversed in the approval).
 */
import { revealInvisible } from '../../markdown/invisible.js';

/** `text` pretty-printed (two spaces) when it is JSON, otherwise as it is; invisible characters revealed either way. */
export function prettyJson(text: string): string {
	const trimmed = text.trim();
	if (!trimmed.startsWith('{') && !trimmed.startsWith('[')) return revealInvisible(text);
	try {
		return revealInvisible(JSON.stringify(JSON.parse(trimmed), null, 2));
	} catch {
		return revealInvisible(text);
	}
}
