/**
 * Forged records that plain appends can carry, and what the views make of them (found in
 * review): a copy of a genuine record's id put before it, a legacy deletion entry with the
 * clock of its author's restore, and a cut that rewinds other members' turns of an AI chat.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { AiRole, AiThreadDoc } from '../../../src/lib/doc/AiThreadDoc.js';
import { ChannelDoc, deletionIndex } from '../../../src/lib/doc/ChannelDoc.js';
import { ChannelView } from '../../../src/lib/doc/ChannelView.js';
import { AiRecordKind, AiStatus, type AiRecord, type MessageRecord } from '../../../src/lib/doc/schema.js';
import { signAiRecord, signDeletionMark, signEdit, signMessage } from '../../../src/lib/doc/signature.js';
import { at, identity } from './helpers.js';

const bob = identity();
const ada = identity();
const host = identity();
const mallory = identity();

describe('records of one id', () => {
	it('a channel view shows the genuine message, whether the forged copy comes before it or after, loaded or live', async () => {
		const genuine = await signMessage(bob.key, { id: 'm1', author: bob.id, hlc: at(1, bob.id), text: 'the dose is 5 mg' });
		const forged: MessageRecord = { ...genuine, author: mallory.id, text: 'the dose is 50 mg' };
		const edit = await signEdit(bob.key, { msg: 'm1', author: bob.id, hlc: at(2, bob.id), text: 'the dose is 6 mg' });

		// Loaded: the forged copy first in the array (a reload, a newcomer's first sync).
		const loaded = new ChannelDoc(new Y.Doc());
		loaded.post(genuine);
		loaded.edit(edit);
		loaded.messages.insert(0, [forged]);
		const view = new ChannelView(loaded);
		expect(view.byId.get('m1')).toEqual(genuine);
		expect(view.top).toEqual([genuine]);
		expect(view.edits('m1')).toEqual([edit]);

		// Live: the forged copy arrives first, the genuine one after (its edit already there).
		const live = new ChannelDoc(new Y.Doc());
		const following = new ChannelView(live);
		live.messages.push([forged]);
		live.edit(edit);
		expect(following.edits('m1')).toEqual([]); // not the forged author's edit
		live.post(genuine);
		expect(following.byId.get('m1')).toEqual(genuine);
		expect(following.top).toEqual([genuine]);
		expect(following.edits('m1')).toEqual([edit]);
		// And a forged copy after the genuine one changes nothing.
		live.messages.push([{ ...forged, text: 'again' }]);
		expect(following.top).toEqual([genuine]);
		view.destroy();
		following.destroy();
	});

	it('an AI chat shows the genuine answer when a forged record of its id comes first', async () => {
		const chat = new AiThreadDoc(new Y.Doc());
		chat.addRecord(await signAiRecord(ada.key, { kind: AiRecordKind.user, id: 'q1', author: ada.id, hlc: at(1000, ada.id), text: 'What is the dose?' }));
		const answer = await signAiRecord(host.key, { kind: AiRecordKind.answer, id: 'a1', author: host.id, hlc: at(2000, host.id), text: '5 mg', model: 'm', askedBy: ada.id, status: AiStatus.done });
		chat.addRecord(answer);
		const forged: AiRecord = { ...answer, text: '500 mg' }; // keeps the genuine signature
		chat.records.insert(0, [forged]);
		expect(chat.list().find((m) => m.id === 'a1')?.text).toBe('5 mg');
	});
});

describe('who asked, in an AI chat', () => {
	it('a signed answer keeps its signed asker when an unsigned entry is slipped in before it', async () => {
		const chat = new AiThreadDoc(new Y.Doc());
		chat.addRecord(await signAiRecord(ada.key, { kind: AiRecordKind.user, id: 'q1', author: ada.id, hlc: at(1000, ada.id), text: 'What is the dose?', ask: { model: 'm', host: host.id } }));
		chat.addRecord(await signAiRecord(host.key, { kind: AiRecordKind.answer, id: 'a1', author: host.id, hlc: at(2000, host.id), text: '5 mg', model: 'm', askedBy: ada.id, question: 'q1', status: AiStatus.done }));
		expect(chat.list().find((m) => m.id === 'a1')?.askedBy).toBe(ada.id);
		chat.append({ id: 'x', role: AiRole.user, hlc: at(1500, mallory.id), author: mallory.id, text: 'unsigned' });
		expect(chat.list().find((m) => m.id === 'a1')?.askedBy).toBe(ada.id);
	});
});

describe('a cut in an AI chat', () => {
	it('rewinds only its author’s turns: a backdated question and a far-future cut drop nobody else’s', async () => {
		const chat = new AiThreadDoc(new Y.Doc());
		chat.addRecord(await signAiRecord(ada.key, { kind: AiRecordKind.user, id: 'q1', author: ada.id, hlc: at(1000, ada.id), text: 'What is the dose?' }));
		chat.addRecord(await signAiRecord(host.key, { kind: AiRecordKind.answer, id: 'a1', author: host.id, hlc: at(2000, host.id), text: '5 mg', model: 'm', askedBy: ada.id, status: AiStatus.done }));
		chat.addRecord(await signAiRecord(mallory.key, { kind: AiRecordKind.user, id: 'mq', author: mallory.id, hlc: at(1, mallory.id), text: 'hi' }));
		chat.addRecord(await signAiRecord(mallory.key, { kind: AiRecordKind.cut, id: 'c1', author: mallory.id, hlc: at(10_000_000, mallory.id), text: '', from: 'mq' }));
		expect(chat.list().map((m) => m.id)).toEqual(['q1', 'a1']);
	});

	it('still rewinds its author’s own turn and the answer to it', async () => {
		const chat = new AiThreadDoc(new Y.Doc());
		chat.addRecord(await signAiRecord(ada.key, { kind: AiRecordKind.user, id: 'q1', author: ada.id, hlc: at(1000, ada.id), text: 'What is the dose?' }));
		chat.addRecord(await signAiRecord(host.key, { kind: AiRecordKind.answer, id: 'a1', author: host.id, hlc: at(2000, host.id), text: '5 mg', model: 'm', askedBy: ada.id, status: AiStatus.done }));
		chat.addRecord(await signAiRecord(ada.key, { kind: AiRecordKind.cut, id: 'c1', author: ada.id, hlc: at(3000, ada.id), text: '', from: 'q1' }));
		chat.addRecord(await signAiRecord(ada.key, { kind: AiRecordKind.user, id: 'q2', author: ada.id, hlc: at(4000, ada.id), text: 'What is the dose for a child?' }));
		expect(chat.list().map((m) => m.id)).toEqual(['q2']);
	});
});

describe('deletion marks of one clock', () => {
	it('keeps a forged legacy entry beside the genuine restore of the same clock', async () => {
		const ch = new ChannelDoc(new Y.Doc());
		ch.post(await signMessage(bob.key, { id: 'm1', author: bob.id, hlc: at(1, bob.id), text: 'hi' }));
		ch.markDeletion(await signDeletionMark(bob.key, { msg: 'm1', by: bob.id, hlc: at(2, bob.id), deleted: true }));
		const restore = await signDeletionMark(bob.key, { msg: 'm1', by: bob.id, hlc: at(3, bob.id), deleted: false });
		ch.markDeletion(restore);
		ch.deletions.set('m1', { by: bob.id, hlc: restore.hlc, sig: 'AAAA' }); // the pre-marks form, in Bob's name
		const marks = deletionIndex(ch).get('m1')?.get(bob.id) ?? [];
		expect(marks.map((r) => [r.mark.hlc, r.legacy])).toEqual(
			expect.arrayContaining([
				[restore.hlc, true],
				[restore.hlc, false]
			])
		);
		// Which one decides (the newest whose signature checks out) is the channel state's: signatureVerdicts.test.ts.
	});
});
