/**
 * A post whose author is no current member device shows only when its author was once the
 * device of an owner, admin or member (found in review: a guest signed a post with a throwaway
 * key nobody admitted, and it showed to every member as verified, in search and export too).
 */
import { describe, expect, it } from 'vitest';
import { postShows, unseenMessages, type PostingRules } from '../../../../src/lib/doc/channelRights.js';
import { signMessage, verifyMessage } from '../../../../src/lib/doc/signature.js';
import { at } from '../helpers.js';
import { deliver, hostileCopy, replica } from './replica.js';
import { team, throwaway } from './team.js';

describe('a guest posting with a throwaway key', () => {
	it('is withheld like the guest’s own posts', async () => {
		const t = await team();
		expect(t.roleOf(t.guest.id)).toBe('guest');
		// As WorkspaceState.postingRules builds them, for a writable channel.
		const rules: PostingRules = { roleOf: t.roleOf, postedEver: (peerId) => t.folded.noteWriters.has(peerId), readOnly: [] };
		const honest = replica('general');
		const hostile = hostileCopy(honest);
		const own = await signMessage(t.guest.key, { id: 'g1', author: t.guest.id, hlc: at(100, t.guest.id), text: 'from the guest' }, honest.id);
		const sock = throwaway();
		const puppet = await signMessage(sock.key, { id: 'g2', author: sock.id, hlc: at(200, sock.id), text: 'URGENT: wire the money to …' }, honest.id);
		hostile.post(own);
		hostile.post(puppet);
		deliver(hostile, honest); // a guest's device syncs channels (it reacts), so the update is taken

		expect(postShows(own, rules)).toBe(false); // the rule holds for the guest's own key
		expect(await verifyMessage(puppet, honest.id)).toBe(true); // shown as verified
		const unseen = await unseenMessages(honest, rules);
		expect(unseen.has('g1')).toBe(true);
		// The throwaway key's post is shown to everyone: it should be withheld as well.
		expect(postShows(puppet, rules)).toBe(false);
		expect(unseen.has('g2')).toBe(true);
		// A member's post shows, and so does one of a device that once wrote as a member.
		const memberPost = await signMessage(t.member.key, { id: 'm1', author: t.member.id, hlc: at(300, t.member.id), text: 'hello' }, honest.id);
		expect(postShows(memberPost, rules)).toBe(true);
		expect(postShows(memberPost, { ...rules, roleOf: () => undefined })).toBe(true);
	});
});
