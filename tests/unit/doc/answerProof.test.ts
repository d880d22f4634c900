/**
 * A model's answer in a channel counts as asked by its `askedBy` only when it names a question
 * of the same channel that member signed, asking this model of the answer's signer
 * (channelRights.ts `provenAsker`). Found in review: a device admitted with the team role
 * "relay" (which never posts) signed an "answer" asked by the owner into a read-only channel,
 * and it showed, as the relay's answers show where their asker may post; nothing tied it to a
 * question the owner signed. Real Ed25519 keys and real channel documents throughout.
 */
import { describe, expect, it } from 'vitest';
import type { ChannelDoc } from '../../../src/lib/doc/ChannelDoc.js';
import { ChannelView } from '../../../src/lib/doc/ChannelView.js';
import { channelQuestions, postShows, provenAsker, shownText, unseenMessages, withQuestions } from '../../../src/lib/doc/channelRights.js';
import type { MessageRecord } from '../../../src/lib/doc/schema.js';
import { signEdit, signMessage, verifyMessage } from '../../../src/lib/doc/signature.js';
import { at, type Signer } from './helpers.js';
import { answerTeam } from './answerKit.js';

const DOC = 'news';
const MODEL = 'tiny';

/** A read-only channel (from its creation), with an owner, a member and a relay device. */
const setup = () => answerTeam(DOC, '');

/** A question by `asker` asking `model` of `host`, signed in the channel. */
function question(asker: Signer, id: string, t: number, host: string, model = MODEL): Promise<MessageRecord> {
	return signMessage(asker.key, { id, author: asker.id, hlc: at(t, asker.id), text: `@${model} what now?`, ask: { model, host } }, DOC);
}

/** A model's answer signed by `by`, asked by `askedBy`, naming `questionId` (when given), with its signed final text. */
async function answer(channel: ChannelDoc, by: Signer, id: string, t: number, askedBy: string, questionId?: string, text = 'The owner says: everyone gets a raise.'): Promise<MessageRecord> {
	const m = await signMessage(by.key, { id, author: by.id, hlc: at(t, by.id), text: '', model: MODEL, askedBy, ...(questionId !== undefined ? { question: questionId } : {}) }, DOC);
	channel.post(m);
	channel.edit(await signEdit(by.key, { msg: id, author: by.id, hlc: at(t + 1, by.id), text, end: { status: 'done' } }));
	return m;
}

describe('a relay device’s "answer" asked by the owner, in a read-only channel', () => {
	it('names no question: it shows nowhere', async () => {
		const { owner, relay, rules, channel } = setup();
		const fake = await answer(channel, relay, 'a1', 200, owner.id);
		expect(postShows(fake, rules)).toBe(false);
		expect((await unseenMessages(channel, rules)).has('a1')).toBe(true);
		expect(postShows(fake, withQuestions(rules, new ChannelView(channel)))).toBe(false);
	});

	it('names a question the owner never signed, or one that asks someone else: it shows nowhere', async () => {
		const { owner, member, relay, rules, channel } = setup();
		// The owner asked the model, of another host; the member asked this relay; the owner also posted a plain message.
		channel.post(await question(owner, 'q-other-host', 100, member.id));
		channel.post(await question(member, 'q-member', 110, relay.id));
		channel.post(await signMessage(owner.key, { id: 'q-plain', author: owner.id, hlc: at(120, owner.id), text: 'hello' }, DOC));
		channel.post(await question(owner, 'q-other-model', 130, relay.id, 'big'));
		// A question "by the owner" the member signed.
		const forged = await question(member, 'q-forged', 140, relay.id);
		channel.post({ ...forged, author: owner.id });
		const fakes = [
			await answer(channel, relay, 'a-missing', 200, owner.id, 'q-nowhere'),
			await answer(channel, relay, 'a-other-host', 210, owner.id, 'q-other-host'),
			await answer(channel, relay, 'a-member', 220, owner.id, 'q-member'),
			await answer(channel, relay, 'a-plain', 230, owner.id, 'q-plain'),
			await answer(channel, relay, 'a-other-model', 240, owner.id, 'q-other-model'),
			await answer(channel, relay, 'a-forged', 250, owner.id, 'q-forged')
		];
		const unseen = await unseenMessages(channel, rules);
		const view = new ChannelView(channel);
		for (const fake of fakes) {
			expect(postShows(fake, rules), fake.id).toBe(false);
			expect(postShows(fake, withQuestions(rules, view)), fake.id).toBe(false);
			expect(unseen.has(fake.id), fake.id).toBe(true);
		}
	});

	it('an honest answer to the owner’s question still shows, with its signed text, and says who asked', async () => {
		const { owner, relay, rules, channel } = setup();
		channel.post(await question(owner, 'q1', 100, relay.id));
		const real = await answer(channel, relay, 'a1', 200, owner.id, 'q1', 'Hello from the model.');
		const view = new ChannelView(channel);
		expect(postShows(real, withQuestions(rules, view))).toBe(true);
		expect((await unseenMessages(channel, rules)).has('a1')).toBe(false);
		expect(shownText(view, real, rules)).toBe('Hello from the model.');
		expect(provenAsker(real, channelQuestions(view.byId, DOC))).toBe(owner.id);
		// Backdated before its question, it proves nothing.
		const early = await answer(channel, relay, 'a0', 50, owner.id, 'q1');
		expect(postShows(early, withQuestions(rules, new ChannelView(channel)))).toBe(false);
	});
});

describe('a member’s answer "asked by" another member', () => {
	it('is the member’s own message: who asked is not shown', async () => {
		const { owner, member, relay, writable, channel } = setup();
		channel.post(await question(owner, 'q1', 100, relay.id));
		const own = await answer(channel, member, 'a1', 200, owner.id, 'q1');
		const view = new ChannelView(channel);
		expect(provenAsker(own, channelQuestions(view.byId, DOC))).toBeUndefined();
		expect(postShows(own, withQuestions(writable, view))).toBe(true); // under the member's own rights
		// Asked of the member's device, it is the owner's answer.
		channel.post(await question(owner, 'q2', 300, member.id));
		const asked = await answer(channel, member, 'a2', 400, owner.id, 'q2');
		expect(provenAsker(asked, channelQuestions(new ChannelView(channel).byId, DOC))).toBe(owner.id);
	});
});

describe('the signature of a question and an answer', () => {
	it('covers what a question asks and which question an answer names; records of the older forms still verify', async () => {
		const { owner, relay } = setup();
		const q = await question(owner, 'q1', 100, relay.id);
		expect(await verifyMessage(q, DOC)).toBe(true);
		expect(await verifyMessage({ ...q, ask: { model: MODEL, host: owner.id } }, DOC)).toBe(false);
		expect(await verifyMessage({ ...q, ask: { model: 'big', host: relay.id } }, DOC)).toBe(false);
		const { ask: _ask, ...unasked } = q;
		expect(await verifyMessage(unasked, DOC)).toBe(false);
		const a = await signMessage(relay.key, { id: 'a1', author: relay.id, hlc: at(200, relay.id), text: '', model: MODEL, askedBy: owner.id, question: 'q1' }, DOC);
		expect(await verifyMessage(a, DOC)).toBe(true);
		expect(await verifyMessage({ ...a, question: 'q2' }, DOC)).toBe(false);
		const old = await signMessage(relay.key, { id: 'a0', author: relay.id, hlc: at(200, relay.id), text: '', model: MODEL, askedBy: owner.id }, DOC);
		expect(await verifyMessage(old, DOC)).toBe(true);
	});
});
