/**
 * One answer, one ending (doc/answerEnds.ts), attacked by a member of an AI chat (review). Found
 * in review: the AI chat told two answer records of one id apart by their JSON, not by what
 * their signature covers, so a member who copied the host's genuine answer record with its
 * fields in another order, or with an empty list of tool steps or sources where it had none (the
 * signature reads both alike), made an honest answer show as equivocated. Real Ed25519 keys,
 * a real chat document.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { AiThreadDoc } from '../../../src/lib/doc/AiThreadDoc.js';
import { AiRecordKind, AiStatus, type AiRecord } from '../../../src/lib/doc/schema.js';
import { signAiRecord, verifyAiRecordNow } from '../../../src/lib/doc/signature.js';
import { at, identity, type Signer } from './helpers.js';

const CHAT = 'chat-1';
const MODEL = 'tiny';

const signAi = (by: Signer, r: Omit<AiRecord, 'sig' | 'author'>) => signAiRecord(by.key, { ...r, author: by.id }, CHAT);

/** Ann asks the host's model in an AI chat, and the host answers once. */
async function answered() {
	const ann = identity();
	const host = identity();
	const thread = new AiThreadDoc(new Y.Doc({ guid: CHAT }));
	thread.addRecord(await signAi(ann, { kind: AiRecordKind.user, id: 'q1', hlc: at(100, ann.id), text: 'Dose?', ask: { model: MODEL, host: host.id } }));
	const answer = await signAi(host, { kind: AiRecordKind.answer, id: 'a1', hlc: at(200, host.id), text: '5 mg.', model: MODEL, askedBy: ann.id, question: 'q1', status: AiStatus.done });
	thread.addRecord(answer);
	const answers = () => thread.list().filter((m) => m.role === 'assistant').map((m) => [m.id, m.text, m.askedBy === ann.id, m.equivocated === true]);
	return { thread, answer, answers };
}

describe('copies of the host’s genuine AI-chat answer, re-inserted by a member', () => {
	it('a copy with its fields in another order marks nothing', async () => {
		const { thread, answer, answers } = await answered();
		const reordered = Object.fromEntries(Object.entries(answer).reverse()) as unknown as AiRecord;
		expect(verifyAiRecordNow(reordered, CHAT)).toBe(true);
		thread.records.insert(0, [reordered]);
		expect(answers()).toEqual([['a1', '5 mg.', true, false]]);
	});

	it('a copy with empty tool steps and sources where it had none (signed alike) marks nothing', async () => {
		const { thread, answer, answers } = await answered();
		const padded: AiRecord = { ...answer, steps: [], sources: [] };
		expect(verifyAiRecordNow(padded, CHAT)).toBe(true);
		thread.records.insert(0, [padded]);
		expect(answers()).toEqual([['a1', '5 mg.', true, false]]);
	});
});
