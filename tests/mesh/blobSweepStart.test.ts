/**
 * The sweep's one pass over every fetched blob a browser holds, some time after it starts
 * (blob/blobSweep.ts `SWEEP_START_MS`). Found in review: the sweep only looked when a deletion
 * or hide arrived, so a file whose message was deleted before the sweep followed its channel
 * (before the rule existed, or in a tab closed before its pass ran) stayed on the device until
 * some later mark in that channel. Real libp2p nodes running the workspace core and the blob
 * mesh, the browser's blobs in a budget as app.ts wires them.
 */
import '../../src/lib/mesh/polyfills.node.js';
import { afterEach, expect, it } from 'vitest';
import { MemoryBlobStore } from '../../src/lib/blob/BlobStore.js';
import { ChannelDoc } from '../../src/lib/doc/ChannelDoc.js';
import { randomBytes } from './blobPeers.js';
import { deleteMessage, gone, heldEarlier, imageRef, memoryDevice, onDevice, postMessage, signedPost, stamps, startBrowserMesh, stopSweepPeers } from './blobSweepKit.js';
import { waitFor, waitUntil } from './helpers.js';
import { listedDoc, teamOfThree, type TeamPeer } from './teamPeers.js';

afterEach(stopSweepPeers);

const stamp = stamps(190_000);

/** `peer` posts an image reference (its bytes are not needed: the browser under test holds them already). */
async function postImage(peer: TeamPeer, docId: string, blob: string, size: number, name: string): Promise<string> {
	const message = await signedPost(peer, docId, name, stamp, [imageRef(blob, size, name)]);
	postMessage(peer, docId, message);
	return message.id;
}

/** A browser's blob store that runs `hook` once, the first time the missing chunks of `blobId` are asked. */
class GatedStore extends MemoryBlobStore {
	gate: { blobId: string; hook: () => Promise<void> } | undefined;

	override async missing(id: string): Promise<number[] | undefined> {
		const gate = this.gate;
		if (gate !== undefined && gate.blobId === id) {
			this.gate = undefined;
			await gate.hook();
		}
		return super.missing(id);
	}
}

it('a browser drops, once after it starts, a fetched file whose message was deleted before its sweep followed the channel', async () => {
	const { ws, owner, bob } = await teamOfThree();
	const channel = listedDoc(owner, ws.id);
	// Bob's browser fetched three images earlier (held whole, marked as fetched), and sent one.
	const device = memoryDevice();
	const store = device.store(ws.id);
	const [deleted, shown, opened] = [randomBytes(70_000), randomBytes(80_000), randomBytes(90_000)];
	// As a fetch stores them: admitted (marked) first, then their manifests and chunks.
	const deletedId = await heldEarlier(store, deleted);
	const shownId = await heldEarlier(store, shown);
	const openedId = await heldEarlier(store, opened, 'opened');
	const sent = await device.access(ws.id).put(randomBytes(60_000));
	// Their messages: the first and third deleted by their author, all before bob's sweep runs.
	const first = await postImage(owner, channel, deletedId, deleted.byteLength, 'deleted.png');
	await postImage(owner, channel, shownId, shown.byteLength, 'shown.png');
	const third = await postImage(owner, channel, openedId, opened.byteLength, 'opened.png');
	for (const msg of [first, third]) await deleteMessage(owner, channel, msg, stamp);
	await waitFor(() => bob.docs.docs.get(channel) !== undefined && new ChannelDoc(bob.docs.get(channel)).deletions.size === 2, 'the deletions reach bob');

	// Now bob's browser follows the workspace: no mark arrives from here on.
	await startBrowserMesh(bob, { ...onDevice(device), pins: () => false, sweepDelayMs: 50, sweepStartMs: 200 });

	await waitUntil(async () => (await gone(store, deletedId)) && (await gone(store, openedId)), 'bob drops the files of the messages deleted before');
	expect(await store.missing(shownId)).toEqual([]);
	expect(await store.missing(sent.id)).toEqual([]);
}, 60_000);

it('a file a new message names while a pass finds no message showing it stays', async () => {
	const { ws, owner, bob } = await teamOfThree();
	const channel = listedDoc(owner, ws.id);
	const store = new GatedStore();
	const [image, marker] = [randomBytes(70_000), randomBytes(50_000)];
	const imageId = await heldEarlier(store, image);
	const markerId = await heldEarlier(store, marker);
	const first = await postImage(owner, channel, imageId, image.byteLength, 'image.png');
	const markerMsg = await postImage(owner, channel, markerId, marker.byteLength, 'marker.png');
	await waitFor(() => bob.docs.docs.get(channel) !== undefined && new ChannelDoc(bob.docs.get(channel)).messages.length === 2, 'the posts reach bob');
	await startBrowserMesh(bob, {
		storeFor: (id) => (id === ws.id ? store : undefined),
		pins: () => false,
		sweep: (id) => (id === ws.id ? store : undefined),
		sweepDelayMs: 50,
		sweepStartMs: 600_000
	});

	// The owner deletes the image's message; while bob's pass finds no message showing it, he posts it again.
	store.gate = {
		blobId: imageId,
		hook: async () => {
			await postImage(owner, channel, imageId, image.byteLength, 'image again.png');
			await waitFor(() => new ChannelDoc(bob.docs.get(channel)).messages.length === 3, 'the new post reaches bob');
		}
	};
	await deleteMessage(owner, channel, first, stamp);
	await waitUntil(async () => store.gate === undefined, 'a pass looks at the image');
	// A later pass (the marker's message deleted) has run once the marker is gone.
	await deleteMessage(owner, channel, markerMsg, stamp);
	await waitUntil(() => gone(store, markerId), 'bob drops the marker');
	expect(await store.missing(imageId)).toEqual([]);
}, 60_000);
