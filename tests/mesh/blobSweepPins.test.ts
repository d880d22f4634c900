/**
 * A browser pins no file that no message it holds shows (core/blobMesh.ts `stillShown`). Found
 * in review: a device that got a message and its deletion together (a first sync, a device
 * back online) pinned the file anyway: every replica refused it, eight times over, or one that
 * had not heard of the deletion served it after the sweep had looked, and it stayed. Real
 * libp2p nodes running the workspace core and the blob mesh, the browser's blobs in a budget
 * as app.ts wires them.
 */
import '../../src/lib/mesh/polyfills.node.js';
import { afterEach, expect, it } from 'vitest';
import { ChannelDoc } from '../../src/lib/doc/ChannelDoc.js';
import { randomBytes } from './blobPeers.js';
import { browserMesh, deletionMark, gone, imagePost, ownerChannelToBob, postMessage, stamps, stopSweepPeers, whole } from './blobSweepKit.js';
import { waitUntil } from './helpers.js';

afterEach(stopSweepPeers);

const stamp = stamps(390_000);

it('a browser does not pin the file of a message that came deleted', async () => {
	const { ws, owner, bob, channel, ownerBlobs } = await ownerChannelToBob();
	const { mesh, device } = await browserMesh(bob);

	// An image posted and deleted in one update (as a first sync brings them), then one that shows.
	const deleted = await imagePost(owner, ownerBlobs.store, channel, randomBytes(70_000), 'deleted.png', stamp);
	const mark = await deletionMark(owner, deleted.id, stamp);
	const doc = owner.docs.get(channel);
	doc.transact(() => {
		new ChannelDoc(doc).post(deleted);
		new ChannelDoc(doc).markDeletion(mark);
	});
	const shown = await imagePost(owner, ownerBlobs.store, channel, randomBytes(60_000), 'shown.png', stamp);
	postMessage(owner, channel, shown);

	// Pins are fetched in order: once the second is held, the first was tried or passed over.
	const store = device.store(ws.id);
	await waitUntil(() => whole(store, shown.files![0]!.blob), 'bob pins the image that shows');
	expect(mesh.failedPins(ws.id)).toBe(0);
	expect(mesh.pendingPins(ws.id)).toBe(0);
	expect(await gone(store, deleted.files![0]!.blob)).toBe(true);
}, 60_000);
