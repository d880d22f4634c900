/**
 * Signed AI chats against a member with a modified client: the answer's text, its "asked by"
 * and the questions are signed records that only accumulate (aiThreadPolicy.ts) and that the
 * view (AiThreadDoc.list) prefers to anything live. Rewriting a finished answer (in place, by
 * deleting its record, or through its live entry), forging who asked, and dropping someone
 * else's turn with a cut all fail; honest edits, regenerations and streaming pass.
 */
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { checkAiThreadUpdate } from '../../../src/lib/doc/aiThreadPolicy.js';
import { AiRole, AiThreadDoc } from '../../../src/lib/doc/AiThreadDoc.js';
import { AiRecordKind, AiStatus, type AiRecord } from '../../../src/lib/doc/schema.js';
import { signAiRecord, verifyAiRecord } from '../../../src/lib/doc/signature.js';
import { checkRemoteUpdate } from '../../../src/lib/doc/team/writePolicy.js';
import { at } from './helpers.js';

interface Key {
	key: PrivateKey;
	peerId: string;
}

let ann: Key, host: Key, mallory: Key;

beforeAll(async () => {
	const make = async (): Promise<Key> => {
		const key = await generateKeyPair('Ed25519');
		return { key, peerId: peerIdFromPrivateKey(key).toString() };
	};
	[ann, host, mallory] = await Promise.all([make(), make(), make()]);
});

const sign = (by: Key, r: Omit<AiRecord, 'sig' | 'author'>) => signAiRecord(by.key, { ...r, author: by.peerId });

/** A chat: Ann asked, the host answered "5 mg" (streamed into a live entry, then signed). */
async function chat(): Promise<{ honest: Y.Doc; hostile: AiThreadDoc }> {
	const honest = new Y.Doc();
	const thread = new AiThreadDoc(honest);
	thread.addRecord(await sign(ann, { kind: AiRecordKind.user, id: 'q1', hlc: at(100), text: 'What dose?', ask: { model: 'tiny', host: host.peerId } }));
	const live = thread.append({ id: 'a1', role: AiRole.assistant, hlc: at(200), author: host.peerId, askedBy: ann.peerId, question: 'q1', model: 'tiny', status: AiStatus.streaming, text: 'The dose is 5 mg' });
	live.set('status', AiStatus.done);
	thread.addRecord(await sign(host, { kind: AiRecordKind.answer, id: 'a1', hlc: at(200), text: 'The dose is 5 mg', model: 'tiny', askedBy: ann.peerId, question: 'q1', status: AiStatus.done }));
	const copy = new Y.Doc();
	Y.applyUpdate(copy, Y.encodeStateAsUpdate(honest));
	return { honest, hostile: new AiThreadDoc(copy) };
}

/** What the honest replica says of the hostile change, and the view after applying what passes. */
async function attack(change: (t: AiThreadDoc) => void | Promise<void>) {
	const { honest, hostile } = await chat();
	const before = Y.encodeStateVector(honest);
	await change(hostile);
	const update = Y.encodeStateAsUpdate(hostile.doc, before);
	const refused = checkRemoteUpdate('ws', 'chat', honest, update, { aiThread: true });
	if (refused === undefined) Y.applyUpdate(honest, update);
	return { refused, view: new AiThreadDoc(honest).list() };
}

