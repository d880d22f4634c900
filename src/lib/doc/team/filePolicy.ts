/**
 * The workspace's rule for attachments, as the team folds it: an admin's `file-policy`
 * operation sets the largest file a message may carry, the size up to which images and voice
 * notes are fetched as soon as their message arrives, and the types nobody may attach. Every
 * replica applies it: a sender's device refuses to attach what it forbids, and no replica
 * serves, pins or fetches a blob whose reference it forbids (core/blobMesh.ts), so a modified
 * client that attaches one anyway gets it to nobody.
 */
import type { AttachmentRef } from '../schema.js';
import type { Team } from './teamTypes.js';

/** See the module comment. */
export interface FilePolicy {
	/** Largest attachment, in bytes. */
	maxBytes: number;
	/** Images and voice notes up to this size are fetched as soon as their message arrives. */
	autoFetchBytes: number;
	/** Blocked types: MIME types (`application/x-msdownload`), families (`video/*`) or name endings (`.exe`). */
	blocked: string[];
}

/** Most entries in {@link FilePolicy.blocked}. */
export const MAX_BLOCKED_TYPES = 32;
/** The largest attachment any policy allows (what a blob manifest can describe). */
export const MAX_POLICY_BYTES = 4 * 1024 ** 3;
/** One blocked entry: a MIME type or family, or a name ending. */
export const BLOCKED_TYPE = /^(?:[a-z0-9][a-z0-9.+-]{0,63}\/(?:\*|[a-z0-9][a-z0-9.+-]{0,99})|\.[a-z0-9]{1,16})$/;

/** The rule of a workspace with no `file-policy` operation. */
export const DEFAULT_FILE_POLICY: Readonly<FilePolicy> = Object.freeze({ maxBytes: 512 * 1024 * 1024, autoFetchBytes: 10 * 1024 * 1024, blocked: [] });

/** The team's rule for attachments. */
export function filePolicy(team: Pick<Team, 'filePolicy'>): FilePolicy {
	return team.filePolicy ?? DEFAULT_FILE_POLICY;
}

/** What the rule says of a file: allowed, too large, or of a blocked type. */
export type FileVerdict = 'ok' | 'tooLarge' | 'blocked';

/** Whether the rule allows a file of `size` bytes named `name` of type `mime`. */
export function fileVerdict(policy: FilePolicy, file: Pick<AttachmentRef, 'size' | 'mime' | 'name'>): FileVerdict {
	if (file.size > policy.maxBytes) return 'tooLarge';
	return isBlocked(policy.blocked, file.mime, file.name) ? 'blocked' : 'ok';
}

/** Whether `mime` or the ending of `name` matches a blocked entry (case does not matter). */
export function isBlocked(blocked: readonly string[], mime: string, name: string): boolean {
	const type = mime.split(';')[0]!.trim().toLowerCase();
	const family = `${type.split('/')[0]}/*`;
	const lowerName = name.toLowerCase();
	return blocked.some((entry) => entry === type || entry === family || (entry.startsWith('.') && lowerName.endsWith(entry)));
}
