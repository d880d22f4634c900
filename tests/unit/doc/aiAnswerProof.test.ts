/**
 * An AI chat's answer says who asked only when it names (`question`) a question of the chat
 * that member signed, asking the answer's model of the answer's signer (AiThreadDoc.list).
 * Found in review: a member signed a model answer "asked by" another member, placed after that
 * member's question, with citations, and every replica showed it as that member's answer.
 * Honest answers, edits and regenerations (the rewind rule of cuts) still show who asked.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { AiRole, AiThreadDoc } from '../../../src/lib/doc/AiThreadDoc.js';
import { AiRecordKind, AiStatus, type AiRecord } from '../../../src/lib/doc/schema.js';
import { signAiRecord, verifyAiRecord } from '../../../src/lib/doc/signature.js';
import { at, identity, type Signer } from './helpers.js';

const CHAT = 'chat-1';
const MODEL = 'tiny';

const sign = (by: Signer, r: Omit<AiRecord, 'sig' | 'author'>) => signAiRecord(by.key, { ...r, author: by.id }, CHAT);

/** A chat in which Ann asked the host's model (a signed question naming both). */
async function chat() {
	const ann = identity();
	const host = identity();
	const mallory = identity();
	const thread = new AiThreadDoc(new Y.Doc({ guid: CHAT }));
	thread.addRecord(await sign(ann, { kind: AiRecordKind.user, id: 'q1', hlc: at(100, ann.id), text: 'What dose?', ask: { model: MODEL, host: host.id } }));
	return { ann, host, mallory, thread };
}

const citation = { n: 1, kind: 'note' as const, docId: 'policy', title: 'Dosage policy (official)' };
const askedBy = (thread: AiThreadDoc, id: string) => thread.list().find((m) => m.id === id)?.askedBy;

describe('an AI chat answer "asked by" someone else', () => {
	it('signed by a member after the question, with citations: shown as the member’s own answer', async () => {
		const { ann, mallory, thread } = await chat();
		thread.addRecord(await sign(mallory, { kind: AiRecordKind.answer, id: 'a-m', hlc: at(200, mallory.id), text: 'Take 500 mg [1]', model: MODEL, askedBy: ann.id, status: AiStatus.done, sources: [citation] }));
		thread.addRecord(await sign(mallory, { kind: AiRecordKind.answer, id: 'a-q', hlc: at(210, mallory.id), text: 'Take 500 mg [1]', model: MODEL, askedBy: ann.id, question: 'q1', status: AiStatus.done, sources: [citation] }));
		for (const id of ['a-m', 'a-q']) {
			const shown = thread.list().find((m) => m.id === id)!;
			expect(shown.author).toBe(mallory.id);
			expect(shown.askedBy, id).toBeUndefined();
		}
	});

	it('naming a question forged in the asker’s name, or one that asks another model: not shown as asked', async () => {
		const { ann, mallory, thread } = await chat();
		const forged = await sign(mallory, { kind: AiRecordKind.user, id: 'q-f', hlc: at(150, mallory.id), text: 'What dose?', ask: { model: MODEL, host: mallory.id } });
		thread.addRecord({ ...forged, author: ann.id });
		thread.addRecord(await sign(mallory, { kind: AiRecordKind.answer, id: 'a-f', hlc: at(200, mallory.id), text: '500 mg', model: MODEL, askedBy: ann.id, question: 'q-f', status: AiStatus.done }));
		expect(askedBy(thread, 'a-f')).toBeUndefined();
		thread.addRecord(await sign(ann, { kind: AiRecordKind.user, id: 'q-m', hlc: at(300, ann.id), text: 'And you?', ask: { model: 'big', host: mallory.id } }));
		thread.addRecord(await sign(mallory, { kind: AiRecordKind.answer, id: 'a-m', hlc: at(400, mallory.id), text: '500 mg', model: MODEL, askedBy: ann.id, question: 'q-m', status: AiStatus.done }));
		expect(askedBy(thread, 'a-m')).toBeUndefined();
	});

	it('a live entry claiming an asker: shown as asked only when it names the question that asked its writer', async () => {
		const { ann, host, mallory, thread } = await chat();
		thread.append({ id: 'l1', role: AiRole.assistant, hlc: at(200, mallory.id), author: mallory.id, askedBy: ann.id, question: 'q1', model: MODEL, status: AiStatus.streaming, text: '500 mg' });
		thread.append({ id: 'l2', role: AiRole.assistant, hlc: at(210, host.id), author: host.id, askedBy: ann.id, model: MODEL, status: AiStatus.streaming, text: '500 mg' });
		thread.append({ id: 'l3', role: AiRole.assistant, hlc: at(220, host.id), author: host.id, askedBy: ann.id, question: 'q1', model: MODEL, status: AiStatus.streaming, text: '5 mg' });
		expect([askedBy(thread, 'l1'), askedBy(thread, 'l2'), askedBy(thread, 'l3')]).toEqual([undefined, undefined, ann.id]);
	});
});

