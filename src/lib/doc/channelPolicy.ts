/**
 * The write policy of a channel document: its history only grows. Every replica runs it on
 * every remote update before the update touches the document (writePolicy.ts), so a member
 * with a modified client cannot rewrite what others wrote:
 *
 * - `messages` and `edits` are append-only arrays of signed records: no item of theirs may be
 *   deleted (a hard delete, an edit rolled back), and none may arrive deleted;
 * - `deletions`, `reactions` and `moderation` are maps of signed marks whose entries are set once: an entry
 *   cannot be overwritten (an undelete, a reaction rewritten) nor deleted; a change of mind is
 *   a newer mark (ChannelDoc.ts); under a key of the shape written now only the mark it names
 *   (markKey.ts), so nobody takes the key of another's mark first;
 * - records are plain values (no nested shared types);
 * - `space` (a private space's name and topic, which its root entry would show to everyone)
 *   is a map whose entries are set once;
 * - any other top-level name is refused, except `answers` (a model's live answer, written as it
 *   streams; the finished answer is the answering peer's signed edit, which views trust).
 *
 * Who may post (guests, read-only channels) is not decided here but by the view, from the
 * team and the channel's signed settings (channelRights.ts): whether a post is allowed depends
 * on marks and roles that reach replicas at different times, and a refusal that one replica
 * makes and another does not would split honest replicas for good (a refused item is missing
 * under everything appended after it). What this policy refuses is refused everywhere alike.
 * Whether a record's signature checks out is also the view's call, lazily.
 */
import type * as Y from 'yjs';
import { CHANNEL_MARK_ENTRIES } from './ChannelDoc.js';
import { inspectGrowth, type GrowthRule } from './growth.js';

/** Top-level names of a channel document and their rules (growth.ts). */
const ROOTS: Record<string, GrowthRule> = {
	messages: 'array',
	edits: 'array',
	deletions: 'once',
	reactions: 'once',
	moderation: 'once',
	answers: 'live',
	// A private space's name and topic (set once, by its creator: ChannelDoc.setSpaceInfo).
	space: 'once'
};

/** Why `update` would rewrite the history of channel document `doc`, or undefined when it only adds. */
export function checkChannelUpdate(doc: Y.Doc, update: Uint8Array): string | undefined {
	return inspectGrowth(doc, update, ROOTS, 'refuse', 'a channel', undefined, CHANNEL_MARK_ENTRIES);
}
