import { generateKeyPair } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { beforeAll, describe, expect, it } from 'vitest';
import { AiRecordKind, type EditRecord, type MessageRecord } from '../../../src/lib/doc/schema.js';
import {
	editSigningBytes,
	messageSigningBytes,
	signDeletion,
	signEdit,
	signAiRecord,
	signMessage,
	verifyAiRecord,
	verifyDeletion,
	verifyBytes,
	verifyEdit,
	verifyMessage
} from '../../../src/lib/doc/signature.js';
import { at } from './helpers.js';

let aliceKey: PrivateKey;
let alice: string;
let malloryKey: PrivateKey;
let mallory: string;

beforeAll(async () => {
	aliceKey = await generateKeyPair('Ed25519');
	alice = peerIdFromPrivateKey(aliceKey).toString();
	malloryKey = await generateKeyPair('Ed25519');
	mallory = peerIdFromPrivateKey(malloryKey).toString();
});

function unsignedMessage(overrides: Partial<MessageRecord> = {}): Omit<MessageRecord, 'sig'> {
	return { id: 'm1', author: alice, hlc: at(100, alice), text: 'hello **world**', ...overrides };
}

describe('message signatures', () => {
	it('verify for the author, with and without a parent', async () => {
		const top = await signMessage(aliceKey, unsignedMessage());
		const reply = await signMessage(aliceKey, unsignedMessage({ id: 'r1', parent: 'm1' }));
		expect(top.sig).toMatch(/^[A-Za-z0-9+/]+=*$/);
		expect(await verifyMessage(top)).toBe(true);
		expect(await verifyMessage(reply)).toBe(true);
	});

	it('fail when any signed field is altered', async () => {
		const signed = await signMessage(aliceKey, unsignedMessage({ parent: 'p1' }));
		const altered: MessageRecord[] = [
			{ ...signed, text: 'hello world' },
			{ ...signed, text: signed.text + ' ' },
			{ ...signed, hlc: at(101, alice) },
			{ ...signed, id: 'm2' },
			{ ...signed, parent: 'p2' },
			{ ...signed, parent: undefined },
			{ ...signed, author: mallory }
		];
		for (const record of altered) expect(await verifyMessage(record), JSON.stringify(record)).toBe(false);
	});

	it("a model's answer signs who asked: changing, adding or dropping it fails", async () => {
		const answer = await signMessage(aliceKey, unsignedMessage({ model: 'tiny', askedBy: mallory }));
		expect(await verifyMessage(answer)).toBe(true);
		expect(await verifyMessage({ ...answer, askedBy: alice })).toBe(false);
		expect(await verifyMessage({ ...answer, askedBy: undefined })).toBe(false);
		const plain = await signMessage(aliceKey, unsignedMessage({ model: 'tiny' }));
		expect(await verifyMessage({ ...plain, askedBy: mallory })).toBe(false);
	});

	it('fail when the parent is added to a signed top-level message', async () => {
		const signed = await signMessage(aliceKey, unsignedMessage());
		expect(await verifyMessage({ ...signed, parent: 'p1' })).toBe(false);
	});

	it("fail when signed with another peer's key", async () => {
		const forged = await signMessage(malloryKey, unsignedMessage({ author: alice }));
		expect(await verifyMessage(forged)).toBe(false);
		const honest = await signMessage(malloryKey, unsignedMessage({ author: mallory }));
		expect(await verifyMessage(honest)).toBe(true);
		// Mallory's valid signature moved onto Alice's message.
		const moved = await signMessage(aliceKey, unsignedMessage());
		expect(await verifyMessage({ ...moved, sig: honest.sig })).toBe(false);
	});

	it('return false, never throw, for garbage signatures and authors', async () => {
		const signed = await signMessage(aliceKey, unsignedMessage());
		const garbage: MessageRecord[] = [
			{ ...signed, sig: '' },
			{ ...signed, sig: 'not base64 !!!' },
			{ ...signed, sig: 'AAAA' },
			{ ...signed, sig: signed.sig.slice(0, -4) },
			{ ...signed, author: '' },
			{ ...signed, author: 'not-a-peer-id' },
			{ ...signed, author: 'QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N' }, // an RSA-style id, no inline key
			{ ...signed, author: alice.slice(0, -3) }
		];
		for (const record of garbage) {
			await expect(verifyMessage(record), JSON.stringify(record)).resolves.toBe(false);
		}
		await expect(verifyBytes(alice, new Uint8Array(), signed.sig)).resolves.toBe(false);
	});

	it('sign bytes that separate fields unambiguously', () => {
		const a = messageSigningBytes(unsignedMessage({ id: 'a', text: 'b,c' }));
		const b = messageSigningBytes(unsignedMessage({ id: 'a","b', text: 'c' }));
		expect(a).not.toEqual(b);
		expect(messageSigningBytes(unsignedMessage())).not.toEqual(
			editSigningBytes({ msg: 'm1', author: alice, hlc: at(100, alice), text: 'hello **world**' })
		);
	});
});

