/**
 * Found in review. Every tab runs createServices → loadOrCreateIdentity (app.ts:48); the Web Lock only decides
 * later which tab runs the libp2p node. On a first launch in two tabs (or a PWA restoring two
 * windows), both read no identity row, both generate a key and both put() it: the tab whose
 * put lost keeps signing (team ops, messages, a new workspace's genesis as its owner) with a
 * key that is stored nowhere, so after a reload the device is a different peer and the
 * workspace that tab created has an owner no device holds.
 */
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { newId } from '../../../../src/lib/doc/ids';
import { OutpostDb } from '../../../../src/lib/store/db';
import { loadOrCreateIdentity } from '../../../../src/lib/store/identity';

describe('device identity on a first launch in two tabs', () => {
	it('both tabs use the one stored key', async () => {
		const name = `outpost-id-${newId()}`;
		const tab1 = new OutpostDb(name);
		const tab2 = new OutpostDb(name);
		await Promise.all([tab1.open(), tab2.open()]);
		const [a, b] = await Promise.all([loadOrCreateIdentity(tab1), loadOrCreateIdentity(tab2)]);
		const stored = (await tab1.identity.get('self'))!.peerId;
		expect([a.peerId, b.peerId]).toEqual([stored, stored]);
		tab1.close();
		tab2.close();
	});

	it('keeps a row whose key is not bytes aside instead of overwriting it', async () => {
		const db = new OutpostDb(`outpost-id-${newId()}`);
		await db.open();
		await db.identity.put({ id: 'self', privateKey: 'not bytes', peerId: 'old', displayName: 'Ada', createdAt: 1 } as never);
		const made = await loadOrCreateIdentity(db);
		const aside = (await db.settings.toArray()).filter((r) => r.key.startsWith('damaged-identity:'));
		expect(aside.map((r) => (r.value as { peerId: string }).peerId)).toEqual(['old']);
		expect((await db.identity.get('self'))!.peerId).toBe(made.peerId);
		db.close();
	});
});
