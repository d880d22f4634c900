/**
 * A relay's answer whose question arrives after it (sync order is not guaranteed) is indexed
 * by its signed text once the question arrives. Its text is an edit, judged by the channel's
 * rules: a relay's edit shows only as the answer to a question in the channel (channelRights.ts
 * `provenAsker`). Found in review: the edit was refused while the question was missing, and the
 * pass that read the question weighed only new edits, so the answer was never found by its
 * words (until a new session read the channel whole). Real signatures, real channel documents.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { ChannelDoc } from '../../../../src/lib/doc/ChannelDoc';
import type { PostingRules } from '../../../../src/lib/doc/channelRights';
import { signEdit, signMessage } from '../../../../src/lib/doc/signature';
import { channelChanges } from '../../../../src/lib/store/search/extract';
import { at, identity } from '../../doc/helpers';
import { memoryIndex } from './memoryIndex';

const DOC = 'general';

describe('a relay’s answer that arrives before its question', () => {
	it('is indexed by its signed text once the question arrives', async () => {
		const member = identity();
		const relay = identity();
		const roles: Record<string, string> = { [member.id]: 'member', [relay.id]: 'relay' };
		const rules: PostingRules = { roleOf: (peer) => roles[peer], readOnly: [] };
		const doc = new Y.Doc({ guid: DOC });
		const channel = new ChannelDoc(doc);
		const question = await signMessage(member.key, { id: 'q1', author: member.id, hlc: at(100, member.id), text: '@tiny the capital?', ask: { model: 'tiny', host: relay.id } }, DOC);
		const answer = await signMessage(relay.key, { id: 'a1', author: relay.id, hlc: at(110, relay.id), text: '', model: 'tiny', askedBy: member.id, question: 'q1' }, DOC);
		const index = memoryIndex(DOC);
		channel.post(answer);
		channel.edit(await signEdit(relay.key, { msg: 'a1', author: relay.id, hlc: at(120, relay.id), text: 'Ouagadougou is the capital.', end: { status: 'done' } }));
		index.apply(await channelChanges(DOC, doc, index.prev(), index.lookup, rules));
		expect(index.rows.get('a1')?.text ?? '').not.toContain('Ouagadougou'); // no question yet: the edit does not show
		channel.post(question);
		index.apply(await channelChanges(DOC, doc, index.prev(), index.lookup, rules));
		expect(index.rows.get('a1')?.text).toBe('Ouagadougou is the capital.');
		expect(index.rows.get('q1')?.text).toBe('@tiny the capital?');
	});
});
