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
import { BlobMesh } from '../../src/lib/core/blobMesh.js';
import { DeviceBlobs } from '../../src/lib/core/deviceBlobs.js';
import { MemoryBlobStore, storeBlob } from '../../src/lib/blob/BlobStore.js';
import { manifestOf } from '../../src/lib/blob/blobManifest.js';
import { ChannelDoc } from '../../src/lib/doc/ChannelDoc.js';
import { newId } from '../../src/lib/doc/ids.js';
import type { AttachmentRef } from '../../src/lib/doc/schema.js';
import { signDeletionMark, signMessage } from '../../src/lib/doc/signature.js';
import { at } from '../unit/doc/helpers.js';
import { randomBytes, stopBlobPeers } from './blobPeers.js';
import { waitFor, waitUntil } from './helpers.js';
import { stopPeers } from './peers.js';
import { listedDoc, stopTeamPeers, teamOfThree, type TeamPeer } from './teamPeers.js';

const started: BlobMesh[] = [];
afterEach(async () => {
	for (const mesh of started.splice(0)) await mesh.stop().catch(() => undefined);
	await stopBlobPeers();
	await stopTeamPeers();
	await stopPeers();
});

let clock = 190_000;

/** `peer` posts an image reference (its bytes are not needed: the browser under test holds them already). */
async function postImage(peer: TeamPeer, docId: string, blob: string, size: number, name: string): Promise<string> {
	const ref: AttachmentRef = { blob, size, mime: 'image/png', name };
	const msg = newId();
	new ChannelDoc(peer.docs.get(docId)).post(await signMessage(peer.key, { id: msg, author: peer.peerId, hlc: at(++clock, peer.peerId), text: name, files: [ref] }, docId));
	return msg;
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
	const device = new DeviceBlobs(() => new MemoryBlobStore(), { limit: () => 100_000_000, estimate: async () => ({ usage: 0, quota: 1_000_000_000 }) });
	const store = device.store(ws.id);
	const [deleted, shown, opened] = [randomBytes(70_000), randomBytes(80_000), randomBytes(90_000)];
	const ids: string[] = [];
	for (const [bytes, origin] of [
		[deleted, 'auto'],
		[shown, 'auto'],
		[opened, 'opened']
	] as const) {
		// As a fetch stores it: admitted (marked) first, then its manifest and chunks.
		const { id } = await manifestOf(bytes);
		await store.mark(id, bytes.byteLength, origin);
		await storeBlob(store, bytes);
		ids.push(id);
	}
	const [deletedId, shownId, openedId] = ids as [string, string, string];
	const sent = await device.access(ws.id).put(randomBytes(60_000));
	// Their messages: the first and third deleted by their author, all before bob's sweep runs.
	const first = await postImage(owner, channel, deletedId, deleted.byteLength, 'deleted.png');
	await postImage(owner, channel, shownId, shown.byteLength, 'shown.png');
	const third = await postImage(owner, channel, openedId, opened.byteLength, 'opened.png');
	for (const msg of [first, third]) {
		new ChannelDoc(owner.docs.get(channel)).markDeletion(await signDeletionMark(owner.key, { msg, by: owner.peerId, hlc: at(++clock, owner.peerId), deleted: true }));
	}
	await waitFor(() => bob.docs.docs.get(channel) !== undefined && new ChannelDoc(bob.docs.get(channel)).deletions.size === 2, 'the deletions reach bob');

	// Now bob's browser follows the workspace: no mark arrives from here on.
	const mesh = new BlobMesh({
		node: bob.node,
		workspace: (id) => (id === ws.id ? { docs: bob.docs, authority: bob.authority } : undefined),
		storeFor: (id) => device.store(id),
		livePeers: (id) => bob.mesh.livePeers(id),
		pins: () => false,
		room: (id, blobId, bytes, docId) => device.room(id, blobId, bytes, docId),
		sweep: (id) => device.store(id),
		sweepDelayMs: 50,
		sweepStartMs: 200
	});
	await mesh.start();
	started.push(mesh);
	mesh.follow(ws.id);

	const gone = async (blobId: string) => (await store.manifest(blobId)) === undefined;
	await waitUntil(async () => (await gone(deletedId)) && (await gone(openedId)), 'bob drops the files of the messages deleted before');
	expect(await store.missing(shownId)).toEqual([]);
	expect(await store.missing(sent.id)).toEqual([]);
}, 60_000);

it('a file a new message names while a pass finds no message showing it stays', async () => {
	const { ws, owner, bob } = await teamOfThree();
	const channel = listedDoc(owner, ws.id);
	const store = new GatedStore();
	const [image, marker] = [randomBytes(70_000), randomBytes(50_000)];
	const ids: string[] = [];
	for (const bytes of [image, marker]) {
		const { id } = await manifestOf(bytes);
		await store.mark(id, bytes.byteLength, 'auto');
		await storeBlob(store, bytes);
		ids.push(id);
	}
	const [imageId, markerId] = ids as [string, string];
	const first = await postImage(owner, channel, imageId, image.byteLength, 'image.png');
	const markerMsg = await postImage(owner, channel, markerId, marker.byteLength, 'marker.png');
	await waitFor(() => bob.docs.docs.get(channel) !== undefined && new ChannelDoc(bob.docs.get(channel)).messages.length === 2, 'the posts reach bob');
	const mesh = new BlobMesh({
		node: bob.node,
		workspace: (id) => (id === ws.id ? { docs: bob.docs, authority: bob.authority } : undefined),
		storeFor: (id) => (id === ws.id ? store : undefined),
		livePeers: (id) => bob.mesh.livePeers(id),
		pins: () => false,
		sweep: (id) => (id === ws.id ? store : undefined),
		sweepDelayMs: 50,
		sweepStartMs: 600_000
	});
	await mesh.start();
	started.push(mesh);
	mesh.follow(ws.id);

	// The owner deletes the image's message; while bob's pass finds no message showing it, he posts it again.
	store.gate = {
		blobId: imageId,
		hook: async () => {
			await postImage(owner, channel, imageId, image.byteLength, 'image again.png');
			await waitFor(() => new ChannelDoc(bob.docs.get(channel)).messages.length === 3, 'the new post reaches bob');
		}
	};
	new ChannelDoc(owner.docs.get(channel)).markDeletion(await signDeletionMark(owner.key, { msg: first, by: owner.peerId, hlc: at(++clock, owner.peerId), deleted: true }));
	await waitUntil(async () => store.gate === undefined, 'a pass looks at the image');
	// A later pass (the marker's message deleted) has run once the marker is gone.
	new ChannelDoc(owner.docs.get(channel)).markDeletion(await signDeletionMark(owner.key, { msg: markerMsg, by: owner.peerId, hlc: at(++clock, owner.peerId), deleted: true }));
	await waitUntil(async () => (await store.manifest(markerId)) === undefined, 'bob drops the marker');
	expect(await store.missing(imageId)).toEqual([]);
}, 60_000);
