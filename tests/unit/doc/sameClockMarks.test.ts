/**
 * Two signed marks of one signer with one clock (a hide and a show by an admin, a deletion and
 * a restore by an author), or two signed edits of one clock by a message's author, are ordered
 * by their signatures, never by the order a replica met them in (doc/newestFirst.ts `byNewest`).
 * Found in review: a modified client signing both halves of such a pair, and sending them to
 * two replicas in opposite orders, made one replica hide (or delete) a message and the other
 * show it, for good; and the view showed one edit where search found the other. Real Ed25519
 * keys and channel documents; each replica gets the same records in another order.
 */
import * as Y from 'yjs';
import { describe, expect, it } from 'vitest';
import { ChannelDoc } from '../../../src/lib/doc/ChannelDoc.js';
import { ChannelView } from '../../../src/lib/doc/ChannelView.js';
import { deletedBySigned, hiddenBy, moderationOf, shownText, unseenMessages, withQuestions } from '../../../src/lib/doc/channelRights.js';
import type { DeletionMark, EditRecord, MessageRecord, ModerationMark } from '../../../src/lib/doc/schema.js';
import { signEdit, signMessage, signModerationMark } from '../../../src/lib/doc/signature.js';
import { answerTeam } from './answerKit.js';
import { at, signedDeletion } from './helpers.js';

const DOC = 'general';

/** A replica of the channel holding `post`, then `records` in the order given. */
function replica(post: MessageRecord, records: Array<{ mark?: ModerationMark; deletion?: DeletionMark; edit?: EditRecord }>): ChannelDoc {
	const channel = new ChannelDoc(new Y.Doc({ guid: DOC }));
	channel.post(post);
	for (const r of records) {
		if (r.mark !== undefined) channel.markModeration(r.mark);
		if (r.deletion !== undefined) channel.markDeletion(r.deletion);
		if (r.edit !== undefined) channel.edit(r.edit);
	}
	return channel;
}

/** What a replica decides of `post`: hidden by whom (view and document), deleted, unseen, its text. */
async function decides(channel: ChannelDoc, post: MessageRecord, team: ReturnType<typeof answerTeam>) {
	const { writable } = team;
	const view = new ChannelView(channel);
	const genuine = () => true; // every mark here is genuinely signed by its signer
	const out = {
		hiddenInView: hiddenBy(view.moderationMarks(post.id), writable.roleOf, genuine),
		hiddenInDocument: hiddenBy(moderationOf(channel, post.id), writable.roleOf, genuine),
		deleted: deletedBySigned(view.deletionMarks(post)),
		unseen: (await unseenMessages(channel, writable)).has(post.id),
		text: shownText(view, post, withQuestions(writable, view))
	};
	view.destroy();
	return out;
}

describe('marks and edits of one clock', () => {
	it('an admin’s hide and show of one clock: every replica decides alike, whatever order it met them in', async () => {
		const team = answerTeam(DOC, '');
		const { owner, member } = team;
		const post = await signMessage(member.key, { id: 'm1', author: member.id, hlc: at(100, member.id), text: 'the dose is 5 mg' }, DOC);
		const hlc = at(200, owner.id);
		const hide = await signModerationMark(owner.key, { msg: 'm1', by: owner.id, hlc, hidden: true });
		const show = await signModerationMark(owner.key, { msg: 'm1', by: owner.id, hlc, hidden: false });
		const a = await decides(replica(post, [{ mark: hide }, { mark: show }]), post, team);
		const b = await decides(replica(post, [{ mark: show }, { mark: hide }]), post, team);
		expect(a).toEqual(b);
		// And the view and the document's own reading agree on each replica.
		expect(a.hiddenInView).toEqual(a.hiddenInDocument);
	});

	it('an author’s deletion and restore of one clock: every replica decides alike', async () => {
		const team = answerTeam(DOC, '');
		const { member } = team;
		const post = await signMessage(member.key, { id: 'm1', author: member.id, hlc: at(100, member.id), text: 'the dose is 5 mg' }, DOC);
		const hlc = at(200, member.id);
		const del = await signedDeletion('m1', member, hlc, true);
		const restore = await signedDeletion('m1', member, hlc, false);
		const a = await decides(replica(post, [{ deletion: del }, { deletion: restore }]), post, team);
		const b = await decides(replica(post, [{ deletion: restore }, { deletion: del }]), post, team);
		expect(a).toEqual(b);
	});

	it('two edits of one clock by the author: every replica shows the same text', async () => {
		const team = answerTeam(DOC, '');
		const { member } = team;
		const post = await signMessage(member.key, { id: 'm1', author: member.id, hlc: at(100, member.id), text: 'the dose is 5 mg' }, DOC);
		const hlc = at(200, member.id);
		const one = await signEdit(member.key, { msg: 'm1', author: member.id, hlc, text: 'the dose is 50 mg' });
		const two = await signEdit(member.key, { msg: 'm1', author: member.id, hlc, text: 'the dose is 500 mg' });
		const a = await decides(replica(post, [{ edit: one }, { edit: two }]), post, team);
		const b = await decides(replica(post, [{ edit: two }, { edit: one }]), post, team);
		expect(a.text).toBe(b.text);
		expect([one.text, two.text]).toContain(a.text);
	});
});
