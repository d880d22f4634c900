/** The unread rule: others' top-level messages after the read position, not deleted by their author. */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { ChannelDoc } from '../../../src/lib/doc/ChannelDoc';
import { countUnread } from '../../../src/lib/doc/unread';
import { at, msg, softDelete } from './helpers';

const ME = 'me';
const ANA = 'ana';
const BO = 'bo';

describe('countUnread', () => {
	it('counts only what the rule says', () => {
		const channel = new ChannelDoc(new Y.Doc());
		channel.postMany([
			msg('read', ANA, at(100, ANA)),
			msg('mine', ME, at(300, ME)),
			msg('new1', ANA, at(300, ANA)),
			msg('new2', BO, at(400, BO)),
			msg('reply', ANA, at(500, ANA), 'a reply', 'new1'),
			msg('gone', ANA, at(600, ANA)),
			msg('kept', BO, at(700, BO))
		]);
		// A duplicate of an id counts once.
		channel.post(msg('new1', ANA, at(300, ANA)));
		softDelete(channel, 'gone', { by: ANA, hlc: at(800, ANA), sig: 'sig' });
		// Somebody else's deletion does not hide a message.
		softDelete(channel, 'kept', { by: ANA, hlc: at(800, ANA), sig: 'sig' });
		expect(countUnread(channel, at(200, ME), ME)).toBe(3); // new1, new2, kept
		expect(countUnread(channel, '', ME)).toBe(4); // + read
		expect(countUnread(channel, at(999, ME), ME)).toBe(0);
	});
});

describe('countUnread with the posting rules', () => {
	it('counts no post the rules withhold', () => {
		const channel = new ChannelDoc(new Y.Doc());
		channel.post(msg('g1', 'guest', at(300, 'guest'), 'withheld'));
		channel.post(msg('b1', 'bob', at(301, 'bob'), 'shown'));
		expect(countUnread(channel, at(200, ME), ME)).toBe(2);
		expect(countUnread(channel, at(200, ME), ME, (m) => m.author !== 'guest')).toBe(1);
	});
});
