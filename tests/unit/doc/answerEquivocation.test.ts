/**
 * One answer, one ending (doc/answerEnds.ts). Found in review: the host a member asked could,
 * days later, sign a further end of its answer dated inside the question's window (the window
 * bounds the clocks records carry, not when they are signed), and it replaced the answer's text
 * everywhere; in an AI chat, a further answer record of one id placed before the first did the
 * same. Now an answer whose host signed different endings shows the earliest, marked, on every
 * replica whatever order the records arrived in; a forged ending (anyone may write a record in
 * the host's name) marks nothing. Real Ed25519 keys, real channel and chat documents.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { AiThreadDoc } from '../../../src/lib/doc/AiThreadDoc.js';
import { ChannelDoc } from '../../../src/lib/doc/ChannelDoc.js';
import { ChannelView } from '../../../src/lib/doc/ChannelView.js';
import { editShows, provenAsker, shownText, withQuestions, type PostingRules } from '../../../src/lib/doc/channelRights.js';
import { AiRecordKind, AiStatus, type AiRecord, type EditRecord } from '../../../src/lib/doc/schema.js';
import { signAiRecord, signEdit, signMessage } from '../../../src/lib/doc/signature.js';
import { at, identity, type Signer } from './helpers.js';
import { answerTeam } from './answerKit.js';

const DOC = 'general';
const MODEL = 'tiny';
const MINUTE = 60_000;

/** At t=0 the member asks the relay's model; the relay's answer a1 is dated a minute later. */
async function asked() {
	const team = answerTeam(DOC, at(60 * MINUTE, ''));
	const { member, relay, channel } = team;
	channel.post(await signMessage(member.key, { id: 'q1', author: member.id, hlc: at(0, member.id), text: '@tiny dose?', ask: { model: MODEL, host: relay.id } }, DOC));
	const answer = await signMessage(relay.key, { id: 'a1', author: relay.id, hlc: at(MINUTE, relay.id), text: '', model: MODEL, askedBy: member.id, question: 'q1' }, DOC);
	channel.post(answer);
	return { ...team, answer };
}

const endOf = (by: Signer, t: number, text: string, end = true): Promise<EditRecord> =>
	signEdit(by.key, { msg: 'a1', author: by.id, hlc: at(t, by.id), text, ...(end ? { end: { status: AiStatus.done } } : {}) });

/** What a replica's channel view shows of the answer: its text, the ending's text and whether it is marked. */
function seen(channel: ChannelDoc, rules: PostingRules) {
	const view = new ChannelView(channel);
	const r = withQuestions(rules, view);
	const answer = view.byId.get('a1')!;
	const live = view.answer(answer, true, (e) => editShows(e, answer, r));
	const out = { text: shownText(view, answer, r), end: live?.text, equivocated: live?.equivocated === true };
	view.destroy();
	return out;
}

