/**
 * Honest hosts always meet the answer window (answerWindow.ts): a channel answer started late
 * (a long queue at the host, or a host clock ahead of the asker's) is dated at the window's
 * close, and the end of an answer still running when the window closes (a slow model) too, so
 * the answer still shows as asked, with its text and how it ended (answerSink.ts `channelSink`).
 * The real sink, real keys and a real channel document; the host's clock is given its time.
 */
import { describe, expect, it } from 'vitest';
import { channelSink } from '../../../src/lib/ai/answerSink.js';
import { ANSWER_WINDOW_MS } from '../../../src/lib/doc/answerWindow.js';
import { ChannelView } from '../../../src/lib/doc/ChannelView.js';
import { editShows, postShows, provenAsker, shownText, withQuestions } from '../../../src/lib/doc/channelRights.js';
import { HybridClock, hlcWall } from '../../../src/lib/doc/hlc.js';
import { AiStatus } from '../../../src/lib/doc/schema.js';
import { signMessage } from '../../../src/lib/doc/signature.js';
import { at, T0 } from '../doc/helpers.js';
import { answerTeam } from '../doc/answerKit.js';

const DOC = 'general';
const MODEL = 'tiny';
const MINUTE = 60_000;

/** The member asks the relay's model at t=0; the relay's sink starts at `start` and the answer ends at `end` (ms after the question, by the relay's clock). */
async function answered(start: number, end: number) {
	const { member, relay, writable, channel } = answerTeam(DOC, at(60 * MINUTE, ''));
	const question = await signMessage(member.key, { id: 'q1', author: member.id, hlc: at(0, member.id), text: '@tiny hi?', ask: { model: MODEL, host: relay.id } }, DOC);
	channel.post(question);
	let now = T0 + start;
	const clock = new HybridClock(relay.id, () => now);
	const sink = await channelSink(channel, { id: 'a1', model: MODEL, askedBy: member.id, question: 'q1', after: question.hlc }, { peerId: relay.id, key: relay.key, clock }, 'host');
	sink.append('Hello.');
	now = T0 + end;
	await sink.finish({ status: AiStatus.done, text: 'Hello.' });
	const view = new ChannelView(channel);
	const rules = withQuestions(writable, view);
	const answer = view.byId.get('a1')!;
	const verdict = {
		askedBy: provenAsker(answer, rules.questions),
		shows: postShows(answer, rules),
		text: shownText(view, answer, rules),
		status: view.answer(answer, true, (e) => editShows(e, answer, rules))?.status,
		answerAfter: hlcWall(answer.hlc) - T0,
		endAfter: hlcWall(view.edits('a1').at(-1)!.hlc) - T0
	};
	view.destroy();
	return { verdict, member };
}

describe('a channel answer written by an honest host', () => {
	it('on time and quick: dated as it happened', async () => {
		const { verdict, member } = await answered(1000, 5000);
		expect(verdict).toEqual({ askedBy: member.id, shows: true, text: 'Hello.', status: AiStatus.done, answerAfter: 1000, endAfter: 5000 });
	});

	it('from a slow model, ending 25 minutes after the question: its end is dated at the window’s close and counts', async () => {
		const { verdict, member } = await answered(1000, 25 * MINUTE);
		expect(verdict).toEqual({ askedBy: member.id, shows: true, text: 'Hello.', status: AiStatus.done, answerAfter: 1000, endAfter: ANSWER_WINDOW_MS });
	});

	it('started 20 minutes after the question (a long queue, a clock ahead): dated at the window’s close, and counts', async () => {
		const { verdict, member } = await answered(20 * MINUTE, 21 * MINUTE);
		expect(verdict).toEqual({ askedBy: member.id, shows: true, text: 'Hello.', status: AiStatus.done, answerAfter: ANSWER_WINDOW_MS, endAfter: ANSWER_WINDOW_MS });
	});
});
