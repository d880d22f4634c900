/**
 * Unread tallies: top-level messages by other people, written after the reader's last
 * read position, and not deleted. A message's time is its author's claim: one dated past
 * what the reader's clock allows ({@link datedAhead}) is not counted until then.
 */
import { ChannelDoc, deletionIndex, isDeletedIn } from './ChannelDoc.js';
import { signedPosts } from './channelRights.js';
import { compareHlc, hlcWall, MAX_DRIFT_MS } from './hlc.js';
import type { MessageRecord } from './schema.js';
import { isMessageRecord } from './validate.js';

/**
 * Whether a message's clock `hlc` is later than the reader's clock `now` allows: past `now` by
 * more than {@link MAX_DRIFT_MS}, the most an honest clock is trusted ahead (HybridClock
 * ignores clocks further ahead; ChannelState `markRead` never moves the read position past
 * it). Found in review: a post dated a year ahead stayed unread for every member for that
 * year, as "mark as read" cannot move the read position past the ceiling.
 */
export function datedAhead(hlc: string, now: number): boolean {
	return hlcWall(hlc) > now + MAX_DRIFT_MS;
}

/**
 * Whether a top-level message counts as unread for `me`: written by someone else, after the
 * read position, not dated past the reader's clock `now` ({@link datedAhead}: such a post
 * counts once that time comes, if still after the read position), and not deleted by its
 * author. The one rule behind every unread tally.
 */
export function countsAsUnread(m: MessageRecord, lastReadHlc: string, me: string, deleted: boolean, now: number = Date.now()): boolean {
	if (m.parent !== undefined || m.author === me || compareHlc(m.hlc, lastReadHlc) <= 0 || datedAhead(m.hlc, now)) return false;
	return !deleted;
}

/**
 * Counts unread messages in a channel document without building a full view; `shows` (the
 * channel's posting rules: channelRights.ts `postShows`) leaves out posts nobody is shown
 * (found in review: a guest's 50 withheld posts showed as 50 unread on every member's badge),
 * and posts whose signature fails (a record claiming another author) count for nothing.
 */
export async function countUnread(
	channel: ChannelDoc,
	lastReadHlc: string,
	me: string,
	shows: (m: MessageRecord) => boolean = () => true,
	now: number = Date.now()
): Promise<number> {
	const candidates: MessageRecord[] = [];
	const seen = new Set<string>();
	const deletions = deletionIndex(channel);
	channel.messages.forEach((m) => {
		if (!isMessageRecord(m) || seen.has(m.id)) return;
		seen.add(m.id);
		if (countsAsUnread(m, lastReadHlc, me, isDeletedIn(deletions, m.id, m.author), now) && shows(m)) candidates.push(m);
	});
	// Checked last, and only these: a signature check costs about a millisecond.
	return (await signedPosts(candidates, channel.id)).length;
}
