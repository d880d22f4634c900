/**
 * One answer per question, by an honest host (answerSink.ts `channelSink`). Found in review: the
 * views mark a question's answer as its host's equivocation when the host signed another answer
 * to the same question (doc/answerEnds.ts `answeredTwice`), and an asker's modified client could
 * send two requests for one question with different answer ids (in an AI chat, two entries naming it):
 * the honest host wrote both, and its answer showed marked. Now the second is refused before
 * anything is written; a regenerate (the asker cut the first) still is answered. The real sinks,
 * real keys, real channel and chat documents.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { AnswerEndedError, channelSink, threadSink } from '../../../src/lib/ai/answerSink.js';
import { AiRole, AiThreadDoc } from '../../../src/lib/doc/AiThreadDoc.js';
import { ChannelView } from '../../../src/lib/doc/ChannelView.js';
import { editShows, withQuestions } from '../../../src/lib/doc/channelRights.js';
import { HybridClock } from '../../../src/lib/doc/hlc.js';
import { AiRecordKind, AiStatus } from '../../../src/lib/doc/schema.js';
import { signAiRecord, signMessage } from '../../../src/lib/doc/signature.js';
import { at, identity, T0 } from '../doc/helpers.js';
import { answerTeam } from '../doc/answerKit.js';

const DOC = 'general';
const MODEL = 'tiny';
const MINUTE = 60_000;

describe('two requests for one channel question with different answer ids', () => {
	it('the second is refused, and the first answer shows unmarked', async () => {
		const { member, relay, writable, channel } = answerTeam(DOC, at(60 * MINUTE, ''));
		const question = await signMessage(member.key, { id: 'q1', author: member.id, hlc: at(0, member.id), text: '@tiny hi?', ask: { model: MODEL, host: relay.id } }, DOC);
		channel.post(question);
		let now = T0 + MINUTE;
		const signer = { peerId: relay.id, key: relay.key, clock: new HybridClock(relay.id, () => (now += 1000)) };
		const init = { id: 'a1', model: MODEL, askedBy: member.id, question: 'q1', after: question.hlc };
		const first = await channelSink(channel, init, signer, 'host');
		first.append('Hello.');
		await first.finish({ status: AiStatus.done, text: 'Hello.' });
		await expect(channelSink(channel, { ...init, id: 'a2' }, signer, 'host')).rejects.toBeInstanceOf(AnswerEndedError);
		const view = new ChannelView(channel);
		const rules = withQuestions(writable, view);
		const answer = view.byId.get('a1')!;
		expect(view.answer(answer, true, (e) => editShows(e, answer, rules))).toMatchObject({ text: 'Hello.' });
		expect(view.answer(answer, true, (e) => editShows(e, answer, rules))?.equivocated).toBeUndefined();
		expect(view.byId.has('a2')).toBe(false);
		view.destroy();
	});

	it('the second is refused while the first is still being written', async () => {
		const { member, relay, channel } = answerTeam(DOC, at(60 * MINUTE, ''));
		const question = await signMessage(member.key, { id: 'q1', author: member.id, hlc: at(0, member.id), text: '@tiny hi?', ask: { model: MODEL, host: relay.id } }, DOC);
		channel.post(question);
		let now = T0 + MINUTE;
		const signer = { peerId: relay.id, key: relay.key, clock: new HybridClock(relay.id, () => (now += 1000)) };
		const init = { id: 'a1', model: MODEL, askedBy: member.id, question: 'q1', after: question.hlc };
		const [first, second] = await Promise.allSettled([channelSink(channel, init, signer, 'host'), channelSink(channel, { ...init, id: 'a2' }, signer, 'host')]);
		expect(first.status).toBe('fulfilled');
		expect(second.status === 'rejected' && second.reason instanceof AnswerEndedError).toBe(true);
	});
});

const CHAT = 'chat-1';

/** Ann asks the host's model in an AI chat; the host answers entry a1. */
async function chatAnswered() {
	const ann = identity();
	const host = identity();
	const thread = new AiThreadDoc(new Y.Doc({ guid: CHAT }));
	thread.addRecord(await signAiRecord(ann.key, { kind: AiRecordKind.user, id: 'q1', author: ann.id, hlc: at(100, ann.id), text: 'Hi?', ask: { model: MODEL, host: host.id } }, thread.id));
	const signer = { peerId: host.id, key: host.key, clock: new HybridClock(host.id, () => T0 + 1000) };
	const facts = { askedBy: ann.id, question: 'q1', model: MODEL, sources: [] };
	const entry = (id: string, t: number) => thread.append({ id, role: AiRole.assistant, hlc: at(t, host.id), author: host.id, askedBy: ann.id, question: 'q1', model: MODEL, status: AiStatus.queued, text: '' });
	entry('a1', 200);
	const first = threadSink(thread, 'a1', 'host', signer, facts)!;
	first.append('Hello.');
	await first.finish({ status: AiStatus.done, text: 'Hello.' });
	const answers = () => thread.list().filter((m) => m.role === AiRole.assistant).map((m) => [m.id, m.text, m.askedBy === ann.id, m.equivocated === true]);
	return { ann, thread, signer, facts, entry, answers };
}

describe('a second AI-chat entry naming an answered question', () => {
	it('is refused, and the first answer shows unmarked', async () => {
		const { thread, signer, facts, entry, answers } = await chatAnswered();
		entry('a2', 300);
		expect(() => threadSink(thread, 'a2', 'host', signer, facts)).toThrow(AnswerEndedError);
		expect(answers()).toEqual([
			['a1', 'Hello.', true, false],
			['a2', '', false, false]
		]);
	});

	it('after the asker cut the first answer (a regenerate), the new one is signed, unmarked', async () => {
		const { ann, thread, signer, facts, entry, answers } = await chatAnswered();
		thread.addRecord(await signAiRecord(ann.key, { kind: AiRecordKind.cut, id: 'c1', author: ann.id, hlc: at(250, ann.id), text: '', from: 'a1' }, thread.id));
		entry('a2', 300);
		const again = threadSink(thread, 'a2', 'host', signer, facts)!;
		again.append('Hi.');
		await again.finish({ status: AiStatus.done, text: 'Hi.' });
		expect(answers()).toEqual([['a2', 'Hi.', true, false]]);
	});
});
