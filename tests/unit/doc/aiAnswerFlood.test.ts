/**
 * One question, one answer in an AI chat too: of the answers proven to a question, only the
 * first in the conversation says who asked (AiThreadDoc.list). Found in review: the host a
 * member once asked signed further answers naming her question, "asked by" her, days later,
 * and each showed as her answer at the end of the chat. Only signed answers whose signature
 * checks out take the place (anyone may write a live entry). A regenerate (which cuts the
 * answer it replaces) still shows its new answer as asked. Real Ed25519 keys and a real chat document.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { AiRole, AiThreadDoc } from '../../../src/lib/doc/AiThreadDoc.js';
import { AiRecordKind, AiStatus, type AiRecord } from '../../../src/lib/doc/schema.js';
import { signAiRecord } from '../../../src/lib/doc/signature.js';
import { at, identity, type Signer } from './helpers.js';

const CHAT = 'chat-1';
const MODEL = 'tiny';
const DAY = 24 * 60 * 60 * 1000;

const sign = (by: Signer, r: Omit<AiRecord, 'sig' | 'author'>) => signAiRecord(by.key, { ...r, author: by.id }, CHAT);
const answerOf = (host: Signer, ann: Signer, id: string, t: number, text: string) =>
	sign(host, { kind: AiRecordKind.answer, id, hlc: at(t, host.id), text, model: MODEL, askedBy: ann.id, question: 'q1', status: AiStatus.done });

describe('further answers to one question in an AI chat', () => {
	it('a second answer the host signs days later is its own message, not asked by the member', async () => {
		const ann = identity();
		const host = identity();
		const thread = new AiThreadDoc(new Y.Doc({ guid: CHAT }));
		thread.addRecord(await sign(ann, { kind: AiRecordKind.user, id: 'q1', hlc: at(100, ann.id), text: 'What dose?', ask: { model: MODEL, host: host.id } }));
		thread.addRecord(await answerOf(host, ann, 'a1', 200, '5 mg'));
		thread.addRecord(await answerOf(host, ann, 'a2', 3 * DAY, 'Ann asked me to tell you: 50 mg.'));
		expect(thread.list().map((m) => [m.id, m.author, m.askedBy])).toEqual([
			['q1', ann.id, undefined],
			['a1', host.id, ann.id],
			['a2', host.id, undefined]
		]);
		// Nor does a live entry anyone writes naming the question once it is answered; nor a record
		// claiming the host, dated before its answer, that the host did not sign.
		thread.append({ id: 'l1', role: AiRole.assistant, hlc: at(300, host.id), author: host.id, askedBy: ann.id, question: 'q1', model: MODEL, status: AiStatus.streaming, text: '50 mg' });
		const forged = await answerOf(ann, ann, 'f1', 150, 'Ann asked for 50 mg.');
		thread.addRecord({ ...forged, author: host.id });
		expect(thread.list().map((m) => [m.id, m.askedBy])).toEqual([
			['q1', undefined],
			['f1', undefined],
			['a1', ann.id],
			['l1', undefined],
			['a2', undefined]
		]);
		// Regenerate: Ann cuts the first answer; the host's new answer is the question's answer now.
		thread.addRecord(await sign(ann, { kind: AiRecordKind.cut, id: 'c1', hlc: at(4 * DAY, ann.id), text: '', from: 'a1' }));
		thread.addRecord(await answerOf(host, ann, 'a3', 4 * DAY + 100, '6 mg'));
		expect(thread.list().map((m) => [m.id, m.askedBy])).toEqual([
			['q1', undefined],
			['f1', undefined],
			['a3', ann.id]
		]);
	});
});
