/**
 * The unread rule: others' top-level messages after the read position, not deleted by their
 * author, whose signatures check out (a record claiming another author counts for nothing).
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { ChannelDoc } from '../../../src/lib/doc/ChannelDoc';
import { countUnread } from '../../../src/lib/doc/unread';
import { signMessage } from '../../../src/lib/doc/signature';
import { formatHlc, MAX_DRIFT_MS } from '../../../src/lib/doc/hlc';
import { at, identity, signedMsg, softDelete, T0 } from './helpers';

const CHANNEL = 'chan-unread';
const me = identity();
const ana = identity();
const bo = identity();
const ME = me.id;
const ANA = ana.id;
const BO = bo.id;

function channel(): ChannelDoc {
	return new ChannelDoc(new Y.Doc({ guid: CHANNEL }));
}

describe('countUnread', () => {
	it('counts only what the rule says', async () => {
		const c = channel();
		c.postMany([
			await signedMsg(CHANNEL, 'read', ana, at(100, ANA)),
			await signedMsg(CHANNEL, 'mine', me, at(300, ME)),
			await signedMsg(CHANNEL, 'new1', ana, at(300, ANA)),
			await signedMsg(CHANNEL, 'new2', bo, at(400, BO)),
			await signedMsg(CHANNEL, 'reply', ana, at(500, ANA), 'a reply', 'new1'),
			await signedMsg(CHANNEL, 'gone', ana, at(600, ANA)),
			await signedMsg(CHANNEL, 'kept', bo, at(700, BO))
		]);
		// A duplicate of an id counts once.
		c.post(await signedMsg(CHANNEL, 'new1', ana, at(300, ANA)));
		softDelete(c, 'gone', { by: ANA, hlc: at(800, ANA), sig: 'sig' });
		// Somebody else's deletion does not hide a message.
		softDelete(c, 'kept', { by: ANA, hlc: at(800, ANA), sig: 'sig' });
		expect(await countUnread(c, at(200, ME), ME)).toBe(3); // new1, new2, kept
		expect(await countUnread(c, '', ME)).toBe(4); // + read
		expect(await countUnread(c, at(999, ME), ME)).toBe(0);
	});

	it('counts no post whose signature fails: one claiming another author, or signed for another channel (found in review)', async () => {
		const c = channel();
		c.post(await signMessage(bo.key, { id: 'claimed', author: ANA, hlc: at(300, ANA), text: 'in Ana’s name' }, CHANNEL));
		c.post(await signedMsg('another-channel', 'moved', ana, at(301, ANA)));
		c.post(await signedMsg(CHANNEL, 'real', ana, at(302, ANA)));
		expect(await countUnread(c, at(200, ME), ME)).toBe(1);
	});
});

describe('countUnread with the posting rules', () => {
	it('counts no post the rules withhold', async () => {
		const guest = identity();
		const c = channel();
		c.post(await signedMsg(CHANNEL, 'g1', guest, at(300, guest.id), 'withheld'));
		c.post(await signedMsg(CHANNEL, 'b1', bo, at(301, BO), 'shown'));
		expect(await countUnread(c, at(200, ME), ME)).toBe(2);
		expect(await countUnread(c, at(200, ME), ME, (m) => m.author !== guest.id)).toBe(1);
	});
});

describe('countUnread and many posts', () => {
	it('gives the event loop back while it checks signatures (found in review: 1,500 posts blocked a page for seconds)', async () => {
		const c = channel();
		const posts = [];
		for (let i = 0; i < 200; i++) posts.push(await signedMsg(CHANNEL, `flood-${i}`, bo, at(1000 + i, BO), `spam ${i}`));
		c.postMany(posts);
		let ticks = 0;
		const timer = setInterval(() => ticks++, 0);
		try {
			expect(await countUnread(c, '', ME)).toBe(200);
		} finally {
			clearInterval(timer);
		}
		expect(ticks).toBeGreaterThan(0);
	});
});

describe('countUnread and a post dated ahead', () => {
	const DAY = 24 * 60 * 60 * 1000;
	const wall = (ms: number, node: string) => formatHlc({ wall: ms, counter: 0, node });

	it('does not count a post dated past the reader’s clock (plus the drift it allows) until its time (found in review)', async () => {
		const c = channel();
		const reader = T0 + 1000;
		c.post(await signedMsg(CHANNEL, 'honest', bo, wall(reader - 10, BO)));
		// Dated a year ahead by its author: it sorts last for everyone.
		c.post(await signedMsg(CHANNEL, 'ahead', ana, wall(reader + 365 * DAY, ANA)));
		expect(await countUnread(c, '', ME, undefined, reader)).toBe(1);
		// Read up to the most a read position moves (ChannelState markRead): nothing is left.
		const readTo = wall(reader + MAX_DRIFT_MS, '');
		expect(await countUnread(c, readTo, ME, undefined, reader)).toBe(0);
		expect(await countUnread(c, readTo, ME, undefined, reader + DAY)).toBe(0);
		// Once its time comes it counts, as any post after the read position.
		expect(await countUnread(c, readTo, ME, undefined, reader + 365 * DAY)).toBe(1);
	});

	it('still counts a post from a clock a little ahead (within the drift an honest clock may have)', async () => {
		const c = channel();
		const reader = T0 + 1000;
		c.post(await signedMsg(CHANNEL, 'fast', ana, wall(reader + 10 * 60 * 1000, ANA)));
		expect(await countUnread(c, at(0, ME), ME, undefined, reader)).toBe(1);
	});
});
