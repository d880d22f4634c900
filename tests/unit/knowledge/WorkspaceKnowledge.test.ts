/**
 * The app's workspace knowledge (WorkspaceKnowledge.ts) brings the index up to date before a
 * question by reading only documents that are new this session or changed since: a second
 * question with nothing changed opens no document, and a changed note is read again (its new
 * text found) while the others are not.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { NoteDoc } from '../../../src/lib/doc/NoteDoc';
import { KnowledgeIndex } from '../../../src/lib/knowledge/KnowledgeIndex';
import { MemoryVectorStore } from '../../../src/lib/knowledge/VectorStore';
import { REFRESH_BATCH, WorkspaceKnowledge } from '../../../src/lib/knowledge/WorkspaceKnowledge';
import type { DocUpdateListener } from '../../../src/lib/store/DocStore';

/** Documents by id, as the document store hands them out and reports their changes. */
function store(docs: Map<string, Y.Doc>) {
	const listeners = new Set<DocUpdateListener>();
	const opened: string[] = [];
	for (const [id, doc] of docs) doc.on('update', (update: Uint8Array, origin: unknown) => listeners.forEach((l) => l(id, update, origin)));
	return {
		opened,
		open: (id: string) => {
			opened.push(id);
			return { id, doc: docs.get(id)!, ready: Promise.resolve(), error: undefined };
		},
		release: () => undefined,
		onUpdate: (listener: DocUpdateListener) => {
			listeners.add(listener);
			return () => listeners.delete(listener);
		}
	};
}

function note(title: string, body: string): Y.Doc {
	const doc = new Y.Doc();
	const n = new NoteDoc(doc);
	n.title = title;
	n.body.insert(0, body);
	return doc;
}

describe('WorkspaceKnowledge', () => {
	it('reads a document again only when it changed since it was read', async () => {
		const docs = new Map([
			['n1', note('Galley', 'Potatoes on Monday.')],
			['n2', note('Deck', 'Anchor drill on Tuesday.')]
		]);
		const s = store(docs);
		const knowledge = new WorkspaceKnowledge(await KnowledgeIndex.open({ store: new MemoryVectorStore() }), s);
		const readable = [
			{ id: 'n1', kind: 'note' as const },
			{ id: 'n2', kind: 'note' as const }
		];
		const ask = async (q: string) => (await knowledge.index.query(q, { mayRead: () => true })).map((h) => h.docId);

		await knowledge.refresh(readable);
		expect(s.opened.sort()).toEqual(['n1', 'n2']);
		expect(await ask('anchor')).toEqual(['n2']);

		s.opened.length = 0;
		await knowledge.refresh(readable);
		expect(s.opened).toEqual([]);

		new NoteDoc(docs.get('n1')!).body.insert(0, 'Fuel check first. ');
		await knowledge.refresh(readable);
		expect(s.opened).toEqual(['n1']);
		expect(await ask('fuel')).toEqual(['n1']);
		await knowledge.close();
	});

	it('holds only a few documents at once, however many are listed (found in review: all at once)', async () => {
		const docs = new Map(Array.from({ length: 5 * REFRESH_BATCH }, (_, i) => [`n${i}`, note(`Note ${i}`, `Entry number ${i} of the log.`)] as const));
		const s = store(docs);
		let open = 0;
		let most = 0;
		const counted = {
			...s,
			open: (id: string) => {
				most = Math.max(most, ++open);
				return s.open(id);
			},
			release: () => void open--
		};
		const knowledge = new WorkspaceKnowledge(await KnowledgeIndex.open({ store: new MemoryVectorStore() }), counted);
		await knowledge.refresh([...docs.keys()].map((id) => ({ id, kind: 'note' as const })));
		expect(most).toBe(REFRESH_BATCH);
		expect(open).toBe(0);
		expect(new Set(s.opened).size).toBe(docs.size);
		expect((await knowledge.index.query('Note 79', { mayRead: () => true })).length).toBeGreaterThan(0);
		await knowledge.close();
	});
});