describe('a channel answer whose host signed more than one ending', () => {
	it('a first end alone shows, unmarked', async () => {
		const { relay, writable, channel } = await asked();
		channel.edit(await endOf(relay, 2 * MINUTE, '5 mg.'));
		expect(seen(channel, writable)).toEqual({ text: '5 mg.', end: '5 mg.', equivocated: false });
	});

	it('a second end dated later inside the window does not replace the first, and the answer is marked', async () => {
		const { relay, writable, channel } = await asked();
		channel.edit(await endOf(relay, 2 * MINUTE, '5 mg.'));
		channel.edit(await endOf(relay, 10 * MINUTE, '50 mg.'));
		expect(seen(channel, writable)).toEqual({ text: '5 mg.', end: '5 mg.', equivocated: true });
		// A later plain edit is an ending too: honest hosts sign none.
		channel.edit(await endOf(relay, 12 * MINUTE, '500 mg.', false));
		expect(seen(channel, writable)).toEqual({ text: '5 mg.', end: '5 mg.', equivocated: true });
	});

	it('every replica shows the same ending, whatever order the ends arrived in', async () => {
		const { relay, writable, channel } = await asked();
		const first = await endOf(relay, 2 * MINUTE, '5 mg.');
		const second = await endOf(relay, 2 * MINUTE, '50 mg.'); // the same clock: the smaller signature is shown
		const other = new ChannelDoc(new Y.Doc({ guid: DOC }));
		Y.applyUpdate(other.doc, Y.encodeStateAsUpdate(channel.doc));
		channel.edit(first);
		channel.edit(second);
		other.edit(second);
		other.edit(first);
		const expected = first.sig < second.sig ? '5 mg.' : '50 mg.';
		expect(seen(channel, writable)).toEqual({ text: expected, end: expected, equivocated: true });
		expect(seen(other, writable)).toEqual({ text: expected, end: expected, equivocated: true });
	});

	it('a second answer to the question, dated before the first, shows marked', async () => {
		const { member, relay, writable, channel, answer } = await asked();
		channel.edit(await endOf(relay, 2 * MINUTE, '5 mg.'));
		const second = await signMessage(relay.key, { id: 'a2', author: relay.id, hlc: at(MINUTE / 2, relay.id), text: '', model: MODEL, askedBy: member.id, question: 'q1' }, DOC);
		channel.post(second);
		channel.edit(await signEdit(relay.key, { msg: 'a2', author: relay.id, hlc: at(MINUTE, relay.id), text: '50 mg.', end: { status: AiStatus.done } }));
		const view = new ChannelView(channel);
		const r = withQuestions(writable, view);
		// The earliest answer is the question's (channelRights.ts `channelQuestions`), and says its host answered twice.
		expect([provenAsker(second, r.questions), provenAsker(answer, r.questions)]).toEqual([member.id, undefined]);
		const live = view.answer(second, true, (e) => editShows(e, second, r));
		expect([shownText(view, second, r), live?.text, live?.equivocated]).toEqual(['50 mg.', '50 mg.', true]);
		view.destroy();
	});

	it('a forged ending or answer in the host’s name marks nothing', async () => {
		const { member, relay, writable, channel } = await asked();
		channel.edit(await endOf(relay, 2 * MINUTE, '5 mg.'));
		const forged = await endOf(member, 3 * MINUTE, '50 mg.');
		channel.edit({ ...forged, author: relay.id });
		const forgedAnswer = await signMessage(member.key, { id: 'a2', author: member.id, hlc: at(2 * MINUTE, member.id), text: '', model: MODEL, askedBy: member.id, question: 'q1' }, DOC);
		channel.post({ ...forgedAnswer, author: relay.id });
		// (The forged edit, the newest, is what the view shows, marked unverified by its signature check: ChannelState.verify.)
		expect(seen(channel, writable).equivocated).toBe(false);
	});
});

const CHAT = 'chat-1';

const signAi = (by: Signer, r: Omit<AiRecord, 'sig' | 'author'>) => signAiRecord(by.key, { ...r, author: by.id }, CHAT);
const aiAnswer = (host: Signer, ann: Signer, id: string, t: number, text: string) =>
	signAi(host, { kind: AiRecordKind.answer, id, hlc: at(t, host.id), text, model: MODEL, askedBy: ann.id, question: 'q1', status: AiStatus.done });

/** Ann asks the host's model in an AI chat. */
async function chat() {
	const ann = identity();
	const host = identity();
	const thread = new AiThreadDoc(new Y.Doc({ guid: CHAT }));
	thread.addRecord(await signAi(ann, { kind: AiRecordKind.user, id: 'q1', hlc: at(100, ann.id), text: 'Dose?', ask: { model: MODEL, host: host.id } }));
	const answers = () => thread.list().filter((m) => m.role === 'assistant').map((m) => [m.id, m.text, m.askedBy === ann.id, m.equivocated === true]);
	return { ann, host, thread, answers };
}

describe('an AI-chat answer whose host signed more than one ending', () => {
	it('a first answer alone shows, unmarked', async () => {
		const { ann, host, thread, answers } = await chat();
		thread.addRecord(await aiAnswer(host, ann, 'a1', 200, '5 mg.'));
		expect(answers()).toEqual([['a1', '5 mg.', true, false]]);
	});

	it('a further record of the answer, dated later, placed before the first, does not replace it: the answer is marked', async () => {
		const { ann, host, thread, answers } = await chat();
		thread.addRecord(await aiAnswer(host, ann, 'a1', 200, '5 mg.'));
		thread.records.insert(0, [await aiAnswer(host, ann, 'a1', 300, '50 mg.')]);
		expect(answers()).toEqual([['a1', '5 mg.', true, true]]);
	});

	it('a second answer to the question dated before the first shows as asked, marked', async () => {
		const { ann, host, thread, answers } = await chat();
		thread.addRecord(await aiAnswer(host, ann, 'a1', 200, '5 mg.'));
		thread.addRecord(await aiAnswer(host, ann, 'a2', 150, '50 mg.'));
		expect(answers()).toEqual([
			['a2', '50 mg.', true, true],
			['a1', '5 mg.', false, false]
		]);
	});

	it('a forged record in the host’s name marks nothing', async () => {
		const { ann, host, thread, answers } = await chat();
		thread.addRecord(await aiAnswer(host, ann, 'a1', 200, '5 mg.'));
		const forged = await aiAnswer(ann, ann, 'a1', 150, '50 mg.');
		thread.records.insert(0, [{ ...forged, author: host.id }]);
		expect(answers()).toEqual([['a1', '5 mg.', true, false]]);
	});
});
