/**
 * Attachment references: their shape check, their signature (part of the message's), the
 * references a document and an update carry, and storing a picked file (progress, the same
 * bytes stored once).
 */
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { referencesIn, referencesInUpdate, BlobReferences } from '../../../src/lib/blob/blobReferences.js';
import { MemoryBlobStore, readBlob } from '../../../src/lib/blob/BlobStore.js';
import { heldOf, putBlob } from '../../../src/lib/core/deviceBlobs.js';
import { ChannelDoc } from '../../../src/lib/doc/ChannelDoc.js';
import type { AttachmentRef } from '../../../src/lib/doc/schema.js';
import { signAiRecord, signMessage, verifyAiRecord, verifyMessage } from '../../../src/lib/doc/signature.js';
import { AiThreadDoc, isAiRecord } from '../../../src/lib/doc/AiThreadDoc.js';
import { AiRecordKind } from '../../../src/lib/doc/schema.js';
import { isAttachmentRef, isMessageRecord, MAX_FILES, MAX_THUMB_LENGTH } from '../../../src/lib/doc/validate.js';
import { MemoryDocs } from '../mesh/memoryDocs.js';
import { at, msg } from '../doc/helpers.js';

const REF: AttachmentRef = { blob: 'ab'.repeat(32), size: 1234, mime: 'image/png', name: 'photo.png', width: 640, height: 480, thumb: 'data:image/jpeg;base64,AAAA' };

describe('attachment references', () => {
	it('are checked for shape: a bad id, size, thumbnail or too many files make the message malformed', () => {
		expect(isAttachmentRef(REF)).toBe(true);
		expect(isAttachmentRef({ ...REF, key: 'A'.repeat(43), duration: 1200 })).toBe(true);
		for (const bad of [
			{ ...REF, blob: 'AB'.repeat(32) },
			{ ...REF, blob: 'ab' },
			{ ...REF, size: -1 },
			{ ...REF, size: 1.5 },
			{ ...REF, name: '' },
			{ ...REF, width: 0 },
			{ ...REF, duration: -5 },
			{ ...REF, key: 'short' },
			{ ...REF, duration: 1.5 },
			{ ...REF, thumb: 'javascript:alert(1)' },
			{ ...REF, thumb: 'data:image/svg+xml;base64,AAAA' },
			{ ...REF, thumb: `data:image/jpeg;base64,${'A'.repeat(MAX_THUMB_LENGTH)}` }
		]) {
			expect(isAttachmentRef(bad)).toBe(false);
		}
		const m = msg('m1', 'alice', at(1));
		expect(isMessageRecord({ ...m, files: [REF] })).toBe(true);
		expect(isMessageRecord({ ...m, files: [] })).toBe(false);
		expect(isMessageRecord({ ...m, files: Array.from({ length: MAX_FILES + 1 }, () => REF) })).toBe(false);
		expect(isMessageRecord({ ...m, files: [{ ...REF, size: 'big' }] })).toBe(false);
	});

	it('are signed with their message: changing any field, or dropping or adding a file, breaks the signature', async () => {
		const key = await generateKeyPair('Ed25519');
		const author = peerIdFromPrivateKey(key).toString();
		const signed = await signMessage(key, { id: 'm1', author, hlc: at(1, author), text: '', files: [REF] });
		expect(await verifyMessage(signed)).toBe(true);
		for (const forged of [
			{ ...signed, files: [{ ...REF, blob: 'cd'.repeat(32) }] },
			{ ...signed, files: [{ ...REF, name: 'invoice.exe' }] },
			{ ...signed, files: [{ ...REF, mime: 'text/html' }] },
			{ ...signed, files: [{ ...REF, size: 99 }] },
			{ ...signed, files: [{ ...REF, thumb: 'data:image/jpeg;base64,BBBB' }] },
			{ ...signed, files: [{ ...REF, duration: 5000 }] },
			{ ...signed, files: [{ ...REF, key: 'A'.repeat(43) }] },
			{ ...signed, files: [REF, REF] }
		]) {
			expect(await verifyMessage(forged)).toBe(false);
		}
		const { files: _files, ...dropped } = signed;
		expect(await verifyMessage(dropped)).toBe(false);
		// A message signed without files cannot have files added.
		const plain = await signMessage(key, { id: 'm2', author, hlc: at(2, author), text: 'hi' });
		expect(await verifyMessage({ ...plain, files: [REF] })).toBe(false);
	});

	it('are read from a channel document and from the updates that add them', async () => {
		const doc = new Y.Doc();
		const channel = new ChannelDoc(doc);
		const updates: Uint8Array[] = [];
		doc.on('update', (update: Uint8Array) => updates.push(update));
		channel.post(msg('m1', 'alice', at(1), 'no files'));
		channel.post({ ...msg('m2', 'alice', at(2), ''), files: [REF] });
		channel.post({ ...msg('m3', 'alice', at(3), ''), files: [{ ...REF, size: 'big' } as unknown as AttachmentRef] });
		expect([...referencesIn(doc).keys()]).toEqual([REF.blob]);
		expect(referencesInUpdate(updates[0]!)).toEqual([]);
		expect(referencesInUpdate(updates[1]!)).toEqual([REF]);
		expect(referencesInUpdate(updates[2]!)).toEqual([]);
		expect(referencesInUpdate(new Uint8Array([1, 2, 3]))).toEqual([]);
	});

	it('of a document are kept up to date from its updates once read', async () => {
		const docs = new MemoryDocs();
		const refs = new BlobReferences(docs);
		expect((await refs.of('c1')).size).toBe(0); // not held
		new ChannelDoc(docs.get('c1')).post({ ...msg('m1', 'alice', at(1), ''), files: [REF] });
		expect(await refs.has('c1', REF.blob)).toBe(true);
		const second = { ...REF, blob: 'cd'.repeat(32) };
		new ChannelDoc(docs.get('c1')).post({ ...msg('m2', 'alice', at(2), ''), files: [second] });
		expect(await refs.has('c1', second.blob)).toBe(true);
		expect(await refs.has('c2', REF.blob)).toBe(false);
		refs.destroy();
	});
});

