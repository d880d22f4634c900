/**
 * A question taken back proves nothing: once its asker deleted it (her newest signed deletion
 * mark) or a moderator hid it (the newest genuine mark of a current admin or owner), no answer
 * counts as asked by her (channelRights.ts `withdrawnBy`, `provenAsker`). A relay's answer then
 * shows nowhere, as any relay post; a member host's answer shows as its host's own post,
 * without "asked by". An undo, or "show again", gives the answer back. Found in review: an
 * answer whose question its asker deleted, or a moderator hid, still showed as asked by her.
 * Real Ed25519 keys and real channel documents throughout.
 */
import { describe, expect, it } from 'vitest';
import { ChannelView } from '../../../src/lib/doc/ChannelView.js';
import { postShows, provenAsker, questionsIn, unseenMessages, withQuestions, type PostingRules } from '../../../src/lib/doc/channelRights.js';
import type { ChannelDoc } from '../../../src/lib/doc/ChannelDoc.js';
import type { MessageRecord } from '../../../src/lib/doc/schema.js';
import { deletionMarks, signEdit, signMessage, signModerationMark } from '../../../src/lib/doc/signature.js';
import { at, signedDeletion, type Signer } from './helpers.js';
import { answerTeam } from './answerKit.js';

const DOC = 'general';
const MODEL = 'tiny';

/** A writable channel (read-only from t=1,000,000 on) with an owner, a member and a relay; the member asked `host`'s model at t=100, and `host` answered. */
async function asked(hostOf: (team: ReturnType<typeof answerTeam>) => Signer) {
	const team = answerTeam(DOC, at(1_000_000, ''));
	const { member, channel } = team;
	const host = hostOf(team);
	const question = await signMessage(member.key, { id: 'q1', author: member.id, hlc: at(100, member.id), text: '@tiny hi?', ask: { model: MODEL, host: host.id } }, DOC);
	channel.post(question);
	const answer = await signMessage(host.key, { id: 'a1', author: host.id, hlc: at(110, host.id), text: '', model: MODEL, askedBy: member.id, question: 'q1' }, DOC);
	channel.post(answer);
	channel.edit(await signEdit(host.key, { msg: 'a1', author: host.id, hlc: at(120, host.id), text: 'Hello.', end: { status: 'done' } }));
	return { ...team, host, question, answer };
}

/** What every rule-maker says of `answer`: [its asker as a view proves it, shown in the view, shown by the document's rules, not among the unseen]. */
async function verdicts(channel: ChannelDoc, rules: PostingRules, answer: MessageRecord) {
	const view = new ChannelView(channel);
	const viewRules = withQuestions(rules, view);
	const out = [provenAsker(answer, viewRules.questions), postShows(answer, viewRules), postShows(answer, { ...rules, questions: questionsIn(channel, rules.roleOf) }), !(await unseenMessages(channel, rules)).has(answer.id)];
	view.destroy();
	return out;
}

describe('an answer whose question its asker deleted', () => {
	it('a relay’s shows nowhere, and shows again when she undoes the deletion', async () => {
		const { member, rules, channel, answer } = await asked((t) => t.relay);
		expect(await verdicts(channel, rules, answer)).toEqual([member.id, true, true, true]);
		channel.markDeletion(await signedDeletion('q1', member, at(200, member.id)));
		expect(await verdicts(channel, rules, answer)).toEqual([undefined, false, false, false]);
		channel.markDeletion(await signedDeletion('q1', member, at(300, member.id), false));
		expect(await verdicts(channel, rules, answer)).toEqual([member.id, true, true, true]);
	});

	it('a deletion in her name she did not sign, or by anyone else, changes nothing', async () => {
		const { member, relay, rules, channel, answer } = await asked((t) => t.relay);
		// The relay signs a mark claiming the member deleted the question (to withdraw an honest
		// answer is no gain to it, but the mark must not count either way), and one of its own.
		const forged = await deletionMarks.sign(relay.key, { msg: 'q1', by: member.id, hlc: at(200, member.id), deleted: true });
		channel.markDeletion(forged);
		channel.markDeletion(await signedDeletion('q1', relay, at(210, relay.id)));
		expect(await verdicts(channel, rules, answer)).toEqual([member.id, true, true, true]);
	});

	it('a member host’s answer shows as its host’s own post, no longer asked by her', async () => {
		const { owner, member, rules, channel, answer } = await asked((t) => t.owner);
		expect((await verdicts(channel, rules, answer))[0]).toBe(member.id);
		channel.markDeletion(await signedDeletion('q1', member, at(200, member.id)));
		expect(await verdicts(channel, rules, answer)).toEqual([undefined, true, true, true]);
		expect(answer.author).toBe(owner.id);
	});
});

describe('an answer whose question a moderator hid', () => {
	it('a relay’s shows nowhere until the question is shown again; a member’s "hide" changes nothing', async () => {
		const { owner, member, relay, rules, channel, answer } = await asked((t) => t.relay);
		channel.markModeration(await signModerationMark(member.key, { msg: 'q1', by: member.id, hlc: at(200, member.id), hidden: true }));
		// A mark in the owner's name signed by the relay is not the owner's.
		const forged = await signModerationMark(relay.key, { msg: 'q1', by: owner.id, hlc: at(210, owner.id), hidden: true });
		channel.markModeration(forged);
		expect(await verdicts(channel, rules, answer)).toEqual([member.id, true, true, true]);
		channel.markModeration(await signModerationMark(owner.key, { msg: 'q1', by: owner.id, hlc: at(300, owner.id), hidden: true }));
		expect(await verdicts(channel, rules, answer)).toEqual([undefined, false, false, false]);
		channel.markModeration(await signModerationMark(owner.key, { msg: 'q1', by: owner.id, hlc: at(400, owner.id), hidden: false }));
		expect(await verdicts(channel, rules, answer)).toEqual([member.id, true, true, true]);
	});
});
