/**
 * Judging an edit reads the channel's records (for its questions: channelRights.ts
 * `channelQuestions`) only when the edited message is a model's answer, once for every edit.
 * Found in review: judging any edit asked for the channel's records (`shownText` read the view's
 * `byId` to find questions, whatever the message), so a search pass carrying a member's edit of
 * a new message read the whole channel for nothing. Real signatures.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { ChannelDoc } from '../../../../src/lib/doc/ChannelDoc';
import type { PostingRules } from '../../../../src/lib/doc/channelRights';
import type { MessageRecord } from '../../../../src/lib/doc/schema';
import { signMessage } from '../../../../src/lib/doc/signature';
import { recordsById } from '../../../../src/lib/doc/channelRights';
import { editJudge } from '../../../../src/lib/store/search/editRules';
import { at, identity, signedEdit, signedMsg } from '../../doc/helpers';

const DOC = 'general';

describe('editJudge', () => {
	it('reads no records for a member’s edits, and reads them once for a relay’s answers', async () => {
		const member = identity();
		const relay = identity();
		const roles: Record<string, string> = { [member.id]: 'member', [relay.id]: 'relay' };
		const rules: PostingRules = { roleOf: (peer) => roles[peer], readOnly: [] };
		const channel = new ChannelDoc(new Y.Doc({ guid: DOC }));
		const post = await signedMsg(DOC, 'm1', member, at(100, member.id));
		const question = await signMessage(member.key, { id: 'q1', author: member.id, hlc: at(110, member.id), text: '@tiny hi', ask: { model: 'tiny', host: relay.id } }, DOC);
		const answer = await signMessage(relay.key, { id: 'a1', author: relay.id, hlc: at(120, relay.id), text: '', model: 'tiny', askedBy: member.id, question: 'q1' }, DOC);
		for (const m of [post, question, answer]) channel.post(m);
		let reads = 0;
		const records = (): ReadonlyMap<string, MessageRecord> => {
			reads++;
			return recordsById(channel.messages.toArray(), DOC);
		};
		const shows = editJudge(rules, DOC, records);
		for (let i = 0; i < 5; i++) expect(shows(await signedEdit('m1', member, at(200 + i, member.id), `edit ${i}`), post)).toBe(true);
		expect(reads).toBe(0);
		for (let i = 0; i < 3; i++) expect(shows(await signedEdit('a1', relay, at(300 + i, relay.id), `answer ${i}`), answer)).toBe(true);
		expect(reads).toBe(1);
	});
});
