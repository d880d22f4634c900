/**
 * Found in review: A member (between its whole digest and its DONE) sends SYNC_STEP1 for the same document
 * again and again, each ~30 bytes with an empty state vector: every one is answered with the
 * document's whole state (Y.encodeStateAsUpdate of all of it, recomputed each time). An honest
 * peer asks once per document per session (only for what its digest comparison found), so
 * 200 requests of 31 bytes make the node encode and upload 200 full copies.
 */
import { describe, expect, it } from 'vitest';
import { newId } from '../../../src/lib/doc/ids';
import { MessageType } from '../../../src/lib/mesh/constants';
import { decodeMessage, encodeMessage } from '../../../src/lib/mesh/wire';
import { DEFAULT_LIMITS } from '../../../src/lib/mesh/constants';
import { EMPTY_STATE_VECTOR } from '../../../src/lib/mesh/syncDocs';
import { MemoryDocs } from './memoryDocs';
import { pair, settle } from './helpers';

describe('SYNC_STEP1 asked again and again', () => {
	it('is answered at most once per document per session', async () => {
		const victim = new MemoryDocs();
		const big = newId();
		victim.get(big).getText('t').insert(0, 'x'.repeat(512 * 1024)); // a 512 KiB document
		const attacker = new MemoryDocs();
		let heldDone: (() => void) | undefined;
		const p = await pair({
			responderDocs: victim,
			openerDocs: attacker,
			// The attacker's DONE to the victim is held back: SYNC_STEP1 stays allowed.
			deliver: async (to, _i, bytes) => {
				if (to === p.responder && decodeMessage(bytes, DEFAULT_LIMITS).type === MessageType.done) {
					await new Promise<void>((r) => (heldDone = r));
				}
				await to.session.receive(bytes);
			}
		});
		p.start();
		await settle(50);
		const step2 = () => p.opener.inbox.filter((b) => b[0] === MessageType.syncStep2);
		const before = step2().length;
		const ask = encodeMessage({ type: MessageType.syncStep1, docId: big, stateVector: EMPTY_STATE_VECTOR });
		let sent = 0;
		let refused = 0;
		for (let i = 0; i < 200; i++) {
			sent += ask.length;
			await p.responder.session.receive(ask).catch(() => refused++);
		}
		await settle();
		const answers = step2().slice(before);
		const answered = answers.reduce((n, b) => n + b.length, 0);
		heldDone?.();
		// 200 × 31 bytes in were answered with ~100 MiB out; now one answer, and the repeat ends the session.
		// (The honest first request of the session already had the document: every repeat is refused.)
		expect(answers.length).toBeLessThanOrEqual(1);
		expect(answered).toBeLessThan(1024 * 1024);
		expect(refused + p.responder.errors.length).toBeGreaterThan(0);
	});
});
