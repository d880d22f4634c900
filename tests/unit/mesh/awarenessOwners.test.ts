/**
 * Who may speak for an awareness client, under a flood: one publisher holds at most
 * MAX_CLIENTS_PER_PUBLISHER client ids (its oldest goes, with its state), and when the
 * remembered owners are at their limit a new client id is refused rather than another
 * present peer's forgotten, so nobody can take over a present member's presence.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { Awareness } from 'y-protocols/awareness';
import { newId } from '../../../src/lib/doc/ids.js';
import { MAX_AWARENESS_OWNERS, MAX_CLIENTS_PER_PUBLISHER, WorkspaceAwareness } from '../../../src/lib/mesh/awareness.js';
import type { GossipPubSub } from '../../../src/lib/mesh/gossip.js';
import { sealAwarenessEnvelope } from '../../../src/lib/mesh/gossipEnvelope.js';
import { deriveWorkspaceKeys } from '../../../src/lib/mesh/workspaceKeys.js';

/** One awareness entry: `varuint clientID, varuint clock, varstring JSON`, encoded as a one-entry update. */
function update(clientId: number, clock: number, state: Record<string, unknown>): Uint8Array {
	const json = new TextEncoder().encode(JSON.stringify(state));
	const out: number[] = [1];
	const varuint = (n: number) => {
		while (n > 0x7f) {
			out.push((n & 0x7f) | 0x80);
			n = Math.floor(n / 128);
		}
		out.push(n);
	};
	varuint(clientId);
	varuint(clock);
	varuint(json.length);
	out.push(...json);
	return Uint8Array.from(out);
}

describe('awareness owners', () => {
	it('a publisher keeps a few client ids at most, and a flood never frees a present peer’s client', async () => {
		const keys = await deriveWorkspaceKeys(newId(), crypto.getRandomValues(new Uint8Array(32)));
		const awareness = new Awareness(new Y.Doc());
		const errors: Error[] = [];
		const pubsub = { publish: async () => undefined, addEventListener: () => undefined, removeEventListener: () => undefined } as unknown as GossipPubSub;
		const presence = new WorkspaceAwareness({ pubsub, keys, awareness, onError: (e) => errors.push(e) });
		presence.start();
		const send = async (clientId: number, publisher: string, state: Record<string, unknown>, clock = 1) => {
			presence.receive(await sealAwarenessEnvelope(keys, update(clientId, clock, state)), publisher);
			await presence.received.idle(); // applied in order: wait for this one
		};
		await send(1, 'ada', { peer: 'ada', name: 'Ada' });
		for (let id = 100; id < 110; id++) await send(id, 'mallory', { peer: 'mallory' });
		const mallorys = [...awareness.getStates().keys()].filter((id) => id >= 100 && id < 200);
		expect(mallorys).toEqual([106, 107, 108, 109].slice(-MAX_CLIENTS_PER_PUBLISHER));
		expect(awareness.getStates().get(1)).toEqual({ peer: 'ada', name: 'Ada' });

		// Many publishers (tabs with keys of their own) fill the owners up: a new one is refused,
		// Ada's client is never forgotten, and she cannot be taken over.
		const before = errors.length;
		for (let i = 0; i < MAX_AWARENESS_OWNERS; i++) await send(10_000 + i, `tab-${i >> 2}`, { peer: `tab-${i >> 2}` });
		expect(errors.length).toBeGreaterThan(before);
		expect(errors.at(-1)?.message).toMatch(/present/);
		await send(1, 'mallory', { peer: 'mallory' }, 99);
		expect(errors.at(-1)?.message).toMatch(/another peer's client/);
		await send(1, 'ada', { peer: 'ada', name: 'Ada, still' }, 2);
		expect(awareness.getStates().get(1)).toEqual({ peer: 'ada', name: 'Ada, still' });
		presence.stop();
		awareness.destroy();
	}, 60_000);

	it('remembers no clock of a client it forgot that has no state (a flood of ever-new ids saying "left" leaves nothing behind)', async () => {
		const keys = await deriveWorkspaceKeys(newId(), crypto.getRandomValues(new Uint8Array(32)));
		const awareness = new Awareness(new Y.Doc());
		const pubsub = { publish: async () => undefined, addEventListener: () => undefined, removeEventListener: () => undefined } as unknown as GossipPubSub;
		const presence = new WorkspaceAwareness({ pubsub, keys, awareness, onError: () => undefined });
		presence.start();
		const before = awareness.meta.size;
		for (let id = 100; id < 2100; id++) {
			presence.receive(await sealAwarenessEnvelope(keys, left(id)), 'mallory');
			await presence.received.idle(); // each applied (none dropped by the receive queue's bounds)
		}
		// Found in review: y-protocols kept one record per id for ever (8,000 envelopes, 7,998 records).
		expect(awareness.meta.size - before).toBeLessThanOrEqual(MAX_CLIENTS_PER_PUBLISHER);
		presence.stop();
		awareness.destroy();
	}, 60_000);
});

/** One awareness entry saying client `clientId` left (a `null` state), clock 1. */
function left(clientId: number): Uint8Array {
	const json = new TextEncoder().encode('null');
	const out: number[] = [1];
	for (let n = clientId; ; n = Math.floor(n / 128)) {
		if (n <= 0x7f) {
			out.push(n);
			break;
		}
		out.push((n & 0x7f) | 0x80);
	}
	out.push(1, json.length, ...json);
	return Uint8Array.from(out);
}
