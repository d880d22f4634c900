/**
 * Found in review. Who may post is decided from the record's claimed `author`, never from who signed it
 * (channelRights.ts postShows; the signature is the view's call, "lazily"). So a member posts
 * into a read-only channel (or a guest into any channel) by writing the owner's peer id as the
 * author with a signature of its own: the post is not withheld (MessageItem shows its text,
 * flagged "Unverified … may be forged", where a member's own post would read "Not shown"),
 * and it counts as unread on every member's badge (WorkspaceState.refreshUnread, the notifier's
 * countUnread and ChannelState all count through postShows), with nothing checking the signature.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { postShows, readOnlySpans, archivedSpans, type PostingRules } from '../../../../src/lib/doc/channelRights.js';
import { signChannelEntry, signMessage, verifyMessageNow } from '../../../../src/lib/doc/signature.js';
import { countUnread } from '../../../../src/lib/doc/unread.js';
import { WorkspaceDoc } from '../../../../src/lib/doc/WorkspaceDoc.js';
import { at } from '../helpers.js';
import { replica } from './replica.js';
import { team } from './team.js';

describe('a post whose author is claimed, in a read-only channel', () => {
	it('does not count as unread', async () => {
		const t = await team();
		const root = new WorkspaceDoc(new Y.Doc());
		root.createChannel(await signChannelEntry(t.owner.key, { id: 'news', name: 'announcements', topic: '', private: false, readOnly: true, archived: false, createdAt: 1, createdBy: t.owner.id }));
		const rules: PostingRules = { roleOf: t.roleOf, readOnly: readOnlySpans(root, 'news', t.roleOf), archived: archivedSpans(root, 'news', t.roleOf) };
		const channel = replica('news');
		// The member's own post is withheld, as it should be:
		const own = await signMessage(t.member.key, { id: 'own', author: t.member.id, hlc: at(100, t.member.id), text: 'everyone: wire the money today' }, 'news');
		expect(postShows(own, rules)).toBe(false);
		// The same text with the owner's id as author, signed by the member's key:
		const claimed = await signMessage(t.member.key, { id: 'claimed', author: t.owner.id, hlc: at(110, t.owner.id), text: 'everyone: wire the money today' }, 'news');
		expect(verifyMessageNow(claimed, 'news')).toBe(false);
		channel.postMany([own, claimed]);

		// As WorkspaceState.refreshUnread counts for the admin, whose own id is neither author:
		expect(await countUnread(channel, '', t.admin.id, (m) => postShows(m, rules))).toBe(0);
		// (The notifier's countUnread and ChannelState's count use the same postShows filter. The
		// view renders its text, flagged as possibly forged, where the member's own post is withheld.)
	});

	it('a guest\'s post claiming a member as author does not count as unread either', async () => {
		const t = await team();
		const root = new WorkspaceDoc(new Y.Doc());
		root.createChannel(await signChannelEntry(t.owner.key, { id: 'gen', name: 'general', topic: '', private: false, readOnly: false, archived: false, createdAt: 1, createdBy: t.owner.id }));
		const rules: PostingRules = { roleOf: t.roleOf, readOnly: readOnlySpans(root, 'gen', t.roleOf), archived: archivedSpans(root, 'gen', t.roleOf) };
		const channel = replica('gen');
		const planted = await signMessage(t.guest.key, { id: 'g', author: t.member.id, hlc: at(100, t.member.id), text: 'x' }, 'gen');
		channel.post(planted);
		expect(await countUnread(channel, '', t.admin.id, (m) => postShows(m, rules))).toBe(0);
	});
});
