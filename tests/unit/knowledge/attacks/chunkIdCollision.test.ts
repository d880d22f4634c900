/**
 * Found in review: message chunk ids are `msg:<channel>#<messageId>` and `…~<k>` for a long message's
 * later parts (chunker.ts messageChunkId), and a message id is any string of up to 200
 * characters (validate.ts isMessageRecord). A member posts a (validly signed) message whose id
 * is `<victim's id>~1`: its chunk takes the id of the victim's second part, so the victim's
 * text drops out of workspace knowledge, and KnowledgeIndex.messageChunks(victim) returns the
 * attacker's chunk as part of the victim's message.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { ChannelDoc } from '../../../../src/lib/doc/ChannelDoc';
import { newId } from '../../../../src/lib/doc/ids';
import { KnowledgeIndex } from '../../../../src/lib/knowledge/KnowledgeIndex';
import { MemoryVectorStore } from '../../../../src/lib/knowledge/VectorStore';
import { WorkspaceKnowledge } from '../../../../src/lib/knowledge/WorkspaceKnowledge';
import type { DocUpdateListener } from '../../../../src/lib/store/DocStore';
import { at, identity, signedMsg } from '../../doc/helpers';

function store(docs: Map<string, Y.Doc>) {
	const listeners = new Set<DocUpdateListener>();
	for (const [id, doc] of docs) doc.on('update', (update: Uint8Array, origin: unknown) => listeners.forEach((l) => l(id, update, origin)));
	return {
		open: (id: string) => ({ id, doc: docs.get(id)!, ready: Promise.resolve(), error: undefined }),
		release: () => undefined,
		onUpdate: (listener: DocUpdateListener) => {
			listeners.add(listener);
			return () => listeners.delete(listener);
		}
	};
}

describe('message chunk ids', () => {
	it("cannot be taken by another member's message id", async () => {
		const [owner, mallory] = [identity(), identity()];
		const id = newId();
		const doc = new Y.Doc({ guid: id });
		const channel = new ChannelDoc(doc);
		// A long message (two parts at least): its second part holds the procedure's key step.
		const first = 'Reactor restart procedure. ' + 'Check the pumps and log the pressure. '.repeat(30);
		const victim = await signedMsg(id, newId(), owner, at(1000, owner.id), `${first}\n\nFinal step: vent valve seven before restart.`);
		channel.post(victim);
		const knowledge = new WorkspaceKnowledge(await KnowledgeIndex.open({ store: new MemoryVectorStore() }), store(new Map([[id, doc]])));
		await knowledge.refresh([{ id, kind: 'channel' }]);
		const before = await knowledge.index.query('vent valve seven', { mayRead: () => true, mode: 'fulltext', limit: 5 });
		expect(before.map((h) => h.itemId)).toContain(victim.id);
		expect(knowledge.index.messageChunks(id, victim.id).length).toBe(2);

		channel.post(await signedMsg(id, `${victim.id}~1`, mallory, at(2000, mallory.id), 'lol'));
		await knowledge.refresh([{ id, kind: 'channel' }]);
		const after = await knowledge.index.query('vent valve seven', { mayRead: () => true, mode: 'fulltext', limit: 5 });
		expect(after.map((h) => h.itemId)).toContain(victim.id);
		expect(knowledge.index.messageChunks(id, victim.id).every((c) => c.itemId === victim.id)).toBe(true);
		await knowledge.close();
	});
});
