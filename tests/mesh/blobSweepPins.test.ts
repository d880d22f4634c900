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
import { BlobMesh } from '../../src/lib/core/blobMesh.js';
import { DeviceBlobs } from '../../src/lib/core/deviceBlobs.js';
import { MemoryBlobStore, storeBlob } from '../../src/lib/blob/BlobStore.js';
import { ChannelDoc } from '../../src/lib/doc/ChannelDoc.js';
import { newId } from '../../src/lib/doc/ids.js';
import type { AttachmentRef, MessageRecord } from '../../src/lib/doc/schema.js';
import { signDeletionMark, signMessage } from '../../src/lib/doc/signature.js';
import { autoFetches } from '../../src/lib/state/ChannelBlobs.svelte.js';
import { at } from '../unit/doc/helpers.js';
import { randomBytes, stopBlobPeers, withBlobs } from './blobPeers.js';
import { waitFor, waitUntil } from './helpers.js';
import { stopPeers } from './peers.js';
import { has, listedDoc, post, stopTeamPeers, teamOfThree, type TeamPeer } from './teamPeers.js';

const started: BlobMesh[] = [];
afterEach(async () => {
	for (const mesh of started.splice(0)) await mesh.stop().catch(() => undefined);
	await stopBlobPeers();
	await stopTeamPeers();
	await stopPeers();
});

let clock = 390_000;

/** A signed message of `peer` in `docId` with image `bytes` stored in `store`. */
async function imagePost(peer: TeamPeer, store: MemoryBlobStore, docId: string, bytes: Uint8Array, name: string): Promise<MessageRecord> {
	const { id } = await storeBlob(store, bytes);
	const ref: AttachmentRef = { blob: id, size: bytes.byteLength, mime: 'image/png', name };
	return signMessage(peer.key, { id: newId(), author: peer.peerId, hlc: at(++clock, peer.peerId), text: name, files: [ref] }, docId);
}

it('a browser does not pin the file of a message that came deleted', async () => {
	const { ws, owner, bob } = await teamOfThree();
	const channel = listedDoc(owner, ws.id);
	post(owner, channel, 'open');
	await waitFor(() => has(bob, channel, 'open'), 'the channel reaches bob');
	const ownerBlobs = await withBlobs(owner);

	const device = new DeviceBlobs(() => new MemoryBlobStore(), { limit: () => 100_000_000, estimate: async () => ({ usage: 0, quota: 1_000_000_000 }) });
	const mesh = new BlobMesh({
		node: bob.node,
		workspace: (id) => (id === ws.id ? { docs: bob.docs, authority: bob.authority } : undefined),
		storeFor: (id) => device.store(id),
		livePeers: (id) => bob.mesh.livePeers(id),
		pins: (_id, ref) => autoFetches(ref),
		room: (id, blobId, bytes, docId) => device.room(id, blobId, bytes, docId),
		sweep: (id) => device.store(id),
		sweepDelayMs: 50,
		sweepStartMs: 600_000,
		retryMs: 100
	});
	await mesh.start();
	started.push(mesh);
	mesh.follow(ws.id);

	// An image posted and deleted in one update (as a first sync brings them), then one that shows.
	const deleted = await imagePost(owner, ownerBlobs.store, channel, randomBytes(70_000), 'deleted.png');
	const mark = await signDeletionMark(owner.key, { msg: deleted.id, by: owner.peerId, hlc: at(++clock, owner.peerId), deleted: true });
	const doc = owner.docs.get(channel);
	doc.transact(() => {
		new ChannelDoc(doc).post(deleted);
		new ChannelDoc(doc).markDeletion(mark);
	});
	const shown = await imagePost(owner, ownerBlobs.store, channel, randomBytes(60_000), 'shown.png');
	new ChannelDoc(doc).post(shown);

	// Pins are fetched in order: once the second is held, the first was tried or passed over.
	const store = device.store(ws.id);
	await waitUntil(async () => (await store.missing(shown.files![0]!.blob))?.length === 0, 'bob pins the image that shows');
	expect(mesh.failedPins(ws.id)).toBe(0);
	expect(mesh.pendingPins(ws.id)).toBe(0);
	expect(await store.manifest(deleted.files![0]!.blob)).toBeUndefined();
}, 60_000);
