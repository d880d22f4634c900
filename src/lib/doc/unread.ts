/**
 * Unread tallies: top-level messages by other people, written after the reader's last
 * read position, and not deleted.
 */
import { ChannelDoc } from './ChannelDoc.js';
import { compareHlc } from './hlc.js';
import type { MessageRecord } from './schema.js';
import { isDeletionRecord, isMessageRecord } from './validate.js';

/**
 * Whether a top-level message counts as unread for `me`: written by someone else, after the
 * read position, and not deleted by its author. The one rule behind every unread tally.
 */
export function countsAsUnread(m: MessageRecord, lastReadHlc: string, me: string, deletion: unknown): boolean {
	if (m.parent !== undefined || m.author === me || compareHlc(m.hlc, lastReadHlc) <= 0) return false;
	return !(isDeletionRecord(deletion) && deletion.by === m.author);
}

/** Counts unread messages in a channel document without building a full view. */
export function countUnread(channel: ChannelDoc, lastReadHlc: string, me: string): number {
	let count = 0;
	const seen = new Set<string>();
	channel.messages.forEach((m) => {
		if (!isMessageRecord(m) || seen.has(m.id)) return;
		seen.add(m.id);
		if (countsAsUnread(m, lastReadHlc, me, channel.deletions.get(m.id))) count++;
	});
	return count;
}
