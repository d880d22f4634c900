/**
 * The blob budget across the tabs of one browser (blob/blobBudget.ts): each tab has its own
 * budget over the origin's one IndexedDB (fake-indexeddb here, two connections as two tabs
 * open), and admissions hold the origin's Web Lock. Found in review: the budget was kept per
 * tab, so two tabs admitting at the same moment each saw the room the other took, and went past
 * it together. The lock manager is a stand-in for `navigator.locks` (Node has none), with its
 * semantics: one holder of a name at a time, in the order asked.
 */
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { BlobBudget, BUDGET_LOCK, browserLocks, type AdmissionLocks } from '../../../src/lib/blob/blobBudget.js';
import { manifestOf } from '../../../src/lib/blob/blobManifest.js';
import { OutpostDb } from '../../../src/lib/store/db.js';
import { IdbBlobStore } from '../../../src/lib/store/IdbBlobStore.js';

const LIMIT = 1_000_000;
const WS = 'ws';

/** The origin's Web Locks, as the browser gives them to all its tabs: exclusive, first come first served. */
class OriginLocks implements AdmissionLocks {
	private readonly tails = new Map<string, Promise<unknown>>();
	readonly names: string[] = [];

	request<T>(name: string, run: () => Promise<T>): Promise<T> {
		this.names.push(name);
		const held = (this.tails.get(name) ?? Promise.resolve()).then(run, run);
		this.tails.set(name, held.catch(() => undefined));
		return held;
	}
}

let dbs = 0;

/** Two tabs of one browser: one database, each tab with its own connection, store and budget. */
async function twoTabs(locks: AdmissionLocks | undefined) {
	const name = `tabs-${++dbs}`;
	return Promise.all(
		[0, 1].map(async () => {
			const db = new OutpostDb(name);
			await db.open();
			const store = new IdbBlobStore(db, WS);
			const budget = new BlobBudget({ ledgers: () => [store], limit: () => LIMIT, senderShare: 1, ...(locks !== undefined ? { locks } : {}) });
			return { db, store, budget };
		})
	);
}

const bytesOf = (n: number, seed: number) => new Uint8Array(n).map((_, i) => (i * 13 + seed) % 256);

describe('the blob budget across tabs', () => {
	it('two tabs admitting at the same moment stay within the budget together', async () => {
		const locks = new OriginLocks();
		const tabs = await twoTabs(locks);
		// Each tab's view fetches an image of 600 KB at once: both fit alone, not together.
		const manifests = await Promise.all([1, 2].map((seed) => manifestOf(bytesOf(600_000, seed))));
		const verdicts = await Promise.all(tabs.map((tab, i) => tab.budget.admitAuto(tab.store, manifests[i]!.id, manifests[i]!.size, 'sender', manifests[i])));
		expect(verdicts.filter((v) => v === true).length).toBe(1);
		expect(verdicts.find((v) => v !== true)).toMatchObject({ name: 'BudgetReachedError' });
		// What either tab now counts is within the budget.
		for (const tab of tabs) expect((await tab.store.entries()).reduce((n, e) => n + e.bytes, 0)).toBeLessThanOrEqual(LIMIT);
		expect(new Set(locks.names)).toEqual(new Set([BUDGET_LOCK]));
		for (const tab of tabs) tab.db.close();
	});

	it('without Web Locks a budget still admits, one at a time within its tab', async () => {
		expect(browserLocks()).toBeUndefined();
		const [tab] = await twoTabs(undefined);
		const manifests = await Promise.all([1, 2].map((seed) => manifestOf(bytesOf(600_000, seed))));
		const verdicts = await Promise.all(manifests.map((m) => tab!.budget.admitAuto(tab!.store, m.id, m.size, 'sender', m)));
		expect(verdicts.filter((v) => v === true).length).toBe(1);
		tab!.db.close();
	});
});
