/**
 * A file whose pin was under way when its message was deleted is swept once fetched
 * (core/blobMesh.ts `drain`, blob/blobSweep.ts `recheck`). Found in review: a pin checked that
 * its message showed, then fetched; a deletion that came meanwhile had its sweep pass find the
 * file not held yet (the pin's first answer was slow), the fetch then stored it, and it stayed
 * until the next start. Real libp2p nodes running the workspace core and the blob mesh, the
 * browser's blobs in a budget as app.ts wires them; the pin's admission waits, in the test, for
 * the sweep pass that follows the deletion.
 */
import '../../src/lib/mesh/polyfills.node.js';
import { afterEach, expect, it } from 'vitest';
import { storeBlob } from '../../src/lib/blob/BlobStore.js';
import { ChannelDoc } from '../../src/lib/doc/ChannelDoc.js';
import { randomBytes } from './blobPeers.js';
import { browserMesh, deletionMark, gone, imageRef, memoryDevice, ownerChannelToBob, postMessage, signedPost, stamps, stopSweepPeers } from './blobSweepKit.js';
import { waitUntil } from './helpers.js';

afterEach(stopSweepPeers);

const stamp = stamps(430_000);

it('a browser drops the file of a message deleted while its pin was under way', async () => {
	const { ws, owner, bob, channel, ownerBlobs } = await ownerChannelToBob();

	const device = memoryDevice();
	const store = device.store(ws.id);
	// Reads of bob's whole ledger (a sweep pass that has blobs to look at reads it first).
	let reads = 0;
	const entries = store.entries.bind(store);
	store.entries = () => {
		reads++;
		return entries();
	};

	const bytes = randomBytes(40_000);
	const { id: blob } = await storeBlob(ownerBlobs.store, bytes);
	const message = await signedPost(owner, channel, 'late', stamp, [imageRef(blob, bytes.byteLength, 'late.png')]);
	const deletion = await deletionMark(owner, message.id, stamp);

	let raced = false;
	const { mesh } = await browserMesh(bob, device, async (id, blobId, size, docId, manifest) => {
		if (!raced) {
			// The owner's answer is in; the message is deleted on bob before its bytes are admitted, and bob's sweep passes.
			raced = true;
			new ChannelDoc(bob.docs.get(channel)).markDeletion(deletion);
			const before = reads;
			await waitUntil(async () => reads > before, "bob's sweep pass after the deletion");
		}
		return device.room(id, blobId, size, docId, manifest);
	});

	postMessage(owner, channel, message);
	await waitUntil(async () => raced && mesh.pendingPins(ws.id) === 0, 'the pin ends');
	await waitUntil(() => gone(store, blob), "bob's sweep drops the deleted message's file");
	expect(await store.missing(blob)).toBeUndefined();
}, 60_000);
