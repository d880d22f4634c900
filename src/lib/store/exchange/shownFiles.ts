/**
 * Which attachments of a channel an export writes: those its shown messages name. A message
 * its author deleted (the newest signed mark decides, as the view does) or that nobody is shown
 * (hidden by a moderator, withheld by the posting rules: `unseen`) shows no files in the app,
 * so its files' bytes are not written into an export either (found in review: they were). The
 * raw state of the channel still holds the reference, as it holds the message's text.
 */
import type * as Y from 'yjs';
import { ChannelDoc } from '../../doc/ChannelDoc.js';
import { ChannelView } from '../../doc/ChannelView.js';
import { deletedBySigned } from '../../doc/channelRights.js';
import type { AttachmentRef } from '../../doc/schema.js';
import { isMessageRecord } from '../../doc/validate.js';

/** The blobs the shown messages of channel document `doc` reference (blob id → its first such reference). */
export function shownReferences(doc: Y.Doc, unseen: ReadonlySet<string>): Map<string, AttachmentRef> {
	const refs = new Map<string, AttachmentRef>();
	const view = new ChannelView(new ChannelDoc(doc));
	try {
		for (const record of doc.getArray<unknown>('messages')) {
			if (!isMessageRecord(record) || record.files === undefined || unseen.has(record.id) || deletedBySigned(view.deletionMarks(record))) continue;
			for (const file of record.files) if (!refs.has(file.blob)) refs.set(file.blob, file);
		}
	} finally {
		view.destroy();
	}
	return refs;
}