describe('an AI chat refuses or ignores', () => {
	it('a finished answer rewritten by deleting its signed record', async () => {
		const { refused, view } = await attack((t) => t.records.delete(1, 1));
		expect(refused).toBe('a record cannot be deleted');
		expect(view.find((m) => m.id === 'a1')?.text).toBe('The dose is 5 mg');
	});

	it('a finished answer rewritten through its live entry: the signed record still shows', async () => {
		const { refused, view } = await attack((t) => {
			const text = t.entry('a1')!.get('text') as Y.Text;
			text.delete(0, text.length);
			text.insert(0, 'The dose is 500 mg');
		});
		expect(refused).toBeUndefined(); // live entries are live
		expect(view.find((m) => m.id === 'a1')?.text).toBe('The dose is 5 mg');
	});

	it('a second answer record for the same message: the first one stays', async () => {
		const { refused, view } = await attack(async (t) =>
			t.addRecord(await sign(mallory, { kind: AiRecordKind.answer, id: 'a1', hlc: at(200), text: 'The dose is 500 mg', status: AiStatus.done }))
		);
		expect(refused).toBeUndefined();
		expect(view.find((m) => m.id === 'a1')?.text).toBe('The dose is 5 mg');
	});

	it('a forged "asked by": shown only when that member asked the question it answers', async () => {
		const { view } = await attack(async (t) => {
			t.addRecord(await sign(mallory, { kind: AiRecordKind.user, id: 'q2', hlc: at(300), text: 'And for a child?' }));
			t.addRecord(await sign(mallory, { kind: AiRecordKind.answer, id: 'a2', hlc: at(400), text: 'Ann says 1 g', askedBy: ann.peerId, status: AiStatus.done }));
		});
		const forged = view.find((m) => m.id === 'a2')!;
		expect(forged.author).toBe(mallory.peerId);
		expect(forged.askedBy).toBeUndefined();
		expect(view.find((m) => m.id === 'a1')?.askedBy).toBe(ann.peerId);
	});

	it('a record claiming another author does not verify', async () => {
		const real = await sign(host, { kind: AiRecordKind.answer, id: 'a9', hlc: at(500), text: 'The dose is 5 mg', status: AiStatus.done });
		expect(await verifyAiRecord(real)).toBe(true);
		expect(await verifyAiRecord({ ...real, text: 'The dose is 500 mg' })).toBe(false);
		const forged = await sign(mallory, { kind: AiRecordKind.answer, id: 'a9', hlc: at(500), text: 'x', status: AiStatus.done });
		expect(await verifyAiRecord({ ...forged, author: host.peerId })).toBe(false);
	});

	it("a cut of someone else's turn, or a cut whose signature is forged", async () => {
		const { view } = await attack(async (t) => {
			t.addRecord(await sign(mallory, { kind: AiRecordKind.cut, id: 'c1', hlc: at(600), text: '', from: 'q1' }));
			const forged = await sign(mallory, { kind: AiRecordKind.cut, id: 'c2', hlc: at(600), text: '', from: 'q1' });
			t.addRecord({ ...forged, author: ann.peerId });
		});
		expect(view.map((m) => m.id)).toEqual(['q1', 'a1']);
	});

	it('other top-level names', () => {
		const honest = new Y.Doc();
		new AiThreadDoc(honest);
		const hostile = new Y.Doc();
		hostile.getMap('settings').set('x', 1);
		expect(checkAiThreadUpdate(honest, Y.encodeStateAsUpdate(hostile))).toBe('an AI chat has no "settings"');
	});
});

describe('an AI chat lets through', () => {
	it("the asker's edit and resend, and regenerate: cuts of its own turn", async () => {
		const { refused, view } = await attack(async () => undefined);
		expect(refused).toBeUndefined();
		const { honest } = await chat();
		const thread = new AiThreadDoc(honest);
		const before = Y.encodeStateVector(honest);
		const copy = new Y.Doc();
		Y.applyUpdate(copy, Y.encodeStateAsUpdate(honest));
		const asker = new AiThreadDoc(copy);
		asker.addRecord(await sign(ann, { kind: AiRecordKind.cut, id: 'c1', hlc: at(700), text: '', from: 'q1' }));
		asker.addRecord(await sign(ann, { kind: AiRecordKind.user, id: 'q2', hlc: at(800), text: 'What dose for a child?' }));
		const update = Y.encodeStateAsUpdate(copy, before);
		expect(checkRemoteUpdate('ws', 'chat', honest, update, { aiThread: true })).toBeUndefined();
		Y.applyUpdate(honest, update);
		expect(thread.list().map((m) => m.id)).toEqual(['q2']);
		expect(view.map((m) => m.id)).toEqual(['q1', 'a1']);
	});

	it('an answer streaming into its live entry before its record exists', async () => {
		const honest = new Y.Doc();
		const copy = new Y.Doc();
		const writer = new AiThreadDoc(copy);
		writer.addRecord(await sign(ann, { kind: AiRecordKind.user, id: 'q1', hlc: at(100), text: 'Hi' }));
		const live = writer.append({ id: 'a1', role: AiRole.assistant, hlc: at(200), author: host.peerId, status: AiStatus.streaming, text: '' });
		(live.get('text') as Y.Text).insert(0, 'Hel');
		const update = Y.encodeStateAsUpdate(copy);
		expect(checkRemoteUpdate('ws', 'chat', honest, update, { aiThread: true })).toBeUndefined();
		Y.applyUpdate(honest, update);
		const shown = new AiThreadDoc(honest).list();
		expect(shown.map((m) => [m.id, m.text, m.record === undefined])).toEqual([
			['q1', 'Hi', false],
			['a1', 'Hel', true]
		]);
	});
});
