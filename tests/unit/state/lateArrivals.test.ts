/** "Arrived later": which incoming messages count as late, and reading records out of updates. */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { ChannelDoc, recordsSince } from '../../../src/lib/doc/ChannelDoc';
import { formatHlc } from '../../../src/lib/doc/hlc';
import type { MessageRecord } from '../../../src/lib/doc/schema';
import { LATE_THRESHOLD_MS, lateAmong } from '../../../src/lib/state/lateArrivals';

const NOW = Date.UTC(2026, 10, 21, 12);
function msg(id: string, wall: number): MessageRecord {
	return { id, author: 'peer', hlc: formatHlc({ wall, counter: 0, node: 'peer' }), text: id, sig: 'sig' };
}

describe('lateAmong', () => {
	it('marks messages well behind the newest known one, and only those', () => {
		const known = msg('k', NOW).hlc;
		const incoming = [msg('old', NOW - 2 * 3600_000), msg('recent', NOW - 1000), msg('edge', NOW - LATE_THRESHOLD_MS + 1)];
		expect(lateAmong(incoming, known).map((m) => m.id)).toEqual(['old']);
	});

	it('marks nothing when the device knew no message before (a first sync)', () => {
		expect(lateAmong([msg('old', 0)], '')).toEqual([]);
	});
});

describe('recordsSince', () => {
	it('finds the message records added after a state vector, and nothing else', () => {
		const doc = new Y.Doc();
		const channel = new ChannelDoc(doc);
		channel.postMany([msg('a', NOW), msg('a2', NOW)]);
		const sv = Y.decodeStateVector(Y.encodeStateVector(doc));
		channel.postMany([msg('b', NOW + 1), msg('c', NOW + 2)]);
		channel.edit({ msg: 'a', author: 'peer', hlc: msg('x', NOW + 3).hlc, text: 'edited', sig: 'sig' });
		// Records from another peer, merged in.
		const other = new Y.Doc();
		new ChannelDoc(other).post(msg('d', NOW + 4));
		Y.applyUpdate(doc, Y.encodeStateAsUpdate(other));
		expect(recordsSince(channel.messages, sv).map((m) => m.id).sort()).toEqual(['b', 'c', 'd']);
		expect(recordsSince(channel.messages, new Map())).toHaveLength(5);
		expect(recordsSince(channel.messages, Y.decodeStateVector(Y.encodeStateVector(doc)))).toEqual([]);
	});
});
