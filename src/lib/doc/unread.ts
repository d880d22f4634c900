/**
 * Unread tallies: top-level messages by other people, written after the reader's last
 * read position, and not deleted.
 */
import { ChannelDoc } from './ChannelDoc.js';
import { compareHlc } from './hlc.js';
import { isDeletionRecord, isMessageRecord } from './validate.js';

/** Counts unread messages in a channel document without building a full view. */
export function countUnread(channel: ChannelDoc, lastReadHlc: string, me: string): number {
	let count = 0;
	const seen = new Set<string>();
	channel.messages.forEach((m) => {
		if (!isMessageRecord(m) || m.parent !== undefined || m.author === me || seen.has(m.id)) return;
		seen.add(m.id);
		if (compareHlc(m.hlc, lastReadHlc) <= 0) return;
		const d = channel.deletions.get(m.id);
		if (isDeletionRecord(d) && d.by === m.author) return;
		count++;
	});
	return count;
}
