/**
 * A browser drops the bytes of a file it fetched once no post it holds shows the file any more
 * (blob/blobSweep.ts). Found in review: a device that had fetched a file before its message was
 * deleted, or hidden by an admin, kept it. The same file named by another shown post, in
 * another channel or the same one, is kept (one blob for the same bytes); a member deleting her
 * own copy of a reference drops nothing; a file the device sent stays; one the user opened goes
 * with its message. Real libp2p nodes running the workspace core and the blob mesh, the
 * browser's blobs in a budget as app.ts wires them.
 */
import '../../src/lib/mesh/polyfills.node.js';
import { afterEach, expect, it } from 'vitest';
import { ChannelDoc } from '../../src/lib/doc/ChannelDoc.js';
import type { AttachmentRef } from '../../src/lib/doc/schema.js';
import { randomBytes, withBlobs, type BlobPeer } from './blobPeers.js';
import {
	deleteMessage,
	gone,
	imagePost,
	imageRef,
	memoryDevice,
	moderateMessage,
	onDevice,
	openChannel,
	policyPins,
	postMessage,
	signedPost,
	stamps,
	startBrowserMesh,
	stopSweepPeers,
	whole
} from './blobSweepKit.js';
import { waitFor, waitUntil } from './helpers.js';
import { teamOfThree, type TeamPeer } from './teamPeers.js';

afterEach(stopSweepPeers);

const stamp = stamps(90_000);

/** Posts image `bytes` (stored in `blobs`) from `peer` in channel `docId`, signed as the app posts; returns its reference and message id. */
async function postImage(peer: TeamPeer, blobs: Pick<BlobPeer, 'store'>, docId: string, bytes: Uint8Array, name: string): Promise<{ ref: AttachmentRef; msg: string }> {
	const message = await imagePost(peer, blobs.store, docId, bytes, name, stamp);
	postMessage(peer, docId, message);
	return { ref: message.files![0]!, msg: message.id };
}

/** `peer` deletes its message `msg` in `docId` (a signed mark, as the app deletes). */
function deleteOwn(peer: TeamPeer, docId: string, msg: string): Promise<void> {
	return deleteMessage(peer, docId, msg, stamp);
}

/** A browser's blobs on `peer`, as app.ts builds them (`startBlobs`), sweeping what no post shows. */
async function browserBlobs(peer: TeamPeer) {
	const ws = peer.authority.workspaceId;
	const device = memoryDevice();
	await startBrowserMesh(peer, { ...onDevice(device), pins: policyPins(peer), sweepDelayMs: 50, retryMs: 100 }, (mesh) =>
		device.attach({ service: mesh.service, livePeers: (id) => peer.mesh.livePeers(id) })
	);
	const store = device.store(ws);
	return { access: device.access(ws), whole: (blobId: string) => whole(store, blobId), gone: (blobId: string) => gone(store, blobId) };
}

it('a browser drops a fetched file once no post it holds shows it; one still shown anywhere, or its own, stays', async () => {
	const { ws, owner, mallory, bob } = await teamOfThree();
	const [ownerBlobs, malloryBlobs] = [await withBlobs(owner), await withBlobs(mallory)];
	const browser = await browserBlobs(bob);
	const one = await openChannel(owner, ws.id, [bob]);
	const two = await openChannel(owner, ws.id, [bob, mallory], 'open too');

	// One image posted three times: by the owner in channel one, by mallory in one and in two.
	const shared = randomBytes(120_000);
	const ownersCopy = await postImage(owner, ownerBlobs, one, shared, 'shared.png');
	const mallorysCopy = await postImage(mallory, malloryBlobs, one, shared, 'shared.png');
	const elsewhere = await postImage(mallory, malloryBlobs, two, shared, 'shared.png');
	// Markers: images whose deletion shows that a sweep of their channel ran.
	const marker1 = await postImage(owner, ownerBlobs, one, randomBytes(60_000), 'marker-1.png');
	const marker2 = await postImage(owner, ownerBlobs, one, randomBytes(60_000), 'marker-2.png');
	// An image bob opens (Download, full size), and one bob sends himself.
	const opened = await postImage(owner, ownerBlobs, two, randomBytes(80_000), 'opened.png');
	const sent = await browser.access.put(randomBytes(90_000));
	const own = imageRef(sent.id, sent.size, 'mine.png');
	const ownPost = await signedPost(bob, one, 'mine', stamp, [own]);
	postMessage(bob, one, ownPost);
	for (const { ref } of [ownersCopy, marker1, marker2, opened]) await waitUntil(() => browser.whole(ref.blob), `bob fetches ${ref.name} on his own`);
	const sharedId = ownersCopy.ref.blob;
	expect(mallorysCopy.ref.blob).toBe(sharedId);
	expect(elsewhere.ref.blob).toBe(sharedId);
	await browser.access.keep(opened.ref.blob);

	// Mallory deletes her copy in channel one: the owner's post there still shows it.
	await deleteOwn(mallory, one, mallorysCopy.msg);
	await waitFor(() => new ChannelDoc(bob.docs.get(one)).deletions.size === 1, 'her deletion reaches bob');
	await deleteOwn(owner, one, marker1.msg);
	await waitUntil(() => browser.gone(marker1.ref.blob), 'bob drops the first marker');
	expect(await browser.whole(sharedId)).toBe(true);

	// The owner deletes his: no post in channel one shows it, but mallory's in channel two does.
	await deleteOwn(owner, one, ownersCopy.msg);
	await deleteOwn(owner, one, marker2.msg);
	await waitUntil(() => browser.gone(marker2.ref.blob), 'bob drops the second marker');
	expect(await browser.whole(sharedId)).toBe(true);

	// Bob deletes his own post; the owner hides mallory's post in two: the image goes, his own file stays.
	await deleteOwn(bob, one, ownPost.id);
	await moderateMessage(owner, two, elsewhere.msg, true, stamp);
	await waitUntil(() => browser.gone(sharedId), 'bob drops the shared image once no post shows it');
	expect(await browser.whole(sent.id)).toBe(true);

	// A file bob opened goes with its message too.
	expect(await browser.whole(opened.ref.blob)).toBe(true);
	await deleteOwn(owner, two, opened.msg);
	await waitUntil(() => browser.gone(opened.ref.blob), 'bob drops the opened image');
	expect(await browser.whole(sent.id)).toBe(true);
}, 120_000);
