/**
 * A browser's storage budget for blobs (blob/blobBudget.ts), with real libp2p nodes running the
 * workspace core and the blob mesh, and the victim's blobs in IndexedDB (fake-indexeddb) wired
 * as app.ts wires them: a member posting many images cannot push another member's stored blob
 * bytes past the budget, nor take more than a sender's share of it; the files that device sent
 * or opened are kept whatever comes; a file the user asks for is fetched past the budget.
 * Found in review: the browser fetched every image up to the auto-fetch size with no budget.
 */
import 'fake-indexeddb/auto';
import '../../src/lib/mesh/polyfills.node.js';
import { afterEach, describe, expect, it } from 'vitest';
import { DeviceBlobs } from '../../src/lib/core/deviceBlobs.js';
import { readBlob } from '../../src/lib/blob/BlobStore.js';
import type { AttachmentRef } from '../../src/lib/doc/schema.js';
import { OutpostDb } from '../../src/lib/store/db.js';
import { IdbBlobStore } from '../../src/lib/store/IdbBlobStore.js';
import { randomBytes, withBlobs, type BlobPeer } from './blobPeers.js';
import { imagePost, onDevice, openChannel, policyPins, postMessage, stamps, startBrowserMesh, stopSweepPeers, whole } from './blobSweepKit.js';
import { waitFor, waitUntil } from './helpers.js';
import { has, post, teamOfThree, type TeamPeer } from './teamPeers.js';

const LIMIT = 1_000_000;
const SHARE = LIMIT / 4;

afterEach(stopSweepPeers);

const stamp = stamps(5000);

let dbs = 0;

/** Posts an image of `size` random bytes from `peer` (held in `blobs`) in channel `docId`. */
async function postImage(peer: TeamPeer, blobs: Pick<BlobPeer, 'store'>, docId: string, size: number, name: string): Promise<AttachmentRef> {
	// Signed, as the app posts: the budget charges a file to a signed post's author only.
	const message = await imagePost(peer, blobs.store, docId, randomBytes(size), name, stamp);
	postMessage(peer, docId, message);
	return message.files![0]!;
}

/** A browser's blobs on `peer`, as app.ts builds them (`assembleServices`, `startBlobs`), within a budget of {@link LIMIT}. */
async function browserBlobs(peer: TeamPeer) {
	const ws = peer.authority.workspaceId;
	const db = new OutpostDb(`budget-${++dbs}`);
	await db.open();
	const device = new DeviceBlobs((id) => new IdbBlobStore(db, id), { limit: () => LIMIT, estimate: async () => ({ usage: 0, quota: 100 * LIMIT }) });
	// Pins within the budget, and no sweep.
	const { storeFor, room } = onDevice(device);
	const mesh = await startBrowserMesh(peer, { storeFor, room, pins: policyPins(peer), retryMs: 100 }, (mesh) =>
		device.attach({
			service: mesh.service,
			livePeers: (id) => peer.mesh.livePeers(id),
			senderOf: async (id, docId, blobId) =>
				id === ws ? mesh.referencesOf(peer.docs).sender(docId, blobId, (device) => peer.authority.personOf(device)) : undefined
		})
	);
	/** Bytes of blob chunks the browser's database holds now. */
	const bytesHeld = async () => (await db.blobChunks.toArray()).reduce((n, row) => n + row.bytes.byteLength, 0);
	return { device, mesh, access: device.access(ws), bytesHeld, whole: (blobId: string) => whole(device.store(ws), blobId), db };
}

