/** The translated message for an error of a note action (NoteDoc's named errors). */
import { MAX_SNAPSHOT_NAME, MAX_TAG_LENGTH, MAX_TAGS } from '$lib/doc/NoteDoc';

/** An i18n key with its values. */
export interface NoteErrorText {
	key: string;
	values?: Record<string, string | number>;
}

/** Maps an error thrown by a tag action (`what: 'tag'`) or a snapshot action to its message. */
export function noteErrorText(error: unknown, what: 'tag' | 'snapshot'): NoteErrorText {
	const name = error instanceof Error ? error.name : '';
	switch (name) {
		case 'EmptyNameError':
			return { key: what === 'tag' ? 'notes.errors.emptyTag' : 'notes.errors.emptySnapshotName' };
		case 'NameTooLongError':
			return what === 'tag'
				? { key: 'notes.errors.tagTooLong', values: { max: MAX_TAG_LENGTH } }
				: { key: 'notes.errors.snapshotNameTooLong', values: { max: MAX_SNAPSHOT_NAME } };
		case 'DuplicateTagError':
			return { key: 'notes.errors.duplicateTag' };
		case 'TooManyTagsError':
			return { key: 'notes.errors.tooManyTags', values: { max: MAX_TAGS } };
		case 'UnknownSnapshotError':
			return { key: 'notes.errors.unknownSnapshot' };
		default:
			throw error;
	}
}
