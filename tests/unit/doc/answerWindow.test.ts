/**
 * An answer and its edits count only within their question's answer window (answerWindow.ts:
 * at most 15 minutes after the question, an edit never before its answer). Found in review: the
 * relay a member once asked could date its one answer days after the question, and add further
 * signed edits to it at any time, backdated into a span where the asker could post (before the
 * channel went read-only), and they showed as her answer. Real Ed25519 keys and real channel
 * documents throughout.
 */
import { describe, expect, it } from 'vitest';
import { ANSWER_WINDOW_MS, clockInWindow } from '../../../src/lib/doc/answerWindow.js';
import { ChannelView } from '../../../src/lib/doc/ChannelView.js';
import { editShows, postShows, provenAsker, shownText, withQuestions, type PostingRules } from '../../../src/lib/doc/channelRights.js';
import type { ChannelDoc } from '../../../src/lib/doc/ChannelDoc.js';
import type { MessageRecord } from '../../../src/lib/doc/schema.js';
import { signEdit, signMessage } from '../../../src/lib/doc/signature.js';
import { at, type Signer } from './helpers.js';
import { answerTeam } from './answerKit.js';

const DOC = 'general';
const MODEL = 'tiny';
const MINUTE = 60_000;

/** A channel read-only from 10 minutes on; at t=0 the member asked the model of `host` (the relay, or her own device). */
async function setup(host: 'relay' | 'member' = 'relay') {
	const team = answerTeam(DOC, at(10 * MINUTE, ''));
	const { member, channel } = team;
	const writer = team[host];
	channel.post(await signMessage(member.key, { id: 'q1', author: member.id, hlc: at(0, member.id), text: '@tiny hi?', ask: { model: MODEL, host: writer.id } }, DOC));
	return { ...team, writer };
}

function answerAt(channel: ChannelDoc, by: Signer, askedBy: string, id: string, t: number): Promise<MessageRecord> {
	return signMessage(by.key, { id, author: by.id, hlc: at(t, by.id), text: '', model: MODEL, askedBy, question: 'q1' }, DOC).then((m) => {
		channel.post(m);
		return m;
	});
}

async function editAt(channel: ChannelDoc, by: Signer, t: number, text: string, end = false): Promise<void> {
	channel.edit(await signEdit(by.key, { msg: 'a1', author: by.id, hlc: at(t, by.id), text, ...(end ? { end: { status: 'done' as const } } : {}) }));
}

/** What the channel shows of `m` under `rules`: [its proven asker, whether it shows, its text]. */
function shown(channel: ChannelDoc, rules: PostingRules, m: MessageRecord) {
	const view = new ChannelView(channel);
	const r = withQuestions(rules, view);
	const out = [provenAsker(m, r.questions), postShows(m, r), shownText(view, m, r)];
	view.destroy();
	return out;
}

describe('an answer dated after its question', () => {
	it('within 15 minutes it is the answer; later, in a channel still writable, it proves nothing and a relay’s shows nowhere', async () => {
		const { member, relay, writable, channel } = await setup();
		const late = await answerAt(channel, relay, member.id, 'late', ANSWER_WINDOW_MS + 1);
		expect(shown(channel, writable, late)).toEqual([undefined, false, '']);
		// The late one does not take the place of the first answer either.
		const inTime = await answerAt(channel, relay, member.id, 'a1', ANSWER_WINDOW_MS);
		expect(shown(channel, writable, inTime)).toEqual([member.id, true, '']);
	});

	it('days later, in a channel with no read-only span: still nothing', async () => {
		const { member, relay, writable, channel } = await setup();
		const late = await answerAt(channel, relay, member.id, 'a1', 3 * 24 * 60 * MINUTE);
		expect(shown(channel, writable, late)).toEqual([undefined, false, '']);
	});
});

describe('edits of an answer', () => {
	it('a relay’s further edit, backdated before its answer into a span where the asker could post, does not show', async () => {
		const { member, relay, rules, channel } = await setup();
		const answer = await answerAt(channel, relay, member.id, 'a1', 5 * MINUTE);
		// Its end came once the channel was read-only (from 10 minutes): it does not show.
		await editAt(channel, relay, 11 * MINUTE, 'Hello.', true);
		expect(shown(channel, rules, answer)).toEqual([member.id, true, '']);
		// Later the relay signs another end, dated before its answer, when the member could post.
		await editAt(channel, relay, MINUTE, 'Buy now!', true);
		expect(shown(channel, rules, answer)).toEqual([member.id, true, '']);
		const view = new ChannelView(channel);
		const r = withQuestions(rules, view);
		expect(view.edits('a1').map((e) => [e.text, editShows(e, answer, r)])).toEqual([
			['Buy now!', false],
			['Hello.', false]
		]);
		// The answer's end (its status and tool steps) is read only from edits that count.
		expect(view.answer(answer, true, (e) => editShows(e, answer, r))?.text).not.toBe('Buy now!');
		view.destroy();
	});

	it('an edit dated past the question’s window does not show, even where the asker may post', async () => {
		const { member, relay, writable, channel } = await setup();
		const answer = await answerAt(channel, relay, member.id, 'a1', MINUTE);
		// Its end at the window's last millisecond counts (a second ending would mark the answer: answerEquivocation.test.ts).
		await editAt(channel, relay, ANSWER_WINDOW_MS, 'Still mine.', true);
		expect(shown(channel, writable, answer)[2]).toBe('Still mine.');
		await editAt(channel, relay, ANSWER_WINDOW_MS + 1, 'Buy now!');
		expect(shown(channel, writable, answer)).toEqual([member.id, true, 'Still mine.']);
	});

	it('hold for an answer the asker’s own device wrote as well', async () => {
		const { member, writable, channel } = await setup('member');
		const answer = await answerAt(channel, member, member.id, 'a1', MINUTE);
		await editAt(channel, member, MINUTE + 1, 'Hello.', true);
		await editAt(channel, member, MINUTE - 1, 'Backdated.');
		await editAt(channel, member, ANSWER_WINDOW_MS + 1, 'Late.');
		expect(shown(channel, writable, answer)).toEqual([member.id, true, 'Hello.']);
	});
});

describe('the clock an honest host signs an answer with (clockInWindow)', () => {
	it('is its own clock within the window, the window’s close after it, and never later than its own', () => {
		const q = at(0, 'asker');
		expect(clockInWindow(q, at(MINUTE, 'host'), 'host')).toBe(at(MINUTE, 'host'));
		expect(clockInWindow(q, at(ANSWER_WINDOW_MS + MINUTE, 'host'), 'host')).toBe(at(ANSWER_WINDOW_MS, 'host'));
		// An end after an answer dated at the window's close with a later counter is not dated before it.
		expect(clockInWindow(q, at(20 * MINUTE, 'host'), 'host', at(ANSWER_WINDOW_MS, 'host', 3))).toBe(at(ANSWER_WINDOW_MS, 'host', 3));
		// A question dated days ahead (the host's clock does not follow it): the host's own clock stays.
		expect(clockInWindow(at(3 * 24 * 60 * MINUTE, 'asker'), at(MINUTE, 'host'), 'host')).toBe(at(MINUTE, 'host'));
	});
});
