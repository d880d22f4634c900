/**
 * "Arrived later": a message whose clock is well before the newest message this device
 * already had when the message reached it (written offline long ago, synced now). The
 * decision is per device and is remembered in Dexie, so the mark survives a reload.
 */
import { hlcWall } from '../doc/hlc.js';
import type { MessageRecord } from '../doc/schema.js';

/** How far behind the newest known message a newcomer must be to count as late. */
export const LATE_THRESHOLD_MS = 5 * 60 * 1000;

/** The records among `incoming` that are late relative to `knownMaxHlc`. */
export function lateAmong(incoming: readonly MessageRecord[], knownMaxHlc: string): MessageRecord[] {
	if (!knownMaxHlc) return [];
	const limit = hlcWall(knownMaxHlc) - LATE_THRESHOLD_MS;
	return incoming.filter((m) => hlcWall(m.hlc) < limit);
}
