/**
 * The message records an update added to a channel document: what the notifier reads of each
 * remote change, without scanning the channel. Pure: the document is only read.
 */
import * as Y from 'yjs';
import { decodeUpdateShared, type DecodedUpdate } from './decodedUpdate.js';
import type { MessageRecord } from './schema.js';
import { findIn, type AnyStruct } from './updateStructs.js';
import { isMessageRecord } from './validate.js';

/**
 * Well-formed message records that `update`, already applied to `doc`, inserted into the
 * channel's `messages` array (ChannelDoc.ts). An item's type is read from the document (its
 * parent once integrated), since an update names a parent only for an item with no neighbour;
 * records in other parts of the channel (edits, answers) are left out. Bytes that do not
 * decode give nothing.
 */
export function addedMessages(doc: Y.Doc, update: Uint8Array): MessageRecord[] {
	let structs: DecodedUpdate['structs'];
	try {
		structs = decodeUpdateShared(update).structs;
	} catch {
		return [];
	}
	const messages = doc.getArray('messages');
	const store = doc.store.clients as Map<number, AnyStruct[]>;
	const out: MessageRecord[] = [];
	for (const struct of structs) {
		if (!(struct instanceof Y.Item) || !(struct.content instanceof Y.ContentAny)) continue;
		const applied = findIn(store.get(struct.id.client), struct.id.clock);
		if (!(applied instanceof Y.Item) || applied.parent !== messages) continue;
		for (const value of struct.content.getContent()) if (isMessageRecord(value)) out.push(value);
	}
	return out;
}
