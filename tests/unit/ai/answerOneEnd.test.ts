/**
 * An honest host signs exactly one end per answer (answerSink.ts, doc/answerEnds.ts), so two
 * different signed endings of one answer come only from a modified client and every view may
 * mark them. Found in review: a retried request for a channel answer already there reused its
 * message and signed a second end of it; two writers of one AI-chat answer in one process each
 * signed an answer record. The real sinks, real keys, real channel and chat documents.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { AnswerEndedError, channelSink, threadSink } from '../../../src/lib/ai/answerSink.js';
import { entryRefusal } from '../../../src/lib/ai/targetAccess.js';
import { AiRole, AiThreadDoc } from '../../../src/lib/doc/AiThreadDoc.js';
import { ChannelView } from '../../../src/lib/doc/ChannelView.js';
import { editShows, shownText, withQuestions } from '../../../src/lib/doc/channelRights.js';
import { HybridClock } from '../../../src/lib/doc/hlc.js';
import { AiRecordKind, AiStatus } from '../../../src/lib/doc/schema.js';
import { signAiRecord, signEdit, signMessage } from '../../../src/lib/doc/signature.js';
import { at, identity, T0 } from '../doc/helpers.js';
import { answerTeam } from '../doc/answerKit.js';

const DOC = 'general';
const MODEL = 'tiny';
const MINUTE = 60_000;

/** The member asked the relay's model at t=0; the relay writes answer a1 with its clock at `now()`. */
async function channelAsked() {
	const team = answerTeam(DOC, at(60 * MINUTE, ''));
	const { member, relay, channel } = team;
	const question = await signMessage(member.key, { id: 'q1', author: member.id, hlc: at(0, member.id), text: '@tiny hi?', ask: { model: MODEL, host: relay.id } }, DOC);
	channel.post(question);
	let now = T0 + MINUTE;
	const clock = new HybridClock(relay.id, () => (now += 1000));
	const signer = { peerId: relay.id, key: relay.key, clock };
	const init = { id: 'a1', model: MODEL, askedBy: member.id, question: 'q1', after: question.hlc };
	const target = { kind: 'channel' as const, docId: DOC, entryId: 'a1', after: question.hlc };
	const relayEnds = () => channel.edits.toArray().filter((e) => e.msg === 'a1' && e.author === relay.id);
	return { ...team, signer, init, target, relayEnds };
}

describe('a channel answer written by an honest host', () => {
	it('a retried request of a finished answer is refused, and the answer keeps its one end, unmarked', async () => {
		const { member, relay, writable, channel, signer, init, target, relayEnds } = await channelAsked();
		const first = await channelSink(channel, init, signer, 'host');
		first.append('Hello.');
		await first.finish({ status: AiStatus.done, text: 'Hello.' });
		expect(entryRefusal(channel.doc, target, new Set([member.id]), relay.id)).toMatch(/already written/);
		await expect(channelSink(channel, init, signer, 'host')).rejects.toBeInstanceOf(AnswerEndedError);
		expect(relayEnds().map((e) => e.text)).toEqual(['Hello.']);
		const view = new ChannelView(channel);
		const rules = withQuestions(writable, view);
		const answer = view.byId.get('a1')!;
		expect(shownText(view, answer, rules)).toBe('Hello.');
		expect(view.answer(answer, true, (e) => editShows(e, answer, rules))?.equivocated).toBeUndefined();
		view.destroy();
	});

	it('a second writer while the first still runs is refused before it writes anything', async () => {
		const { channel, signer, init, relayEnds } = await channelAsked();
		const first = await channelSink(channel, init, signer, 'host');
		first.append('Hel');
		await expect(channelSink(channel, init, signer, 'host')).rejects.toBeInstanceOf(AnswerEndedError);
		first.append('lo.');
		await first.finish({ status: AiStatus.done, text: 'Hello.' });
		expect(relayEnds().map((e) => e.text)).toEqual(['Hello.']);
		expect(channel.answer('a1')?.text).toBe('Hello.');
	});

	it('a retry reaching a restarted host whose end is already in the channel is refused', async () => {
		const { member, relay, channel, signer, init, relayEnds } = await channelAsked();
		// What the host wrote before it restarted (this process never wrote this answer).
		channel.post(await signMessage(relay.key, { id: 'a1', author: relay.id, hlc: at(MINUTE, relay.id), text: '', model: MODEL, askedBy: member.id, question: 'q1' }, DOC));
		channel.startAnswer('a1');
		channel.edit(await signEdit(relay.key, { msg: 'a1', author: relay.id, hlc: at(2 * MINUTE, relay.id), text: 'Hello.', end: { status: AiStatus.done } }));
		await expect(channelSink(channel, init, signer, 'host')).rejects.toBeInstanceOf(AnswerEndedError);
		expect(relayEnds().map((e) => e.text)).toEqual(['Hello.']);
	});

	it('a retry of an answer that never ended (its host stopped mid-answer) ends it once', async () => {
		const { member, relay, channel, signer, init, target, relayEnds } = await channelAsked();
		// The answer as a host that stopped before its end left it: posted, partly written.
		channel.post(await signMessage(relay.key, { id: 'a1', author: relay.id, hlc: at(MINUTE, relay.id), text: '', model: MODEL, askedBy: member.id, question: 'q1' }, DOC));
		channel.startAnswer('a1');
		expect(entryRefusal(channel.doc, target, new Set([member.id]), relay.id)).toBeUndefined();
		const retry = await channelSink(channel, init, signer, 'host');
		retry.append('Hello.');
		await retry.finish({ status: AiStatus.done, text: 'Hello.' });
		expect(relayEnds().map((e) => e.text)).toEqual(['Hello.']);
	});
});

describe('an AI-chat answer written by an honest host', () => {
	it('two writers of one answer in one process sign one answer record', async () => {
		const ann = identity();
		const host = identity();
		const thread = new AiThreadDoc(new Y.Doc({ guid: 'chat-1' }));
		thread.addRecord(await signAiRecord(ann.key, { kind: AiRecordKind.user, id: 'q1', author: ann.id, hlc: at(100, ann.id), text: 'Hi?', ask: { model: MODEL, host: host.id } }, thread.id));
		thread.append({ id: 'a1', role: AiRole.assistant, hlc: at(200, host.id), author: host.id, askedBy: ann.id, question: 'q1', model: MODEL, status: AiStatus.queued, text: '' });
		const signer = { peerId: host.id, key: host.key, clock: new HybridClock(host.id, () => T0 + 300) };
		const facts = { askedBy: ann.id, question: 'q1', model: MODEL, sources: [] };
		const first = threadSink(thread, 'a1', 'host', signer, facts)!;
		const retried = threadSink(thread, 'a1', 'host', signer, facts)!;
		first.append('Hello.');
		retried.append('Hi there.');
		await Promise.all([first.finish({ status: AiStatus.done, text: 'Hello.' }), retried.finish({ status: AiStatus.done, text: 'Hi there.' })]);
		expect(thread.readRecords().filter((r) => r.kind === AiRecordKind.answer && r.id === 'a1')).toHaveLength(1);
		expect(thread.list().find((m) => m.id === 'a1')?.equivocated).toBeUndefined();
	});
});