describe('attachments in AI chats', () => {
	it('are signed with the question, read by the view, and referenced by the chat', async () => {
		const key = await generateKeyPair('Ed25519');
		const author = peerIdFromPrivateKey(key).toString();
		const question = await signAiRecord(key, { kind: AiRecordKind.user, id: 'q1', author, hlc: at(1, author), text: 'what is in this photo?', files: [REF] });
		expect(await verifyAiRecord(question)).toBe(true);
		expect(await verifyAiRecord({ ...question, files: [{ ...REF, name: 'other.png' }] })).toBe(false);
		const { files: _dropped, ...without } = question;
		expect(await verifyAiRecord(without)).toBe(false);
		expect(isAiRecord({ ...question, files: [{ ...REF, blob: 'x' }] })).toBe(false);
		const doc = new Y.Doc();
		const chat = new AiThreadDoc(doc);
		chat.addRecord(question);
		expect(chat.list()[0]?.files).toEqual([REF]);
		expect([...referencesIn(doc).keys()]).toEqual([REF.blob]);
	});
});

describe('storing a picked file', () => {
	it('tells progress chunk by chunk and stores the same bytes once', async () => {
		const store = new MemoryBlobStore();
		const bytes = new Uint8Array(700 * 1024).map((_, i) => i % 251);
		const progress: number[] = [];
		const manifest = await putBlob(store, bytes, (done) => progress.push(done));
		expect(progress).toEqual([256 * 1024, 512 * 1024, 700 * 1024]);
		expect(await heldOf(store, manifest.id)).toEqual({ held: bytes.length, size: bytes.length });
		const again = await putBlob(store, bytes);
		expect(again.id).toBe(manifest.id);
		expect(store.bytesHeld).toBe(bytes.length);
		expect(Buffer.compare((await readBlob(store, manifest.id))!, bytes)).toBe(0);
		expect(await heldOf(store, 'ef'.repeat(32))).toEqual({ held: 0, size: undefined });
	});
});
