/**
 * Message grouping, as chat apps show it: consecutive messages by one author a few minutes
 * apart read as one group, the first with the avatar, name and time, the rest compact.
 */
import { hlcWall } from '$lib/doc/hlc';
import type { MessageRecord } from '$lib/doc/schema';

/** The longest gap (by the messages' clock timestamps) that still continues a group. */
export const GROUP_GAP_MS = 5 * 60_000;

/**
 * Whether `msg` continues the group of `prev`, the message shown just above it: the same
 * author (a model's answers group apart from their serving peer's own messages, and by model),
 * written at most {@link GROUP_GAP_MS} after it. A message whose clock runs backwards (one
 * that arrived late) starts a group of its own.
 */
export function continuesGroup(
	prev: Pick<MessageRecord, 'author' | 'hlc' | 'model'> | undefined,
	msg: Pick<MessageRecord, 'author' | 'hlc' | 'model'>
): boolean {
	if (!prev || prev.author !== msg.author || prev.model !== msg.model) return false;
	const gap = hlcWall(msg.hlc) - hlcWall(prev.hlc);
	return gap >= 0 && gap <= GROUP_GAP_MS;
}
