/**
 * Search and workspace knowledge index an answer whose host signed more than one ending by the
 * text the view shows: the earliest ending (doc/answerEnds.ts), never a later one, whether the
 * second ending arrives in a later pass or the channel is read whole; an AI-chat answer by its
 * earliest record (AiThreadDoc.list). Found in review: the host's further end dated inside the
 * window replaced the answer's words in search too. Real signatures, real documents.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { ChannelDoc } from '../../../../src/lib/doc/ChannelDoc';
import { ChannelView } from '../../../../src/lib/doc/ChannelView';
import { shownText, type PostingRules } from '../../../../src/lib/doc/channelRights';
import { AiThreadDoc } from '../../../../src/lib/doc/AiThreadDoc';
import { AiRecordKind, AiStatus } from '../../../../src/lib/doc/schema';
import { signAiRecord, signEdit, signMessage } from '../../../../src/lib/doc/signature';
import { aiThreadChanges, channelChanges } from '../../../../src/lib/store/search/extract';
import { at, identity } from '../../doc/helpers';
import { memoryIndex } from './memoryIndex';

const DOC = 'general';
const MINUTE = 60_000;

describe('search of an answer whose host signed more than one ending', () => {
	it('indexes the earliest ending, the one the view shows, in a later pass and in a whole read', async () => {
		const member = identity();
		const relay = identity();
		const roles: Record<string, string> = { [member.id]: 'member', [relay.id]: 'relay' };
		const rules: PostingRules = { roleOf: (peer) => roles[peer], readOnly: [] };
		const doc = new Y.Doc({ guid: DOC });
		const channel = new ChannelDoc(doc);
		channel.post(await signMessage(member.key, { id: 'q1', author: member.id, hlc: at(0, member.id), text: '@tiny the capital?', ask: { model: 'tiny', host: relay.id } }, DOC));
		channel.post(await signMessage(relay.key, { id: 'a1', author: relay.id, hlc: at(MINUTE, relay.id), text: '', model: 'tiny', askedBy: member.id, question: 'q1' }, DOC));
		channel.edit(await signEdit(relay.key, { msg: 'a1', author: relay.id, hlc: at(2 * MINUTE, relay.id), text: 'Ouagadougou is the capital.', end: { status: AiStatus.done } }));
		const index = memoryIndex(DOC);
		index.apply(await channelChanges(DOC, doc, index.prev(), index.lookup, rules));
		expect(index.rows.get('a1')?.text).toBe('Ouagadougou is the capital.');
		// Days later the relay signs a second end, dated inside the window.
		channel.edit(await signEdit(relay.key, { msg: 'a1', author: relay.id, hlc: at(10 * MINUTE, relay.id), text: 'Bobo-Dioulasso is the capital.', end: { status: AiStatus.done } }));
		index.apply(await channelChanges(DOC, doc, index.prev(), index.lookup, rules));
		expect(index.rows.get('a1')?.text).toBe('Ouagadougou is the capital.');
		const fresh = memoryIndex(DOC);
		fresh.apply(await channelChanges(DOC, doc, undefined, fresh.lookup, rules));
		expect(fresh.rows.get('a1')?.text).toBe('Ouagadougou is the capital.');
		// The view shows the same text.
		const view = new ChannelView(channel);
		expect(shownText(view, view.byId.get('a1')!, rules)).toBe('Ouagadougou is the capital.');
		view.destroy();
	});

	it('indexes an AI-chat answer by its earliest record, when its host placed a later one before it', async () => {
		const ann = identity();
		const host = identity();
		const thread = new AiThreadDoc(new Y.Doc({ guid: 'chat-1' }));
		thread.addRecord(await signAiRecord(ann.key, { kind: AiRecordKind.user, id: 'q1', author: ann.id, hlc: at(100, ann.id), text: 'The capital?', ask: { model: 'tiny', host: host.id } }, thread.id));
		const answer = (t: number, text: string) => signAiRecord(host.key, { kind: AiRecordKind.answer, id: 'a1', author: host.id, hlc: at(t, host.id), text, model: 'tiny', askedBy: ann.id, question: 'q1', status: AiStatus.done }, thread.id);
		thread.addRecord(await answer(200, 'Ouagadougou is the capital.'));
		thread.records.insert(0, [await answer(300, 'Bobo-Dioulasso is the capital.')]);
		const change = await aiThreadChanges(thread.id, thread.doc, undefined);
		expect(change.put?.find((e) => e.itemId === 'a1')?.text).toBe('Ouagadougou is the capital.');
	});
});