describe('signatures bound to their document (found in review: a message replayed from a private space into an open channel, or an AI answer into another chat, showed verified)', () => {
	it('a message signed in one document verifies there only', async () => {
		const m = await signMessage(aliceKey, unsignedMessage(), 'dm-1');
		expect(await verifyMessage(m, 'dm-1')).toBe(true);
		expect(await verifyMessage(m, 'general')).toBe(false);
		expect(await verifyMessage(m)).toBe(false);
	});

	it('an AI-chat record signed in one chat verifies there only', async () => {
		const r = await signAiRecord(aliceKey, { kind: AiRecordKind.user, id: 'q1', author: alice, hlc: at(100, alice), text: 'What is the dose?' }, 'chat-1');
		expect(await verifyAiRecord(r, 'chat-1')).toBe(true);
		expect(await verifyAiRecord(r, 'chat-2')).toBe(false);
	});

	it('a record signed before binding still verifies, in any document (the limit the README names)', async () => {
		const legacy = await signMessage(aliceKey, unsignedMessage());
		expect(await verifyMessage(legacy, 'general')).toBe(true);
		expect(await verifyMessage({ ...legacy, text: 'changed' }, 'general')).toBe(false);
	});
});

describe('edit signatures', () => {
	function unsignedEdit(overrides: Partial<EditRecord> = {}): Omit<EditRecord, 'sig'> {
		return { msg: 'm1', author: alice, hlc: at(200, alice), text: 'fixed typo', ...overrides };
	}

	it('verify for the author', async () => {
		expect(await verifyEdit(await signEdit(aliceKey, unsignedEdit()))).toBe(true);
	});

	it('fail when altered or signed by someone else', async () => {
		const signed = await signEdit(aliceKey, unsignedEdit());
		for (const record of [
			{ ...signed, text: 'other' },
			{ ...signed, msg: 'm2' },
			{ ...signed, hlc: at(201, alice) },
			{ ...signed, author: mallory }
		]) {
			expect(await verifyEdit(record)).toBe(false);
		}
		expect(await verifyEdit(await signEdit(malloryKey, unsignedEdit()))).toBe(false);
	});

	it('is not interchangeable with a message signature', async () => {
		const message = await signMessage(aliceKey, unsignedMessage({ id: 'm1', text: 'same', hlc: at(300, alice) }));
		const asEdit: EditRecord = { msg: 'm1', author: alice, hlc: at(300, alice), text: 'same', sig: message.sig };
		expect(await verifyEdit(asEdit)).toBe(false);
	});

	it('return false for a garbage signature', async () => {
		const signed = await signEdit(aliceKey, unsignedEdit());
		await expect(verifyEdit({ ...signed, sig: '%%%' })).resolves.toBe(false);
		await expect(verifyEdit({ ...signed, author: '12D3KooW' })).resolves.toBe(false);
	});
});

describe('deletion signatures', () => {
	it('verify for the signer and fail when moved, altered or forged', async () => {
		const d = await signDeletion(aliceKey, 'm1', { by: alice, hlc: at(300, alice) });
		expect(await verifyDeletion('m1', d)).toBe(true);
		// The same record copied onto another message does not verify.
		expect(await verifyDeletion('m2', d)).toBe(false);
		expect(await verifyDeletion('m1', { ...d, hlc: at(301, alice) })).toBe(false);
		// Mallory cannot delete in Alice's name.
		const forged = await signDeletion(malloryKey, 'm1', { by: alice, hlc: at(300, alice) });
		expect(await verifyDeletion('m1', forged)).toBe(false);
		expect(await verifyDeletion('m1', { ...d, sig: '!!' })).toBe(false);
	});
});
