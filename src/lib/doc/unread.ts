/**
 * Unread tallies: top-level messages by other people, written after the reader's last
 * read position, and not deleted.
 */
import { ChannelDoc, deletionIndex, isDeletedIn } from './ChannelDoc.js';
import { signedPosts } from './channelRights.js';
import { compareHlc } from './hlc.js';
import type { MessageRecord } from './schema.js';
import { isMessageRecord } from './validate.js';

/**
 * Whether a top-level message counts as unread for `me`: written by someone else, after the
 * read position, and not deleted by its author. The one rule behind every unread tally.
 */
export function countsAsUnread(m: MessageRecord, lastReadHlc: string, me: string, deleted: boolean): boolean {
	if (m.parent !== undefined || m.author === me || compareHlc(m.hlc, lastReadHlc) <= 0) return false;
	return !deleted;
}

/**
 * Counts unread messages in a channel document without building a full view; `shows` (the
 * channel's posting rules: channelRights.ts `postShows`) leaves out posts nobody is shown
 * (found in review: a guest's 50 withheld posts showed as 50 unread on every member's badge),
 * and posts whose signature fails (a record claiming another author) count for nothing.
 */
export async function countUnread(channel: ChannelDoc, lastReadHlc: string, me: string, shows: (m: MessageRecord) => boolean = () => true): Promise<number> {
	const candidates: MessageRecord[] = [];
	const seen = new Set<string>();
	const deletions = deletionIndex(channel);
	channel.messages.forEach((m) => {
		if (!isMessageRecord(m) || seen.has(m.id)) return;
		seen.add(m.id);
		if (countsAsUnread(m, lastReadHlc, me, isDeletedIn(deletions, m.id, m.author)) && shows(m)) candidates.push(m);
	});
	// Checked last, and only these: a signature check costs about a millisecond.
	return (await signedPosts(candidates, channel.id)).length;
}
