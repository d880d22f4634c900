/** Sealed updates of private spaces: they open with the right key for the right document only. */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { envelopeGeneration, openSpaceUpdate, SealError, sealSpaceUpdate } from '../../../src/lib/core/spaceSeal.js';
import { newWorkspaceKey } from '../../../src/lib/doc/team/keyBox.js';

function anUpdate(): Uint8Array {
	const doc = new Y.Doc();
	doc.getArray('messages').push([{ text: 'for the space only' }]);
	return Y.encodeStateAsUpdate(doc);
}

describe('sealed space updates', () => {
	it('open with the generation’s key for their document, and hide the update', () => {
		const key = newWorkspaceKey();
		const update = anUpdate();
		const envelope = sealSpaceUpdate(key, 'gen1', 'doc-a', update);
		expect(envelopeGeneration(envelope)).toBe('gen1');
		expect(openSpaceUpdate(new Map([['gen1', key]]), 'doc-a', envelope)).toEqual(update);
		expect(new TextDecoder().decode(envelope)).not.toContain('for the space only');
		// Two seals of one update differ (a fresh nonce each).
		expect(sealSpaceUpdate(key, 'gen1', 'doc-a', update)).not.toEqual(envelope);
	});

	it('refuse another document, another key, an unknown generation, a tampered byte or garbage', () => {
		const key = newWorkspaceKey();
		const envelope = sealSpaceUpdate(key, 'gen1', 'doc-a', anUpdate());
		const keys = new Map([['gen1', key]]);
		expect(() => openSpaceUpdate(keys, 'doc-b', envelope)).toThrow(SealError);
		expect(() => openSpaceUpdate(new Map([['gen1', newWorkspaceKey()]]), 'doc-a', envelope)).toThrow(SealError);
		expect(() => openSpaceUpdate(new Map([['gen2', key]]), 'doc-a', envelope)).toThrow(/no key of generation gen1/);
		for (let i = 0; i < envelope.length; i += 7) {
			const flipped = envelope.slice();
			flipped[i] = flipped[i]! ^ 0x40;
			expect(() => openSpaceUpdate(keys, 'doc-a', flipped), `byte ${i}`).toThrow(SealError);
		}
		for (const garbage of [new Uint8Array(), Uint8Array.of(1), Uint8Array.of(2, 4, 1, 2, 3, 4), envelope.subarray(0, 20)]) {
			expect(() => openSpaceUpdate(keys, 'doc-a', garbage)).toThrow(SealError);
		}
	});
});