describe('honest answers in an AI chat', () => {
	it('the host’s answer to the question says who asked; its signature covers the question it names', async () => {
		const { ann, host, thread } = await chat();
		const record = await sign(host, { kind: AiRecordKind.answer, id: 'a1', hlc: at(200, host.id), text: '5 mg', model: MODEL, askedBy: ann.id, question: 'q1', status: AiStatus.done });
		thread.addRecord(record);
		expect(askedBy(thread, 'a1')).toBe(ann.id);
		expect(await verifyAiRecord(record, CHAT)).toBe(true);
		expect(await verifyAiRecord({ ...record, question: 'q2' }, CHAT)).toBe(false);
		const question = thread.readRecords().find((r) => r.id === 'q1')!;
		expect(await verifyAiRecord({ ...question, ask: { model: MODEL, host: ann.id } }, CHAT)).toBe(false);
	});

	it('edit and resend, and regenerate, keep who asked (cuts by the asker, the new answers naming their question)', async () => {
		const { ann, host, thread } = await chat();
		thread.addRecord(await sign(host, { kind: AiRecordKind.answer, id: 'a1', hlc: at(200, host.id), text: '5 mg', model: MODEL, askedBy: ann.id, question: 'q1', status: AiStatus.done }));
		// Regenerate: the answers after the question are cut; the new one names the same question.
		thread.addRecord(await sign(ann, { kind: AiRecordKind.cut, id: 'c1', hlc: at(300, ann.id), text: '', from: 'a1' }));
		thread.addRecord(await sign(host, { kind: AiRecordKind.answer, id: 'a2', hlc: at(400, host.id), text: '6 mg', model: MODEL, askedBy: ann.id, question: 'q1', status: AiStatus.done }));
		expect(thread.list().map((m) => [m.id, m.askedBy])).toEqual([
			['q1', undefined],
			['a2', ann.id]
		]);
		// Edit and resend: the question's turn is cut, a new question asked, and answered.
		thread.addRecord(await sign(ann, { kind: AiRecordKind.cut, id: 'c2', hlc: at(500, ann.id), text: '', from: 'q1' }));
		thread.addRecord(await sign(ann, { kind: AiRecordKind.user, id: 'q2', hlc: at(600, ann.id), text: 'What dose for a child?', ask: { model: MODEL, host: host.id } }));
		thread.addRecord(await sign(host, { kind: AiRecordKind.answer, id: 'a3', hlc: at(700, host.id), text: '1 mg', model: MODEL, askedBy: ann.id, question: 'q2', status: AiStatus.done }));
		expect(thread.list().map((m) => [m.id, m.askedBy])).toEqual([
			['q2', undefined],
			['a3', ann.id]
		]);
		// An answer naming the question that was cut proves nothing.
		thread.addRecord(await sign(host, { kind: AiRecordKind.answer, id: 'a4', hlc: at(800, host.id), text: '5 mg', model: MODEL, askedBy: ann.id, question: 'q1', status: AiStatus.done }));
		expect(askedBy(thread, 'a4')).toBeUndefined();
	});
});
