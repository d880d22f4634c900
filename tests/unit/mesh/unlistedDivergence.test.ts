/**
 * Found in review: A writer member invents a channel id X and, before any root lists X, sends replica B a
 * message in X and then a deletion of it (B takes both: an unlisted document with nothing
 * channel-only in it is checked by no policy). Then the member lists X in the root as a
 * channel, everywhere. Replica A got X's message only after the listing. A and B now hold
 * X differently, and A refuses B's X (a channel's history only grows): every sync session
 * between the two honest replicas ends with UpdateRejectedError, forever.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { newId } from '../../../src/lib/doc/ids';
import { ChannelDoc } from '../../../src/lib/doc/ChannelDoc';
import { WorkspaceDoc } from '../../../src/lib/doc/WorkspaceDoc';
import { MemoryDocs } from './memoryDocs';
import { pair, settle, workspace } from './helpers';
import { at, msg } from '../doc/helpers';

describe('unlisted documents take what their later listing forbids', () => {
	it('two honest replicas that took the same member updates can sync afterwards', async () => {
		const keys = await workspace();
		const ws = keys.workspaceId;
		const X = newId();
		const A = new MemoryDocs(ws);
		const B = new MemoryDocs(ws);

		// The hostile member's own copy of X: a message, then its deletion.
		const mal = new Y.Doc({ guid: X });
		const ch = new ChannelDoc(mal);
		ch.post(msg('m1', 'mallory', at(1, 'mallory')));
		const postUpdate = Y.encodeStateAsUpdate(mal);
		const sv = Y.encodeStateVector(mal);
		ch.messages.delete(0, 1);
		const deleteUpdate = Y.encodeStateAsUpdate(mal, sv);

		// To B, before X is listed anywhere: the message is taken, its deletion refused now (it was
		// taken, and A refused it after the listing).
		await B.apply(X, postUpdate, 'mal', 'mallory');
		await expect(Promise.resolve().then(() => B.apply(X, deleteUpdate, 'mal', 'mallory'))).rejects.toThrow(/refused|no deletions/);

		// The member lists X as a channel in the root: both replicas take it.
		const root = new Y.Doc({ guid: ws });
		new WorkspaceDoc(root).createChannel({ id: X, name: 'x', topic: '', private: false, readOnly: false, archived: false, createdAt: 1, createdBy: 'mallory' } as never);
		const rootUpdate = Y.encodeStateAsUpdate(root);
		await A.apply(ws, rootUpdate, 'mal', 'mallory');
		await B.apply(ws, rootUpdate, 'mal', 'mallory');
		// A gets X's message after the listing (and would refuse the deletion, as it should).
		await A.apply(X, postUpdate, 'mal', 'mallory');
		await expect(Promise.resolve().then(() => A.apply(X, deleteUpdate, 'mal', 'mallory'))).rejects.toThrow(/refused/);

		// Same inputs, different verdicts: the replicas diverge.
		expect.soft(B.get(X).getArray('messages').length, 'B took a deletion A refuses').toBe(A.get(X).getArray('messages').length);

		// And the honest replicas can no longer sync: A refuses B's X on every session.
		const p = await pair({ openerKeys: keys, openerDocs: A, responderDocs: B });
		p.start();
		await Promise.race([Promise.all([p.opener.synced, p.responder.synced]), p.opener.closed, p.responder.closed]);
		await settle();
		expect([...p.opener.errors, ...p.responder.errors].map((e) => `${e.name}: ${e.message}`)).toEqual([]);
	});
});
