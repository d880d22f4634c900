/**
 * A member copies another member's message id into a record of her own, validly signed by her,
 * and puts it before the genuine one (found in review: the first valid record of an id won, so
 * every view built from scratch, a reload or a newcomer, lost the genuine message while replicas
 * that held it live kept it). Ids are now bound to the peer that made them (ids.ts newIdFor),
 * and the stronger claim wins wherever the copy sits (recordChoice.ts).
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { AiThreadDoc } from '../../../src/lib/doc/AiThreadDoc.js';
import { ChannelDoc } from '../../../src/lib/doc/ChannelDoc.js';
import { ChannelView } from '../../../src/lib/doc/ChannelView.js';
import { isId, isIdOf, newIdFor } from '../../../src/lib/doc/ids.js';
import { answerIdFor, idClaim } from '../../../src/lib/doc/recordChoice.js';
import { AiRecordKind, AiStatus } from '../../../src/lib/doc/schema.js';
import { signAiRecord, signMessage } from '../../../src/lib/doc/signature.js';
import { at, identity } from './helpers.js';

const bob = identity();
const ada = identity();
const host = identity();
const mallory = identity();
const CHANNEL = 'chan-1';

function channel(): ChannelDoc {
	return new ChannelDoc(new Y.Doc({ guid: CHANNEL }));
}

describe('ids bound to a peer', () => {
	it('have the shape of any id, and name only the peer they were made for', () => {
		const id = newIdFor(bob.id);
		expect(isId(id)).toBe(true);
		expect(isIdOf(id, bob.id)).toBe(true);
		expect(isIdOf(id, mallory.id)).toBe(false);
		expect(isIdOf(`${id.slice(0, 25)}${id.at(-1) === 'a' ? 'b' : 'a'}`, bob.id)).toBe(false);
		expect(newIdFor(bob.id)).not.toBe(id);
	});
});

describe('a member’s validly signed copy of another’s message id', () => {
	it('never takes the genuine message’s place: live, reloaded, before it or after it', async () => {
		const id = newIdFor(bob.id);
		const genuine = await signMessage(bob.key, { id, author: bob.id, hlc: at(100, bob.id), text: 'I vote no' }, CHANNEL);
		const squat = await signMessage(mallory.key, { id, author: mallory.id, hlc: at(90, mallory.id), text: 'nothing to see' }, CHANNEL);
		// Claiming to be a model's answer asked by Bob gives her copy no claim at all.
		const asAnswer = await signMessage(mallory.key, { id, author: mallory.id, hlc: at(91, mallory.id), text: 'a model said so', model: 'm', askedBy: bob.id }, CHANNEL);
		expect([idClaim(genuine), idClaim(squat), idClaim(asAnswer)]).toEqual([2, 0, 0]);

		for (const copy of [squat, asAnswer]) {
			// Loaded from scratch with the copy first in the array.
			const loaded = channel();
			loaded.post(genuine);
			loaded.messages.insert(0, [copy]);
			const fresh = new ChannelView(loaded);
			expect(fresh.byId.get(id)).toEqual(genuine);
			expect(fresh.top).toEqual([genuine]);

			// Live: the copy arrives first, the genuine one after.
			const live = channel();
			const following = new ChannelView(live);
			live.messages.push([copy]);
			expect(following.byId.get(id)).toEqual(copy);
			live.post(genuine);
			expect(following.byId.get(id)).toEqual(genuine);
			expect(following.top).toEqual([genuine]);
			// And a copy after the genuine one changes nothing.
			live.messages.push([copy]);
			expect(following.top).toEqual([genuine]);
			fresh.destroy();
			following.destroy();
		}
	});

	it('between records of equal claim (ids made before binding), the first valid one still stays', async () => {
		const first = await signMessage(bob.key, { id: 'm1', author: bob.id, hlc: at(100, bob.id), text: 'first' }, CHANNEL);
		const second = await signMessage(mallory.key, { id: 'm1', author: mallory.id, hlc: at(90, mallory.id), text: 'second' }, CHANNEL);
		const ch = channel();
		ch.post(first);
		ch.post(second);
		const view = new ChannelView(ch);
		expect(view.top).toEqual([first]);
		view.destroy();
	});

	it('a model’s answer keeps its place against a copy claiming the same asker (found in review), in a channel', async () => {
		const id = answerIdFor(ada.id, host.id); // the asker picks it for the host it asks
		const answer = await signMessage(host.key, { id, author: host.id, hlc: at(200, host.id), text: '5 mg', model: 'm', askedBy: ada.id }, CHANNEL);
		const copy = await signMessage(mallory.key, { id, author: mallory.id, hlc: at(199, mallory.id), text: '500 mg', model: 'm', askedBy: ada.id }, CHANNEL);
		expect([idClaim(answer), idClaim(copy)]).toEqual([1, 0]);
		const live = channel();
		const following = new ChannelView(live);
		live.post(answer);
		live.messages.insert(0, [copy]);
		expect(following.byId.get(id)?.text).toBe('5 mg');
		const fresh = new ChannelView(live);
		expect(fresh.byId.get(id)?.text).toBe('5 mg');
		// An answer its asker writes (a model on this device) is the asker's own id.
		expect(idClaim({ id: answerIdFor(ada.id, ada.id), author: ada.id, model: 'm', askedBy: ada.id })).toBe(2);
		following.destroy();
		fresh.destroy();
	});

	it('an AI chat keeps the asker’s question and the host’s answer', async () => {
		const q = newIdFor(ada.id);
		const a = answerIdFor(ada.id, host.id); // the asker picks the answer's id for its host; the host signs the answer
		const chat = new AiThreadDoc(new Y.Doc({ guid: 'chat-1' }));
		const question = await signAiRecord(ada.key, { kind: AiRecordKind.user, id: q, author: ada.id, hlc: at(1000, ada.id), text: 'What is the dose?' }, 'chat-1');
		const answer = await signAiRecord(host.key, { kind: AiRecordKind.answer, id: a, author: host.id, hlc: at(2000, host.id), text: '5 mg', model: 'm', askedBy: ada.id, status: AiStatus.done }, 'chat-1');
		chat.addRecord(question);
		chat.addRecord(answer);
		chat.records.insert(0, [
			await signAiRecord(mallory.key, { kind: AiRecordKind.user, id: q, author: mallory.id, hlc: at(900, mallory.id), text: 'What is the dose for a horse?' }, 'chat-1'),
			await signAiRecord(mallory.key, { kind: AiRecordKind.answer, id: a, author: mallory.id, hlc: at(1900, mallory.id), text: '500 mg', model: 'm', askedBy: ada.id, status: AiStatus.done }, 'chat-1')
		]);
		const shown = chat.list();
		expect(shown.find((m) => m.id === q)?.text).toBe('What is the dose?');
		expect(shown.find((m) => m.id === a)?.text).toBe('5 mg');
	});
});
