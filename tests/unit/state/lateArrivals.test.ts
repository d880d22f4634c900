/** "Arrived later": which incoming messages count as late, and reading records out of updates. */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { ChannelDoc } from '../../../src/lib/doc/ChannelDoc';
import { formatHlc } from '../../../src/lib/doc/hlc';
import type { MessageRecord } from '../../../src/lib/doc/schema';
import { LATE_THRESHOLD_MS, lateAmong, messagesInUpdate } from '../../../src/lib/state/lateArrivals';

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

describe('messagesInUpdate', () => {
	it('finds the message records an update adds, and nothing else', () => {
		const doc = new Y.Doc();
		const channel = new ChannelDoc(doc);
		channel.post(msg('a', NOW));
		const sv = Y.encodeStateVector(doc);
		channel.postMany([msg('b', NOW + 1), msg('c', NOW + 2)]);
		channel.edit({ msg: 'a', author: 'peer', hlc: msg('x', NOW + 3).hlc, text: 'edited', sig: 'sig' });
		channel.toggleReaction('a', '👍', 'peer');
		const diff = Y.encodeStateAsUpdate(doc, sv);
		expect(messagesInUpdate(diff).map((m) => m.id)).toEqual(['b', 'c']);
	});

	it('yields nothing for unreadable bytes', () => {
		expect(messagesInUpdate(new Uint8Array([255, 255, 255, 255, 255, 255, 255, 255, 255, 255]))).toEqual([]);
	});
});
