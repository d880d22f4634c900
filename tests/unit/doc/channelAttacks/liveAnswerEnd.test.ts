/**
 * Found in review: a host's model message in a channel whose signed end never came (the host crashed or
 * restarted mid-answer: only `finish()` signs the end) keeps its live `answers` entry for ever,
 * and any member writes it: the view shows that text and a `done` status under the host's
 * verified message ("served by Relay, asked by V") with no sign that nobody signed it.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { ChannelDoc } from '../../../../src/lib/doc/ChannelDoc.js';
import { ChannelView } from '../../../../src/lib/doc/ChannelView.js';
import { answerIdFor } from '../../../../src/lib/doc/recordChoice.js';
import { AiStatus } from '../../../../src/lib/doc/schema.js';
import { signMessage } from '../../../../src/lib/doc/signature.js';
import { at, identity } from '../helpers.js';

describe('a channel answer its host never ended', () => {
	it('does not show a member\'s live text as the finished answer', async () => {
		const host = identity();
		const v = identity();
		const doc = new Y.Doc({ guid: 'chan-1' });
		const channel = new ChannelDoc(doc);
		const id = answerIdFor(v.id, host.id);
		// What channelSink writes first: the host's signed, empty model message and the live entry.
		channel.post(await signMessage(host.key, { id, author: host.id, hlc: at(100, host.id), text: '', model: 'tiny', askedBy: v.id }, channel.id));
		channel.startAnswer(id);
		// The host crashed. Weeks later, member M writes the live entry.
		const entry = channel.answers.get(id) as Y.Map<unknown>;
		doc.transact(() => {
			(entry.get('text') as Y.Text).insert(0, 'The answer is: wire the money to IBAN XX00 EVIL');
			entry.set('status', AiStatus.done);
		});
		const view = new ChannelView(channel);
		const msg = view.byId.get(id)!;
		// The unsigned live entry is not shown as the host's finished answer.
		expect(view.answer(msg)?.status).not.toBe(AiStatus.done);
		view.destroy?.();
	});
});
