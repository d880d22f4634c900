/**
 * Sealed storage over a sync session (work in progress): a member device stores sealed updates
 * of a private space's document on the relay, another fetches them back in order, in batches,
 * and opens them; a read asked again before its answer came gets two answers and the session
 * goes on; a peer the store does not allow stores and fetches nothing; a batch nobody asked for
 * (or one more than was asked for) ends the session.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { openSpaceUpdate, sealSpaceUpdate } from '../../../src/lib/core/spaceSeal';
import { newId } from '../../../src/lib/doc/ids';
import { newWorkspaceKey } from '../../../src/lib/doc/team/keyBox';
import { DEFAULT_LIMITS, MessageType } from '../../../src/lib/mesh/constants';
import type { SealedStore } from '../../../src/lib/mesh/SyncSession';
import { decodeMessage, encodeMessage } from '../../../src/lib/mesh/wire';
import { pair, settle, syncBoth } from './helpers';

/** The relay's side: a log per document, open to the documents `allowed` names. */
function memoryStore(allowed: Set<string>): SealedStore & { logs: Map<string, Uint8Array[]> } {
	const logs = new Map<string, Uint8Array[]>();
	return {
		logs,
		mayUse: (docId) => allowed.has(docId),
		put: async (docId, envelopes) => {
			logs.set(docId, [...(logs.get(docId) ?? []), ...envelopes]);
		},
		get: async (docId, from, maxBytes) => {
			const log = logs.get(docId) ?? [];
			const out: Uint8Array[] = [];
			let bytes = 0;
			let i = from;
			for (; i < log.length && out.length < 256 && bytes + log[i]!.length <= maxBytes; i++) {
				out.push(log[i]!);
				bytes += log[i]!.length;
			}
			return { envelopes: out, more: i < log.length };
		}
	};
}

function updates(count: number): Uint8Array[] {
	const doc = new Y.Doc();
	const out: Uint8Array[] = [];
	doc.on('update', (u: Uint8Array) => out.push(u));
	for (let i = 0; i < count; i++) doc.getArray('messages').push([`message ${i}`]);
	return out;
}

describe('sealed storage over a session', () => {
	it('stores a member’s sealed updates and serves them back in order, in batches, to be opened', async () => {
		const space = newId();
		const key = newWorkspaceKey();
		const store = memoryStore(new Set([space]));
		const batches: { from: number; more: boolean; envelopes: Uint8Array[] }[] = [];
		const p = await pair({
			responder: { sealedStore: store },
			opener: { onSealed: (b) => void batches.push(b) }
		});
		await syncBoth(p);
		const plain = updates(600);
		const sealed = plain.map((u) => sealSpaceUpdate(key, 'gen1', space, u));
		for (let i = 0; i < sealed.length; i += 200) p.opener.session.putSealed(space, sealed.slice(i, i + 200));
		await settle();
		expect(store.logs.get(space)).toHaveLength(600);
		expect(new TextDecoder().decode(store.logs.get(space)![0])).not.toContain('message 0');

		// Fetch it all back: 256 at most per batch, asked for again from where the last ended.
		let from = 0;
		for (;;) {
			p.opener.session.wantSealed(space, from);
			await settle();
			const last = batches.at(-1)!;
			expect(last.from).toBe(from);
			from += last.envelopes.length;
			if (!last.more) break;
		}
		expect(batches.map((b) => b.envelopes.length)).toEqual([256, 256, 88]);
		const doc = new Y.Doc();
		for (const envelope of batches.flatMap((b) => b.envelopes)) Y.applyUpdate(doc, openSpaceUpdate(new Map([['gen1', key]]), space, envelope));
		expect(doc.getArray('messages').length).toBe(600);
		expect(p.opener.errors).toEqual([]);
		expect(p.responder.errors).toEqual([]);
	});

	it('answers a read asked twice twice, and the session goes on (a caller that stopped waiting asked again)', async () => {
		const space = newId();
		const store = memoryStore(new Set([space]));
		const batches: { from: number; envelopes: Uint8Array[] }[] = [];
		const p = await pair({ responder: { sealedStore: store }, opener: { onSealed: (b) => void batches.push(b) } });
		await syncBoth(p);
		p.opener.session.putSealed(space, [Uint8Array.of(7)]);
		p.opener.session.wantSealed(space, 0);
		p.opener.session.wantSealed(space, 0);
		await settle();
		expect(batches.map((b) => [b.from, b.envelopes.length])).toEqual([[0, 1], [0, 1]]);
		expect(p.opener.session.state).not.toBe('closed');
		expect(p.opener.errors).toEqual([]);
		// A third answer was not asked for.
		await p.opener.session.receive(encodeMessage({ type: MessageType.sealedBatch, docId: space, from: 0, more: false, envelopes: [Uint8Array.of(7)] }));
		expect(p.opener.session.state).toBe('closed');
	});

	it('refuses a peer the store does not allow, and a relay without a store answers nothing', async () => {
		const space = newId();
		const store = memoryStore(new Set());
		const refused: string[] = [];
		const batches: unknown[] = [];
		const p = await pair({ responder: { sealedStore: store }, opener: { onSealed: (b) => void batches.push(b) } });
		p.responder.session.on('sealedRefused', (docId) => refused.push(docId));
		await syncBoth(p);
		p.opener.session.putSealed(space, [Uint8Array.of(1, 2, 3)]);
		p.opener.session.wantSealed(space, 0);
		await settle();
		expect(store.logs.size).toBe(0);
		expect(batches).toEqual([]);
		expect(refused).toEqual([space, space]);
		expect(p.responder.session.state).not.toBe('closed');
	});

	it('ends a session that sends a batch nobody asked for, and bounds what a message may carry', async () => {
		const p = await pair();
		await syncBoth(p);
		await p.responder.session.receive(encodeMessage({ type: MessageType.sealedBatch, docId: newId(), from: 0, more: false, envelopes: [Uint8Array.of(1)] }));
		expect(p.responder.session.state).toBe('closed');
		const tooMany = encodeMessage({ type: MessageType.sealedPut, docId: newId(), envelopes: Array.from({ length: 257 }, () => Uint8Array.of(1)) });
		expect(() => decodeMessage(tooMany, DEFAULT_LIMITS)).toThrow(/count/);
		const empty = encodeMessage({ type: MessageType.sealedPut, docId: newId(), envelopes: [new Uint8Array()] });
		expect(() => decodeMessage(empty, DEFAULT_LIMITS)).toThrow(/empty envelope/);
	});
});
