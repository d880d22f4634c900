/** A hostile member's change delivered to an honest replica through the real write policy. */
import * as Y from 'yjs';
import { ChannelDoc } from '../../../../src/lib/doc/ChannelDoc.js';
import { checkRemoteUpdate } from '../../../../src/lib/doc/team/writePolicy.js';
import { applyRemoteUpdate } from '../../../../src/lib/mesh/updateCheck.js';

/** A channel replica whose Yjs guid is its id (as every store sets it). */
export function replica(id: string): ChannelDoc {
	return new ChannelDoc(new Y.Doc({ guid: id }));
}

/** A copy of `honest` that a hostile client edits. */
export function hostileCopy(honest: ChannelDoc): ChannelDoc {
	const doc = new Y.Doc({ guid: honest.id });
	Y.applyUpdate(doc, Y.encodeStateAsUpdate(honest.doc));
	return new ChannelDoc(doc);
}

/** Sends what `from` holds that `to` lacks through the channel write policy; throws when refused. */
export function deliver(from: ChannelDoc, to: ChannelDoc): void {
	const update = Y.encodeStateAsUpdate(from.doc, Y.encodeStateVector(to.doc));
	const why = checkRemoteUpdate('ws', to.id, to.doc, update, { channel: true });
	if (why !== undefined) throw new Error(`refused: ${why}`);
	applyRemoteUpdate(to.doc, update, 'remote');
}
