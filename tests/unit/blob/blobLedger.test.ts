/**
 * The BlobLedger (blob/blobBudget.ts) in memory and in IndexedDB (fake-indexeddb): a blob marked
 * before its manifest is stored is counted at once and keeps its mark once stored; an origin only
 * rises (an opened file is never automatic again); a blob stored without a mark counts as the
 * device's own; drop takes the manifest, the chunks and the mark, and the mark survives a reopen.
 */
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import type { BlobLedger } from '../../../src/lib/blob/blobBudget';
import { manifestOf } from '../../../src/lib/blob/blobManifest';
import { MemoryBlobStore, storeBlob } from '../../../src/lib/blob/BlobStore';
import { OutpostDb } from '../../../src/lib/store/db';
import { IdbBlobStore } from '../../../src/lib/store/IdbBlobStore';

const bytesOf = (n: number, seed: number) => new Uint8Array(n).map((_, i) => (i * 13 + seed) % 256);
let n = 0;

const stores: Array<[string, () => { store: BlobLedger; reopen?: () => BlobLedger }]> = [
	['MemoryBlobStore', () => ({ store: new MemoryBlobStore() })],
	[
		'IdbBlobStore',
		() => {
			const name = `ledger-${++n}`;
			const db = new OutpostDb(name);
			return { store: new IdbBlobStore(db, 'ws'), reopen: () => new IdbBlobStore(new OutpostDb(name), 'ws') };
		}
	]
];

describe.each(stores)('%s as a BlobLedger', (_name, open) => {
	it('counts a blob from its admission, keeps its mark once stored, raises it only, and drops it whole', async () => {
		const { store, reopen } = open();
		const auto = bytesOf(300_000, 1);
		const manifest = await manifestOf(auto);
		await store.mark(manifest.id, manifest.size, 'auto', 'mallory');
		expect(await store.entries()).toMatchObject([{ id: manifest.id, bytes: 300_000, origin: 'auto', sender: 'mallory' }]);
		await storeBlob(store, auto);
		await store.mark(manifest.id, manifest.size, 'opened');
		await store.mark(manifest.id, manifest.size, 'auto');
		const own = await storeBlob(store, bytesOf(1000, 2)); // stored without a mark: the device's own
		await store.mark(own.id, own.size, 'auto');
		const later = reopen?.() ?? store;
		const entries = await later.entries();
		expect(entries.find((e) => e.id === manifest.id)).toMatchObject({ origin: 'opened', sender: 'mallory', bytes: 300_000 });
		expect(entries.find((e) => e.id === own.id)).toMatchObject({ origin: 'sent', bytes: 1000 });
		await later.drop(manifest.id);
		expect(await later.manifest(manifest.id)).toBeUndefined();
		expect(await later.chunk(manifest.id, 0)).toBeUndefined();
		expect((await later.entries()).map((e) => e.id)).toEqual([own.id]);
	});
});
