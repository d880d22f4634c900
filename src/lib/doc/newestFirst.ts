/**
 * Lists of marks kept newest first (by their clock), with what was added already remembered,
 * so adding one costs a binary search and one insertion rather than a scan of the list and a
 * sort of it (found in review: 10,000 marks by one peer on one message took 3–4 s to index, and
 * 20,000 up to 23 s, on every open of the channel, since a document only grows).
 */
import { compareHlc } from './hlc.js';

/** Each list's keys added so far (the lists are the index's own arrays). */
const added = new WeakMap<object[], Set<string>>();

/**
 * Adds `item` to `list` (kept newest first by `hlcOf`, ties after those already there) unless an
 * item of the same `key` is in it already; returns whether it was added. A list must only ever
 * grow through this function (its keys are remembered from its first item on).
 */
export function addNewestFirst<T extends object>(list: T[], item: T, hlcOf: (item: T) => string, key: string): boolean {
	let keys = added.get(list);
	if (keys === undefined) added.set(list, (keys = new Set()));
	if (keys.has(key)) return false;
	keys.add(key);
	const hlc = hlcOf(item);
	// The first place whose clock is older than the item's: newest first, equal clocks in arrival order.
	let lo = 0;
	let hi = list.length;
	while (lo < hi) {
		const mid = (lo + hi) >>> 1;
		if (compareHlc(hlcOf(list[mid]!), hlc) >= 0) lo = mid + 1;
		else hi = mid;
	}
	list.splice(lo, 0, item);
	return true;
}
