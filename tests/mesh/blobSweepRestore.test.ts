/**
 * A file comes back when its message shows again (blob/blobSweep.ts `onShown`). Found in review:
 * a pin was queued only by an update naming the file, so a message that came deleted (its pin
 * passed over: core/blobMesh.ts `stillShown`), or whose file the sweep dropped once it was
 * deleted, was restored by its author and its file was never fetched again: a restoring mark
 * names no file. Real libp2p nodes running the workspace core and the blob mesh, the browser's
 * blobs in a budget as app.ts wires them.
 */
import '../../src/lib/mesh/polyfills.node.js';
import { afterEach, expect, it } from 'vitest';
import { ChannelDoc } from '../../src/lib/doc/ChannelDoc.js';
import type { MessageRecord } from '../../src/lib/doc/schema.js';
import { randomBytes } from './blobPeers.js';
import { browserMesh, deletionMark, gone, imagePost, moderateMessage, ownerChannelToBob, postMessage, stamps, stopSweepPeers, whole } from './blobSweepKit.js';
import { waitUntil } from './helpers.js';

afterEach(stopSweepPeers);

const stamp = stamps(410_000);

it("a browser fetches a restored message's file again, whether its pin was passed over or the sweep dropped it", async () => {
	const { ws, owner, bob, channel, ownerBlobs } = await ownerChannelToBob();
	const { mesh, device } = await browserMesh(bob);
	const store = device.store(ws.id);
	const doc = owner.docs.get(channel);
	const held = (message: MessageRecord) => whole(store, message.files![0]!.blob);
	const mark = (message: MessageRecord, deleted: boolean) => deletionMark(owner, message.id, stamp, deleted);

	// One image comes with its deletion (its pin is passed over); another is pinned, then deleted and swept.
	const cameDeleted = await imagePost(owner, ownerBlobs.store, channel, randomBytes(70_000), 'came-deleted.png', stamp);
	const deletion = await mark(cameDeleted, true);
	doc.transact(() => {
		new ChannelDoc(doc).post(cameDeleted);
		new ChannelDoc(doc).markDeletion(deletion);
	});
	const swept = await imagePost(owner, ownerBlobs.store, channel, randomBytes(60_000), 'swept.png', stamp);
	postMessage(owner, channel, swept);
	await waitUntil(() => held(swept), 'bob pins the image that shows');
	expect(await gone(store, cameDeleted.files![0]!.blob)).toBe(true);
	new ChannelDoc(doc).markDeletion(await mark(swept, true));
	await waitUntil(() => gone(store, swept.files![0]!.blob), "the sweep drops the deleted message's image");

	// Both restored by their author: both files are fetched again.
	const restoreSwept = await mark(swept, false);
	const restoreCameDeleted = await mark(cameDeleted, false);
	doc.transact(() => {
		new ChannelDoc(doc).markDeletion(restoreSwept);
		new ChannelDoc(doc).markDeletion(restoreCameDeleted);
	});
	await waitUntil(async () => (await held(swept)) && (await held(cameDeleted)), 'bob fetches both restored images again');
	expect(mesh.pendingPins(ws.id)).toBe(0);
}, 60_000);

it('a browser fetches the file of a message a moderator hid and showed again', async () => {
	const { ws, owner, bob, channel, ownerBlobs } = await ownerChannelToBob();
	const { mesh, device } = await browserMesh(bob);
	const store = device.store(ws.id);
	const moderate = (message: MessageRecord, hidden: boolean) => moderateMessage(owner, channel, message.id, hidden, stamp);

	const image = await imagePost(owner, ownerBlobs.store, channel, randomBytes(50_000), 'hidden.png', stamp);
	postMessage(owner, channel, image);
	const blob = image.files![0]!.blob;
	await waitUntil(() => whole(store, blob), 'bob pins the image');
	await moderate(image, true);
	await waitUntil(() => gone(store, blob), "the sweep drops the hidden message's image");
	await moderate(image, false);
	await waitUntil(() => whole(store, blob), 'bob fetches the image shown again');
	expect(mesh.pendingPins(ws.id)).toBe(0);
}, 60_000);
