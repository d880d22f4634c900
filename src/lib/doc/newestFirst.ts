/**
 * Lists of marks kept newest first (by their clock), with what was added already remembered,
 * so adding one costs a binary search and one insertion rather than a scan of the list and a
 * sort of it (found in review: 10,000 marks by one peer on one message took 3–4 s to index, and
 * 20,000 up to 23 s, on every open of the channel, since a document only grows).
 *
 * Two marks of one clock are ordered by their signatures ({@link byNewest}), never by the order
 * they arrived in: found in review, a modified client signing a hide and a show (or a deletion
 * and a restore) of one clock made replicas that met them in different orders disagree on
 * whether a message was hidden or deleted, for good.
 */
import { compareHlc } from './hlc.js';

/**
 * Newest first: the later clock first; of one clock, the smaller `tie` (a signature) first, so
 * every replica orders alike. A comparator for `Array.prototype.sort` over (clock, tie) pairs.
 */
export function byNewest(aHlc: string, aTie: string, bHlc: string, bTie: string): number {
	return compareHlc(bHlc, aHlc) || (aTie < bTie ? -1 : aTie > bTie ? 1 : 0);
}

/** Each list's keys added so far (the lists are the index's own arrays). */
const added = new WeakMap<object[], Set<string>>();

/**
 * Adds `item` to `list` (kept newest first by `hlcOf`, ties by `tieOf`: {@link byNewest}) unless
 * an item of the same `key` is in it already; returns whether it was added. A list must only ever
 * grow through this function (its keys are remembered from its first item on).
 */
export function addNewestFirst<T extends object>(list: T[], item: T, hlcOf: (item: T) => string, tieOf: (item: T) => string, key: string): boolean {
	let keys = added.get(list);
	if (keys === undefined) added.set(list, (keys = new Set()));
	if (keys.has(key)) return false;
	keys.add(key);
	const hlc = hlcOf(item);
	const tie = tieOf(item);
	// The first place that sorts after the item (an older clock, or the same clock and a larger tie).
	let lo = 0;
	let hi = list.length;
	while (lo < hi) {
		const mid = (lo + hi) >>> 1;
		const other = list[mid]!;
		if (byNewest(hlcOf(other), tieOf(other), hlc, tie) <= 0) lo = mid + 1;
		else hi = mid;
	}
	list.splice(lo, 0, item);
	return true;
}
