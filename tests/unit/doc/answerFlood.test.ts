/**
 * One question, one answer: of the answers naming a question, only the earliest that answers it
 * as asked and is signed counts as asked (channelRights.ts `channelQuestions`, `provenAsker`).
 * Found in review: a single question a member once asked of the relay let the relay (a device
 * admitted with the team role "relay", which never posts) post any number of "answers" to it,
 * each shown where the asker could post at the clock the relay gave it; backdated before the
 * channel went read-only, they showed in the read-only channel. Real Ed25519 keys and real
 * channel documents throughout.
 */
import { describe, expect, it } from 'vitest';
import { ChannelView } from '../../../src/lib/doc/ChannelView.js';
import { channelQuestions, postShows, provenAsker, questionsIn, unseenMessages, withQuestions } from '../../../src/lib/doc/channelRights.js';
import type { MessageRecord } from '../../../src/lib/doc/schema.js';
import { signMessage } from '../../../src/lib/doc/signature.js';
import { at, type Signer } from './helpers.js';
import { answerTeam } from './answerKit.js';

const DOC = 'general';
const MODEL = 'tiny';

/** A channel read-only from t=300 on, with a member and a relay device. */
const setup = () => answerTeam(DOC, at(300, ''));

function answerOf(by: Signer, id: string, t: number, askedBy: string, question: string, text: string): Promise<MessageRecord> {
	return signMessage(by.key, { id, author: by.id, hlc: at(t, by.id), text, model: MODEL, askedBy, question }, DOC);
}

describe('answers to one question', () => {
	it('a second answer by the relay, backdated before the channel went read-only, shows nowhere', async () => {
		const { member, relay, rules, channel } = setup();
		channel.post(await signMessage(member.key, { id: 'q1', author: member.id, hlc: at(100, member.id), text: '@tiny hi?', ask: { model: MODEL, host: relay.id } }, DOC));
		const real = await answerOf(relay, 'a1', 110, member.id, 'q1', 'Hello.');
		channel.post(real);
		// Later, once the channel is read-only, the relay posts more "answers" to the same question.
		const spam = [await answerOf(relay, 'a2', 200, member.id, 'q1', 'Buy now!'), await answerOf(relay, 'a3', 299, member.id, 'q1', 'Buy now!!')];
		for (const m of spam) channel.post(m);
		const view = new ChannelView(channel);
		const viewRules = withQuestions(rules, view);
		const docRules = { ...rules, questions: questionsIn(channel, rules.roleOf) };
		const unseen = await unseenMessages(channel, rules);
		expect(postShows(real, viewRules)).toBe(true);
		expect(postShows(real, docRules)).toBe(true);
		expect(unseen.has('a1')).toBe(false);
		for (const m of spam) {
			expect(postShows(m, viewRules), m.id).toBe(false);
			expect(postShows(m, docRules), m.id).toBe(false);
			expect(unseen.has(m.id), m.id).toBe(true);
			expect(provenAsker(m, channelQuestions(view.byId, DOC)), m.id).toBeUndefined();
		}
		view.destroy();
	});

	it('an unsigned copy dated before the real answer does not take its place', async () => {
		const { member, relay, owner, rules, channel } = setup();
		channel.post(await signMessage(member.key, { id: 'q1', author: member.id, hlc: at(100, member.id), text: '@tiny hi?', ask: { model: MODEL, host: relay.id } }, DOC));
		// The owner's modified client writes a record "by the relay" answering q1 first; the relay's own signature is not on it.
		const forged = { ...(await answerOf(owner, 'f1', 105, member.id, 'q1', 'forged')), author: relay.id };
		channel.post(forged);
		const real = await answerOf(relay, 'a1', 110, member.id, 'q1', 'Hello.');
		channel.post(real);
		const view = new ChannelView(channel);
		expect(postShows(real, withQuestions(rules, view))).toBe(true);
		expect(provenAsker(real, channelQuestions(view.byId, DOC))).toBe(member.id);
		expect((await unseenMessages(channel, rules)).has('a1')).toBe(false);
		view.destroy();
	});

	it('a view that follows the channel counts the first answer as it arrives, whatever order answers arrive in', async () => {
		const { member, relay, rules, channel } = setup();
		const view = new ChannelView(channel);
		channel.post(await signMessage(member.key, { id: 'q1', author: member.id, hlc: at(100, member.id), text: '@tiny hi?', ask: { model: MODEL, host: relay.id } }, DOC));
		const late = await answerOf(relay, 'a2', 200, member.id, 'q1', 'Second.');
		channel.post(late);
		expect(postShows(late, withQuestions(rules, view))).toBe(true); // the only one so far
		const early = await answerOf(relay, 'a1', 110, member.id, 'q1', 'First.');
		channel.post(early);
		expect(postShows(early, withQuestions(rules, view))).toBe(true);
		expect(postShows(late, withQuestions(rules, view))).toBe(false);
		view.destroy();
	});
});
