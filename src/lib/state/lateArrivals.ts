/**
 * "Arrived later": a message whose clock is well before the newest message this device
 * already had when the message reached it (written offline long ago, synced now). The
 * decision is per device and is remembered in Dexie, so the mark survives a reload.
 */
import * as Y from 'yjs';
import { hlcWall } from '../doc/hlc.js';
import type { MessageRecord } from '../doc/schema.js';
import { isMessageRecord } from '../doc/validate.js';

/** How far behind the newest known message a newcomer must be to count as late. */
export const LATE_THRESHOLD_MS = 5 * 60 * 1000;

/** The records among `incoming` that are late relative to `knownMaxHlc`. */
export function lateAmong(incoming: readonly MessageRecord[], knownMaxHlc: string): MessageRecord[] {
	if (!knownMaxHlc) return [];
	const limit = hlcWall(knownMaxHlc) - LATE_THRESHOLD_MS;
	return incoming.filter((m) => hlcWall(m.hlc) < limit);
}

/**
 * Message records contained in a Yjs update (e.g. the difference between a document and a
 * saved state vector). Records are recognised by shape; anything unreadable yields nothing.
 */
export function messagesInUpdate(update: Uint8Array): MessageRecord[] {
	try {
		const out: MessageRecord[] = [];
		for (const struct of Y.decodeUpdate(update).structs) {
			if (!(struct instanceof Y.Item) || !(struct.content instanceof Y.ContentAny)) continue;
			for (const v of struct.content.getContent()) if (isMessageRecord(v)) out.push(v);
		}
		return out;
	} catch {
		return [];
	}
}
