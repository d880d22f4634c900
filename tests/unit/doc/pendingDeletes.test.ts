/**
 * A delete range naming clocks a replica does not hold yet deletes nothing the write policy
 * protects, so it passes; Yjs would keep it pending and apply it to the victim's next records
 * when they arrived, hard-deleting them on every replica (and on the victim's own). A remote
 * update is applied keeping nothing pending (updateCheck.ts `applyRemoteUpdate`), as every
 * replica's store does. Found in review.
 */
import { describe, expect, it } from 'vitest';
import { deleteOnly } from '../../fixtures/deleteOnly.js';
import * as Y from 'yjs';
import { AiThreadDoc } from '../../../src/lib/doc/AiThreadDoc.js';
import { ChannelDoc } from '../../../src/lib/doc/ChannelDoc.js';
import { AiRecordKind } from '../../../src/lib/doc/schema.js';
import { signAiRecord, signMessage } from '../../../src/lib/doc/signature.js';
import { checkRemoteUpdate } from '../../../src/lib/doc/team/writePolicy.js';
import { applicablePart, applyRemoteUpdate, clocksOfDoc } from '../../../src/lib/mesh/updateCheck.js';
import { at, identity } from './helpers.js';

const WS = 'ws-pending';
const CH = 'chan-1';

/** What a replica does with a peer's update: the update check, the write policy, then the apply. Returns the refusal. */
function receive(docId: string, doc: Y.Doc, update: Uint8Array, context: Parameters<typeof checkRemoteUpdate>[4]): string | undefined {
	const part = applicablePart(update, clocksOfDoc(doc));
	if (part === undefined) return 'update check refused';
	const refused = checkRemoteUpdate(WS, docId, doc, part, context);
	if (refused !== undefined) return refused;
	applyRemoteUpdate(doc, part, 'remote');
	return undefined;
}

describe('a deletion of records not held yet is not kept for them (found in review)', () => {
	it('a member deletes the victim\'s NEXT channel messages on every replica, and on the victim\'s own', async () => {
		const victim = identity();
		const victimDoc = new Y.Doc();
		const honestDoc = new Y.Doc();
		const victimCh = new ChannelDoc(victimDoc);
		victimCh.post(await signMessage(victim.key, { id: 'm1', author: victim.id, hlc: at(1, victim.id), text: 'first' }));
		expect(receive(CH, honestDoc, Y.encodeStateAsUpdate(victimDoc), { channel: true })).toBeUndefined();

		// The attacker (any member, a guest, the relay) sees the victim's client id and clock in the document.
		const vc = victimDoc.clientID;
		const clock = Y.getState(honestDoc.store, vc);
		const attack = deleteOnly(vc, clock, 1_000_000);
		// It passes the checks (nothing held is deleted), and is dropped once applied.
		expect(receive(CH, honestDoc, attack, { channel: true })).toBeUndefined();
		expect(receive(CH, victimDoc, attack, { channel: true })).toBeUndefined();

		// Later the victim posts; its live update (the transaction's own) is an honest append and passes the policy...
		let live: Uint8Array | undefined;
		victimDoc.once('update', (u: Uint8Array) => (live = u));
		victimCh.post(await signMessage(victim.key, { id: 'm2', author: victim.id, hlc: at(2, victim.id), text: 'second' }));
		expect(receive(CH, honestDoc, live!, { channel: true })).toBeUndefined();
		// ...and arrives: the deletion was not kept for it.
		const ids = new ChannelDoc(honestDoc).messages.toArray().map((m) => m.id);
		expect(ids).toEqual(['m1', 'm2']); 
	});

	it('a replica holding the pending range then fails honest catch-up: the victim\'s own full state is refused', async () => {
		const victim = identity();
		const victimDoc = new Y.Doc();
		const honestDoc = new Y.Doc();
		const victimCh = new ChannelDoc(victimDoc);
		victimCh.post(await signMessage(victim.key, { id: 'm1', author: victim.id, hlc: at(1, victim.id), text: 'first' }));
		const attack = deleteOnly(victimDoc.clientID, Y.getState(victimDoc.store, victimDoc.clientID), 1_000_000);
		expect(receive(CH, victimDoc, attack, { channel: true })).toBeUndefined();
		victimCh.post(await signMessage(victim.key, { id: 'm2', author: victim.id, hlc: at(2, victim.id), text: 'second' }));
		// Y.encodeStateAsUpdate includes store.pendingDs: the victim's honest state now deletes its own m2.
		expect(receive(CH, honestDoc, Y.encodeStateAsUpdate(victimDoc), { channel: true })).toBeUndefined(); 
	});

	it('the victim loses its own message at the next remote update it receives', async () => {
		const victim = identity();
		const other = identity();
		const victimDoc = new Y.Doc();
		const otherDoc = new Y.Doc();
		const victimCh = new ChannelDoc(victimDoc);
		victimCh.post(await signMessage(victim.key, { id: 'm1', author: victim.id, hlc: at(1, victim.id), text: 'first' }));
		const attack = deleteOnly(victimDoc.clientID, Y.getState(victimDoc.store, victimDoc.clientID), 1_000_000);
		expect(receive(CH, victimDoc, attack, { channel: true })).toBeUndefined();
		victimCh.post(await signMessage(victim.key, { id: 'm2', author: victim.id, hlc: at(2, victim.id), text: 'mine' }));
		new ChannelDoc(otherDoc).post(await signMessage(other.key, { id: 'o1', author: other.id, hlc: at(3, other.id), text: 'hi' }));
		expect(receive(CH, victimDoc, Y.encodeStateAsUpdate(otherDoc), { channel: true })).toBeUndefined();
		expect(victimCh.messages.toArray().map((m) => m.id).sort()).toEqual(['m1', 'm2', 'o1']); 
	});

	it('an AI chat\'s future signed records (questions, answers) are deleted in advance', async () => {
		const asker = identity();
		const askerDoc = new Y.Doc();
		const honestDoc = new Y.Doc();
		const chat = new AiThreadDoc(askerDoc);
		chat.addRecord(await signAiRecord(asker.key, { kind: AiRecordKind.user, id: 'q1', author: asker.id, hlc: at(1, asker.id), text: 'q1' }));
		expect(receive('chat-1', honestDoc, Y.encodeStateAsUpdate(askerDoc), { aiThread: true })).toBeUndefined();
		const attack = deleteOnly(askerDoc.clientID, Y.getState(honestDoc.store, askerDoc.clientID), 1_000_000);
		expect(receive('chat-1', honestDoc, attack, { aiThread: true })).toBeUndefined();
		const sv = Y.encodeStateVector(honestDoc);
		chat.addRecord(await signAiRecord(asker.key, { kind: AiRecordKind.user, id: 'q2', author: asker.id, hlc: at(2, asker.id), text: 'q2' }));
		expect(receive('chat-1', honestDoc, Y.encodeStateAsUpdate(askerDoc, sv), { aiThread: true })).toBeUndefined();
		expect(new AiThreadDoc(honestDoc).readRecords().map((r) => r.id)).toEqual(['q1', 'q2']); // FAILS: ['q1']
	});
});
