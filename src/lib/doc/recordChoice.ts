/**
 * Which of two records of one id a view keeps: a channel's messages, an AI chat's records and
 * the search index all choose the same way, so that a replica that held a record live, one
 * that read the document from scratch, and search all show the same message.
 *
 * A record whose signature fails never wins. Between two that check out, the stronger claim to
 * the id wins: an id bound to the record's author ({@link isIdOf}) over one bound to the member
 * who asked and the host that writes the answer ({@link answerIdFor}), over an unbound one (ids
 * made before binding, tests). Between equal claims the record held first stays. A member who
 * copies another's id into a record of her own therefore never displaces it, whatever place
 * she gives her copy in the array (found in review: the first valid record won, so a copy put
 * before the genuine one took its place on every view built from scratch).
 */
import { isIdOf, newIdFor } from './ids.js';

/** The fields of a record that decide its claim to its id. */
export interface IdClaimant {
	id: string;
	author: string;
	model?: string;
	askedBy?: string;
}

/** What an answer's id is bound to when another peer than the asker writes it. */
function answerBinding(asker: string, writer: string): string {
	return `${asker}\n${writer}`;
}

/**
 * A new id for a model's answer that `asker` asks and `writer` (the asker itself, or the host
 * serving the model) writes: bound to both, so no third member can claim it (found in review:
 * bound to the asker alone, any member's record claiming that asker tied with the host's).
 */
export function answerIdFor(asker: string, writer: string): string {
	return newIdFor(writer === asker ? asker : answerBinding(asker, writer));
}

/** 2: the id is the author's own; 1: its asker's and its author's, on a model's answer; 0: unbound. */
export function idClaim(r: IdClaimant): 0 | 1 | 2 {
	if (isIdOf(r.id, r.author)) return 2;
	if (r.model !== undefined && r.askedBy !== undefined && isIdOf(r.id, answerBinding(r.askedBy, r.author))) return 1;
	return 0;
}

/**
 * Whether `next` takes the place of `held`, a record of the same id met before it. `verified`
 * checks a signature (the costly part: called only when the claims leave the choice open).
 */
export function replacesHeld<T extends IdClaimant>(held: T, next: T, verified: (r: T) => boolean): boolean {
	if (held === next) return false;
	if (verified(held)) return idClaim(next) > idClaim(held) && verified(next);
	return verified(next);
}