describe('a browser’s blob budget', () => {
	it('a member posting many images cannot push another member’s stored blobs past the budget; what it sent or opened stays', async () => {
		const { ws, owner, mallory, bob } = await teamOfThree();
		const [ownerBlobs, malloryBlobs] = [await withBlobs(owner), await withBlobs(mallory)];
		const browser = await browserBlobs(bob);
		const channel = await openChannel(owner, ws.id, [bob, mallory]);

		// Bob sends a file of his own, and opens an image the owner posted (fetched on its own first).
		const sent = await browser.access.put(randomBytes(700_000));
		const shown = await postImage(owner, ownerBlobs, channel, 150_000, 'owner.png');
		await waitUntil(() => browser.whole(shown.blob), 'bob fetches the owner’s image on its own');
		await browser.access.keep(shown.blob);

		// Mallory posts two megabytes of images; bob's device is watched while they come.
		let most = 0;
		let watching = true;
		const watch = (async () => {
			while (watching) {
				most = Math.max(most, await browser.bytesHeld());
				await new Promise((resolve) => setTimeout(resolve, 10));
			}
		})();
		const flood: AttachmentRef[] = [];
		for (let i = 0; i < 20; i++) flood.push(await postImage(mallory, malloryBlobs, channel, 100_000, `flood-${i}.png`));
		post(mallory, channel, 'flood done');
		await waitFor(() => has(bob, channel, 'flood done'), 'the flood reaches bob');
		await waitFor(() => browser.mesh.pendingPins(ws.id) === 0, 'bob’s pins settle', 30_000);
		watching = false;
		await watch;
		most = Math.max(most, await browser.bytesHeld());

		expect(most).toBeLessThanOrEqual(LIMIT);
		// No sender takes more than its share of the budget: the newest of mallory's images are the ones held.
		const held = await Promise.all(flood.map((ref) => browser.whole(ref.blob)));
		expect(held.filter(Boolean).length * 100_000).toBeLessThanOrEqual(SHARE);
		expect(held.filter(Boolean).length).toBeGreaterThan(0);
		expect(held.at(-1)).toBe(true);
		// What bob sent and what he opened are kept, whole.
		expect(await browser.whole(sent.id)).toBe(true);
		expect(await browser.whole(shown.blob)).toBe(true);
		expect(await readBlob(browser.device.store(ws.id), sent.id)).toBeDefined();

		// One he asks for is fetched past the budget (the device's storage has room), and kept from then on.
		const first = flood[0]!;
		expect(await browser.whole(first.blob)).toBe(false);
		await browser.access.fetch(channel, first, () => undefined, AbortSignal.timeout(20_000), 'opened');
		expect(await browser.whole(first.blob)).toBe(true);
		for (let i = 0; i < 5; i++) await postImage(mallory, malloryBlobs, channel, 100_000, `more-${i}.png`);
		post(mallory, channel, 'more done');
		await waitFor(() => has(bob, channel, 'more done'), 'more images reach bob');
		await waitFor(() => browser.mesh.pendingPins(ws.id) === 0, 'bob’s pins settle again', 30_000);
		expect(await browser.whole(first.blob)).toBe(true);
		expect(await browser.whole(shown.blob)).toBe(true);
		expect(await browser.whole(sent.id)).toBe(true);
		browser.db.close();
	}, 120_000);

	it('an automatic fetch past the budget is refused, and the view’s fetch says so; the file the user asks for still comes', async () => {
		const { ws, owner, mallory, bob } = await teamOfThree();
		const malloryBlobs = await withBlobs(mallory);
		await withBlobs(owner);
		const browser = await browserBlobs(bob);
		const channel = await openChannel(owner, ws.id, [bob]);
		// Bob's own files fill most of the budget: nothing fetched on its own may be dropped for it.
		await browser.access.put(randomBytes(LIMIT - 50_000));
		const big = await postImage(mallory, malloryBlobs, channel, 100_000, 'big.png');
		post(mallory, channel, 'posted');
		await waitFor(() => has(bob, channel, 'posted'), 'the image reaches bob');
		await waitFor(() => browser.mesh.pendingPins(ws.id) === 0, 'bob’s pin settles', 30_000);
		expect(await browser.whole(big.blob)).toBe(false);
		const auto = await browser.access.fetch(channel, big, () => undefined, AbortSignal.timeout(20_000), 'auto').then(
			() => undefined,
			(error: unknown) => error
		);
		expect((auto as Error).name).toBe('BudgetReachedError');
		expect(await browser.bytesHeld()).toBeLessThanOrEqual(LIMIT);
		await browser.access.fetch(channel, big, () => undefined, AbortSignal.timeout(20_000), 'opened');
		expect(await browser.whole(big.blob)).toBe(true);
		browser.db.close();
	}, 120_000);
});
