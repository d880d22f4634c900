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
import { BlobMesh } from '../../src/lib/core/blobMesh.js';
import { DeviceBlobs } from '../../src/lib/core/deviceBlobs.js';
import { MemoryBlobStore, storeBlob } from '../../src/lib/blob/BlobStore.js';
import { ChannelDoc } from '../../src/lib/doc/ChannelDoc.js';
import { newId } from '../../src/lib/doc/ids.js';
import type { AttachmentRef, MessageRecord } from '../../src/lib/doc/schema.js';
import { signDeletionMark, signMessage, signModerationMark } from '../../src/lib/doc/signature.js';
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

let clock = 410_000;

/** A signed message of `peer` in `docId` with image `bytes` stored in `store`. */
async function imagePost(peer: TeamPeer, store: MemoryBlobStore, docId: string, bytes: Uint8Array, name: string): Promise<MessageRecord> {
	const { id } = await storeBlob(store, bytes);
	const ref: AttachmentRef = { blob: id, size: bytes.byteLength, mime: 'image/png', name };
	return signMessage(peer.key, { id: newId(), author: peer.peerId, hlc: at(++clock, peer.peerId), text: name, files: [ref] }, docId);
}

/** Bob's blob mesh as a browser's: pins within a budget, and a sweep. */
async function browserMesh(bob: TeamPeer, workspaceId: string): Promise<{ mesh: BlobMesh; device: DeviceBlobs }> {
	const device = new DeviceBlobs(() => new MemoryBlobStore(), { limit: () => 100_000_000, estimate: async () => ({ usage: 0, quota: 1_000_000_000 }) });
	const mesh = new BlobMesh({
		node: bob.node,
		workspace: (id) => (id === workspaceId ? { docs: bob.docs, authority: bob.authority } : undefined),
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
	mesh.follow(workspaceId);
	return { mesh, device };
}

it("a browser fetches a restored message's file again, whether its pin was passed over or the sweep dropped it", async () => {
	const { ws, owner, bob } = await teamOfThree();
	const channel = listedDoc(owner, ws.id);
	post(owner, channel, 'open');
	await waitFor(() => has(bob, channel, 'open'), 'the channel reaches bob');
	const ownerBlobs = await withBlobs(owner);
	const { mesh, device } = await browserMesh(bob, ws.id);
	const store = device.store(ws.id);
	const doc = owner.docs.get(channel);
	const whole = async (message: MessageRecord) => (await store.missing(message.files![0]!.blob))?.length === 0;
	const mark = (message: MessageRecord, deleted: boolean) => signDeletionMark(owner.key, { msg: message.id, by: owner.peerId, hlc: at(++clock, owner.peerId), deleted });

	// One image comes with its deletion (its pin is passed over); another is pinned, then deleted and swept.
	const cameDeleted = await imagePost(owner, ownerBlobs.store, channel, randomBytes(70_000), 'came-deleted.png');
	const deletion = await mark(cameDeleted, true);
	doc.transact(() => {
		new ChannelDoc(doc).post(cameDeleted);
		new ChannelDoc(doc).markDeletion(deletion);
	});
	const swept = await imagePost(owner, ownerBlobs.store, channel, randomBytes(60_000), 'swept.png');
	new ChannelDoc(doc).post(swept);
	await waitUntil(() => whole(swept), 'bob pins the image that shows');
	expect(await store.manifest(cameDeleted.files![0]!.blob)).toBeUndefined();
	new ChannelDoc(doc).markDeletion(await mark(swept, true));
	await waitUntil(async () => (await store.manifest(swept.files![0]!.blob)) === undefined, "the sweep drops the deleted message's image");

	// Both restored by their author: both files are fetched again.
	const restoreSwept = await mark(swept, false);
	const restoreCameDeleted = await mark(cameDeleted, false);
	doc.transact(() => {
		new ChannelDoc(doc).markDeletion(restoreSwept);
		new ChannelDoc(doc).markDeletion(restoreCameDeleted);
	});
	await waitUntil(async () => (await whole(swept)) && (await whole(cameDeleted)), 'bob fetches both restored images again');
	expect(mesh.pendingPins(ws.id)).toBe(0);
}, 60_000);

it('a browser fetches the file of a message a moderator hid and showed again', async () => {
	const { ws, owner, bob } = await teamOfThree();
	const channel = listedDoc(owner, ws.id);
	post(owner, channel, 'open');
	await waitFor(() => has(bob, channel, 'open'), 'the channel reaches bob');
	const ownerBlobs = await withBlobs(owner);
	const { mesh, device } = await browserMesh(bob, ws.id);
	const store = device.store(ws.id);
	const doc = owner.docs.get(channel);
	const moderate = async (message: MessageRecord, hidden: boolean) =>
		new ChannelDoc(doc).markModeration(await signModerationMark(owner.key, { msg: message.id, by: owner.peerId, hlc: at(++clock, owner.peerId), hidden }));

	const image = await imagePost(owner, ownerBlobs.store, channel, randomBytes(50_000), 'hidden.png');
	new ChannelDoc(doc).post(image);
	const blob = image.files![0]!.blob;
	await waitUntil(async () => (await store.missing(blob))?.length === 0, 'bob pins the image');
	await moderate(image, true);
	await waitUntil(async () => (await store.manifest(blob)) === undefined, "the sweep drops the hidden message's image");
	await moderate(image, false);
	await waitUntil(async () => (await store.missing(blob))?.length === 0, 'bob fetches the image shown again');
	expect(mesh.pendingPins(ws.id)).toBe(0);
}, 60_000);
