/**
 * Whether a blob is named by a message that still shows: a replica serves a channel's file
 * only while one of the messages naming it is neither deleted by its author (the newest signed
 * mark decides: channelRights.ts `deletedBySigned`) nor hidden by a current admin or the owner
 * (`hiddenBy`), as the channel view shows it. Found in review: the app hid a deleted message's
 * files, but every replica holding them went on serving them to whoever asked.
 */
import { deletedBySigned, hiddenBy, isModerator, type RoleOf } from '../doc/channelRights.js';
import type { ModerationMark } from '../doc/schema.js';
import { verifyModerationMark } from '../doc/signature.js';
import type { BlobReferences } from './blobReferences.js';

/** Moderation marks' signature verdicts, by the mark as the index holds it (never changed while it exists). */
const moderationChecks = new WeakMap<ModerationMark, boolean>();

/**
 * Whether the newest genuine moderator mark of `marks` (newest first) hides its message; each
 * mark's signature is checked once, and only down to the one that decides.
 */
async function hidden(marks: readonly ModerationMark[], roleOf: RoleOf): Promise<boolean> {
	for (const mark of marks) {
		if (!isModerator(roleOf(mark.by))) continue;
		let genuine = moderationChecks.get(mark);
		if (genuine === undefined) moderationChecks.set(mark, (genuine = await verifyModerationMark(mark)));
		if (genuine) break;
	}
	return hiddenBy(marks, roleOf, (mark) => moderationChecks.get(mark) === true) !== undefined;
}

/**
 * Whether document `docId` names blob `blobId` in a message that shows (see the module
 * comment); true for a document whose references are no channel messages (an AI chat's
 * questions, which are never deleted). `roleOf`: the team's role of a device.
 */
export async function namedByShownPost(references: BlobReferences, docId: string, blobId: string, roleOf: RoleOf): Promise<boolean> {
	const posts = await references.posts(docId, blobId);
	if (posts.length === 0) return true;
	for (const post of posts) {
		const { deletions, moderation } = await references.marks(docId, post.id, post.author);
		if (!deletedBySigned(deletions) && !(await hidden(moderation, roleOf))) return true;
	}
	return false;
}
