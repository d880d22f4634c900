/**
 * Shape checks for records read out of shared documents. Documents arrive from other
 * peers, so a record may be missing fields, have the wrong types or be absurdly large;
 * such records are skipped by the views rather than trusted.
 */
import { BLOB_KEY } from '../blob/blobSeal.js';
import { isAnswerEnd } from './answerFields.js';
import type { AskTarget, AttachmentRef, DeletionMark, DeletionRecord, EditRecord, MessageRecord, ModerationMark, ReactionMark, SettingsMark } from './schema.js';

/** Longest message text accepted, in UTF-16 code units (about 40 KB of prose). */
export const MAX_TEXT_LENGTH = 40_000;
const MAX_FIELD_LENGTH = 200;

function shortString(v: unknown): v is string {
	return typeof v === 'string' && v.length > 0 && v.length <= MAX_FIELD_LENGTH;
}

function isObject(v: unknown): v is Record<string, unknown> {
	return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/** True when `v` is a well-formed {@link MessageRecord}. */
export function isMessageRecord(v: unknown): v is MessageRecord {
	return (
		isObject(v) &&
		shortString(v.id) &&
		shortString(v.author) &&
		shortString(v.hlc) &&
		typeof v.text === 'string' &&
		v.text.length <= MAX_TEXT_LENGTH &&
		(v.parent === undefined || shortString(v.parent)) &&
		(v.model === undefined || shortString(v.model)) &&
		(v.askedBy === undefined || shortString(v.askedBy)) &&
		(v.question === undefined || shortString(v.question)) &&
		(v.ask === undefined || isAskTarget(v.ask)) &&
		(v.files === undefined || (Array.isArray(v.files) && v.files.length > 0 && v.files.length <= MAX_FILES && v.files.every(isAttachmentRef))) &&
		shortString(v.sig)
	);
}

/** True when `v` is a well-formed {@link AskTarget} (a question's model and host). */
export function isAskTarget(v: unknown): v is AskTarget {
	return isObject(v) && shortString(v.model) && shortString(v.host);
}

/** Most files attached to one message. */
export const MAX_FILES = 10;
/** Longest image preview carried in a reference (a data URL). */
export const MAX_THUMB_LENGTH = 16 * 1024;
/** Largest blob a reference may name (4 GiB: what a manifest can describe). */
export const MAX_ATTACHMENT_BYTES = 4 * 1024 ** 3;
const BLOB_ID = /^[0-9a-f]{64}$/;
const THUMB = /^data:image\/(jpeg|png|webp);base64,[A-Za-z0-9+/]+=*$/;

function dimension(v: unknown): boolean {
	return v === undefined || (Number.isSafeInteger(v) && (v as number) > 0 && (v as number) <= 100_000);
}

/** True when `v` is a well-formed {@link AttachmentRef}. */
export function isAttachmentRef(v: unknown): v is AttachmentRef {
	return (
		isObject(v) &&
		typeof v.blob === 'string' &&
		BLOB_ID.test(v.blob) &&
		Number.isSafeInteger(v.size) &&
		(v.size as number) >= 0 &&
		(v.size as number) <= MAX_ATTACHMENT_BYTES &&
		shortString(v.mime) &&
		shortString(v.name) &&
		dimension(v.width) &&
		dimension(v.height) &&
		(v.key === undefined || (typeof v.key === 'string' && BLOB_KEY.test(v.key))) &&
		(v.duration === undefined || (Number.isSafeInteger(v.duration) && (v.duration as number) >= 0 && (v.duration as number) <= 24 * 3_600_000)) &&
		(v.thumb === undefined || (typeof v.thumb === 'string' && v.thumb.length <= MAX_THUMB_LENGTH && THUMB.test(v.thumb)))
	);
}

/** True when `v` is a well-formed {@link EditRecord}. */
export function isEditRecord(v: unknown): v is EditRecord {
	return (
		isObject(v) &&
		shortString(v.msg) &&
		shortString(v.author) &&
		shortString(v.hlc) &&
		typeof v.text === 'string' &&
		v.text.length <= MAX_TEXT_LENGTH &&
		(v.end === undefined || isAnswerEnd(v.end)) &&
		shortString(v.sig)
	);
}

/** True when `v` is a well-formed {@link DeletionRecord}. */
export function isDeletionRecord(v: unknown): v is DeletionRecord {
	return isObject(v) && shortString(v.by) && shortString(v.hlc) && shortString(v.sig);
}

/** True when `v` is a well-formed {@link DeletionMark}. */
export function isDeletionMark(v: unknown): v is DeletionMark {
	return isObject(v) && shortString(v.msg) && shortString(v.by) && shortString(v.hlc) && typeof v.deleted === 'boolean' && shortString(v.sig);
}

/** True when `v` is a well-formed {@link ReactionMark}. */
export function isReactionMark(v: unknown): v is ReactionMark {
	return (
		isObject(v) &&
		shortString(v.msg) &&
		shortString(v.emoji) &&
		shortString(v.by) &&
		shortString(v.hlc) &&
		typeof v.on === 'boolean' &&
		shortString(v.sig)
	);
}

/** True when `v` is a well-formed {@link ModerationMark}. */
export function isModerationMark(v: unknown): v is ModerationMark {
	return isObject(v) && shortString(v.msg) && shortString(v.by) && shortString(v.hlc) && typeof v.hidden === 'boolean' && shortString(v.sig);
}

/** True when `v` is a well-formed {@link SettingsMark}: a known field with a value of its type. */
export function isSettingsMark(v: unknown): v is SettingsMark {
	if (!isObject(v) || !shortString(v.channel) || !shortString(v.by) || !shortString(v.hlc) || !shortString(v.sig)) return false;
	if (v.field === 'name' || v.field === 'topic') return typeof v.value === 'string' && v.value.length <= 1000;
	return (v.field === 'readOnly' || v.field === 'archived') && typeof v.value === 'boolean';
}
