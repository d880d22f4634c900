/**
 * The messages that name each blob of a document (BlobReferences `posts`): read once, kept up
 * to date from updates, each message once however often an update carries it, and read in
 * time linear in the document (what the serving rule asks who posted a private space's file).
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { BlobReferences } from '../../../src/lib/blob/blobReferences.js';
import { ChannelDoc } from '../../../src/lib/doc/ChannelDoc.js';
import type { AttachmentRef } from '../../../src/lib/doc/schema.js';
import { signMessage } from '../../../src/lib/doc/signature.js';
import { MemoryDocs } from '../mesh/memoryDocs.js';
import { at, identity, msg, signedMsg } from '../doc/helpers.js';

const REF: AttachmentRef = { blob: 'ab'.repeat(32), size: 10, mime: 'application/octet-stream', name: 'a.bin' };
const OTHER: AttachmentRef = { ...REF, blob: 'cd'.repeat(32) };

describe('the posts that name a blob', () => {
	it('are read from the document, then from its updates, each once', async () => {
		const docs = new MemoryDocs();
		const channel = new ChannelDoc(docs.get('c1'));
		channel.post({ ...msg('m1', 'alice', at(1), ''), files: [REF] });
		const refs = new BlobReferences(docs);
		expect((await refs.posts('c1', REF.blob)).map((m) => m.id)).toEqual(['m1']);
		channel.post({ ...msg('m2', 'bob', at(2), ''), files: [REF, OTHER] });
		// The same record again (a peer's update that carries it a second time).
		const again = new Y.Doc();
		Y.applyUpdate(again, Y.encodeStateAsUpdate(docs.get('c1')));
		Y.applyUpdate(docs.get('c1'), Y.encodeStateAsUpdate(again));
		expect((await refs.posts('c1', REF.blob)).map((m) => [m.id, m.author])).toEqual([
			['m1', 'alice'],
			['m2', 'bob']
		]);
		expect((await refs.posts('c1', OTHER.blob)).map((m) => m.id)).toEqual(['m2']);
		expect(await refs.posts('c2', REF.blob)).toEqual([]);
		refs.destroy();
	});

	it('come with the marks on each message, read from the document and from its updates', async () => {
		const docs = new MemoryDocs();
		const channel = new ChannelDoc(docs.get('c1'));
		channel.post({ ...msg('m1', 'alice', at(1), ''), files: [REF] });
		channel.markDeletion({ msg: 'm1', by: 'alice', hlc: at(2, 'alice'), deleted: true, sig: 's1' });
		channel.markModeration({ msg: 'm1', by: 'owner', hlc: at(3, 'owner'), hidden: true, sig: 's2' });
		const refs = new BlobReferences(docs);
		const read = await refs.marks('c1', 'm1', 'alice');
		expect(read.deletions.map((d) => d.mark.deleted)).toEqual([true]);
		expect(read.moderation.map((m) => m.hidden)).toEqual([true]);
		// Newer marks arrive as updates; each list stays newest first; another author's deletions are not the author's.
		channel.markDeletion({ msg: 'm1', by: 'alice', hlc: at(4, 'alice'), deleted: false, sig: 's3' });
		channel.markDeletion({ msg: 'm1', by: 'bob', hlc: at(5, 'bob'), deleted: true, sig: 's4' });
		channel.markModeration({ msg: 'm1', by: 'owner', hlc: at(6, 'owner'), hidden: false, sig: 's5' });
		const later = await refs.marks('c1', 'm1', 'alice');
		expect(later.deletions.map((d) => d.mark.deleted)).toEqual([false, true]);
		expect(later.moderation.map((m) => m.hidden)).toEqual([false, true]);
		expect((await refs.marks('c1', 'm2', 'alice')).deletions).toEqual([]);
		refs.destroy();
	});

	it('of a document with many messages naming one blob are read at once', async () => {
		const docs = new MemoryDocs();
		const records = Array.from({ length: 30_000 }, (_, i) => ({ ...msg(`m${i}`, 'mallory', at(i), ''), files: [REF] }));
		new ChannelDoc(docs.get('c1')).postMany(records);
		const refs = new BlobReferences(docs);
		const started = performance.now();
		expect(await refs.posts('c1', REF.blob)).toHaveLength(30_000);
		expect(performance.now() - started).toBeLessThan(5_000);
		refs.destroy();
	});
	it('name as a file’s sender only a post whose signature checks out, not one that claims another’s name', async () => {
		const docs = new MemoryDocs();
		const alice = identity();
		const mallory = identity();
		const channel = new ChannelDoc(docs.get('c1'));
		// Mallory's unsigned posts name her file under alice's name, ahead of her own signed post.
		for (let i = 0; i < 3; i++) channel.post({ ...msg(`forged-${i}`, alice.id, at(i), ''), files: [REF] });
		channel.post({ ...(await signedMsg('c1', 'm1', mallory, at(5))), files: [] });
		const signed = await signedMsg('c1', 'm2', mallory, at(6));
		channel.post({ ...signed, files: [REF] }); // not signed either: her signature does not cover these files
		const real = await signMessage(mallory.key, { id: 'm3', author: mallory.id, hlc: at(7), text: '', files: [REF] }, 'c1');
		channel.post(real);
		const refs = new BlobReferences(docs);
		expect((await refs.posts('c1', REF.blob))[0]?.author, 'the first post claims alice').toBe(alice.id);
		expect(await refs.sender('c1', REF.blob), 'the budget charges mallory').toBe(mallory.id);
		// Her share is her member's, whichever of her devices signed.
		expect(await refs.sender('c1', REF.blob, (device) => (device === mallory.id ? 'member-mallory' : undefined))).toBe('member-mallory');
		// A file no signed post names has no sender: it is nobody's share.
		channel.post({ ...msg('forged-other', alice.id, at(8), ''), files: [OTHER] });
		expect(await refs.sender('c1', OTHER.blob)).toBeUndefined();
		refs.destroy();
	});
});
