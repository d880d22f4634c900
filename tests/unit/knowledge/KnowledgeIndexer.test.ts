/**
 * The indexer over real documents: notes chunked on change (only the changed section
 * embedded), channel messages read incrementally with their edits and deletions, a new
 * session over stored chunks, and a private channel's chunks kept from an asker who may not
 * read it.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { ChannelDoc } from '../../../src/lib/doc/ChannelDoc';
import { NoteDoc } from '../../../src/lib/doc/NoteDoc';
import { KnowledgeIndex } from '../../../src/lib/knowledge/KnowledgeIndex';
import { KnowledgeIndexer } from '../../../src/lib/knowledge/KnowledgeIndexer';
import { MemoryVectorStore } from '../../../src/lib/knowledge/VectorStore';
import { at, identity, signedDeletion, signedEdit, signedMsg } from '../doc/helpers';

/** The devices writing in these tests: messages are taken only when their signatures check out. */
const [alice, bob, carol, mallory] = [identity(), identity(), identity(), identity()];
import { HashEmbedder } from './hashEmbedder';

async function setup(store = new MemoryVectorStore(), embedder = new HashEmbedder()) {
	const index = await KnowledgeIndex.open({ store, embedder });
	const errors: Error[] = [];
	const indexer = new KnowledgeIndexer({ index, delayMs: 5, onError: (e) => errors.push(e) });
	return { index, indexer, embedder, errors, store };
}

function noteDoc(title: string, body: string): { doc: Y.Doc; note: NoteDoc } {
	const doc = new Y.Doc();
	const note = new NoteDoc(doc);
	note.title = title;
	note.body.insert(0, body);
	return { doc, note };
}

const everyone = { mayRead: () => true };

describe('KnowledgeIndexer', () => {
	it('chunks a note after its changes settle and re-embeds only the section that changed', async () => {
		const { index, indexer, embedder, errors } = await setup();
		const { doc, note } = noteDoc('Port', '# Hours\nOpen at six.\n\n# Fuel\nDiesel on Mondays.');
		indexer.docChanged('n1', 'note', doc);
		note.body.insert(note.body.length, ' Petrol on Fridays.');
		indexer.docChanged('n1', 'note', doc); // debounced with the first
		await indexer.flush();
		await index.embedPending();
		expect(index.chunkIds('n1').sort()).toEqual(['note:n1#0', 'note:n1#1']);
		expect(embedder.texts).toHaveLength(2);

		embedder.texts.length = 0;
		note.body.insert(note.body.toString().indexOf('six'), 'half past ');
		indexer.docChanged('n1', 'note', doc);
		await new Promise((r) => setTimeout(r, 30)); // the debounce fires by itself
		await index.embedPending();
		expect(embedder.texts).toEqual(['Port › Hours\nOpen at half past six.']);
		const [hit] = await index.query('half past six', everyone);
		expect(hit).toMatchObject({ id: 'note:n1#0', docId: 'n1', offset: note.body.toString().indexOf('Open') });

		indexer.docRemoved('n1');
		await indexer.flush();
		expect(index.size).toBe(0);
		expect(errors).toEqual([]);
	});

	it('follows a channel: new messages, the author’s edits, deletions, long messages in parts', async () => {
		const { index, indexer, embedder, errors } = await setup();
		const doc = new Y.Doc();
		const channel = new ChannelDoc(doc);
		channel.post(await signedMsg('c1', 'm1', alice, at(1), 'The harbour opens at six'));
		channel.post(await signedMsg('c1', 'm2', bob, at(2), 'Lunch is noodles'));
		indexer.docChanged('c1', 'channel', doc);
		await indexer.flush();
		await index.embedPending();
		expect(index.messageIds('c1').sort()).toEqual(['m1', 'm2']);
		expect(embedder.texts).toHaveLength(2);

		embedder.texts.length = 0;
		channel.post(await signedMsg('c1', 'm3', carol, at(3), `${'A long report line. '.repeat(100)}`));
		channel.edit(await signedEdit('m1', alice, at(4), 'The harbour opens at seven'));
		channel.edit(await signedEdit('m2', mallory, at(5), 'forged text')); // not the author's: ignored
		channel.markDeletion(await signedDeletion('m2', bob, at(6)));
		indexer.docChanged('c1', 'channel', doc);
		await indexer.flush();
		await index.embedPending();
		expect(index.messageIds('c1').sort()).toEqual(['m1', 'm3']);
		expect(index.messageChunks('c1', 'm3').length).toBeGreaterThan(1);
		expect(index.messageChunks('c1', 'm1')[0]).toMatchObject({ id: 'msg:c1#m1', text: 'The harbour opens at seven', author: alice.id, itemId: 'm1' });
		// Only the edited message and the new one were embedded.
		expect(embedder.texts.filter((t) => !t.startsWith('A long report'))).toEqual(['The harbour opens at seven']);
		expect(errors).toEqual([]);
	});

	it('in a new session, reads every message once, drops those deleted meanwhile, embeds nothing unchanged', async () => {
		const store = new MemoryVectorStore();
		const first = await setup(store);
		const doc = new Y.Doc();
		const channel = new ChannelDoc(doc);
		channel.post(await signedMsg('c1', 'm1', alice, at(1), 'first'));
		channel.post(await signedMsg('c1', 'm2', alice, at(2), 'second'));
		first.indexer.docChanged('c1', 'channel', doc);
		await first.indexer.stop();
		await first.index.embedPending();
		await first.index.close();

		channel.markDeletion(await signedDeletion('m2', alice, at(3)));
		const second = await setup(store, first.embedder);
		first.embedder.texts.length = 0;
		second.indexer.docChanged('c1', 'channel', doc);
		await second.indexer.flush();
		await second.index.embedPending();
		expect(second.index.messageIds('c1')).toEqual(['m1']);
		expect(first.embedder.texts).toEqual([]);
	});

	it('keeps a private channel’s messages from an asker who may not read it', async () => {
		const { index, indexer } = await setup();
		const open = new Y.Doc();
		const secret = new Y.Doc();
		new ChannelDoc(open).post(await signedMsg('general', 'o1', alice, at(1), 'The supply boat comes on Monday'));
		new ChannelDoc(secret).post(await signedMsg('board', 's1', bob, at(2), 'The supply boat carries the payroll on Monday'));
		indexer.docChanged('general', 'channel', open);
		indexer.docChanged('board', 'channel', secret);
		await indexer.flush();
		await index.embedPending();
		const member = (docId: string) => docId !== 'board';
		const hits = await index.query('supply boat payroll Monday', { mayRead: member });
		expect(hits.map((h) => h.id)).toEqual(['msg:general#o1']);
		expect((await index.query('payroll', { mayRead: member })).map((h) => h.docId)).toEqual([]);
		expect((await index.query('payroll', everyone)).map((h) => h.id)).toEqual(['msg:board#s1']);
	});

	it('skips a document destroyed before it was read', async () => {
		const { index, indexer, errors } = await setup();
		const { doc } = noteDoc('Gone', 'text');
		indexer.docChanged('n1', 'note', doc);
		doc.destroy();
		await indexer.flush();
		expect(index.size).toBe(0);
		expect(errors).toEqual([]);
	});
});
