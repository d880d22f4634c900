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
import { BlobMesh } from '../../src/lib/core/blobMesh.js';
import { DeviceBlobs } from '../../src/lib/core/deviceBlobs.js';
import { MemoryBlobStore, storeBlob } from '../../src/lib/blob/BlobStore.js';
import { ChannelDoc } from '../../src/lib/doc/ChannelDoc.js';
import { newId } from '../../src/lib/doc/ids.js';
import type { AttachmentRef } from '../../src/lib/doc/schema.js';
import { signDeletionMark, signMessage } from '../../src/lib/doc/signature.js';
import { autoFetches } from '../../src/lib/state/ChannelBlobs.svelte.js';
import { at } from '../unit/doc/helpers.js';
import { randomBytes, stopBlobPeers, withBlobs } from './blobPeers.js';
import { waitFor, waitUntil } from './helpers.js';
import { stopPeers } from './peers.js';
import { has, listedDoc, post, stopTeamPeers, teamOfThree } from './teamPeers.js';

const started: BlobMesh[] = [];
afterEach(async () => {
	for (const mesh of started.splice(0)) await mesh.stop().catch(() => undefined);
	await stopBlobPeers();
	await stopTeamPeers();
	await stopPeers();
});

let clock = 430_000;

it('a browser drops the file of a message deleted while its pin was under way', async () => {
	const { ws, owner, bob } = await teamOfThree();
	const channel = listedDoc(owner, ws.id);
	post(owner, channel, 'open');
	await waitFor(() => has(bob, channel, 'open'), 'the channel reaches bob');
	const ownerBlobs = await withBlobs(owner);

	const device = new DeviceBlobs(() => new MemoryBlobStore(), { limit: () => 100_000_000, estimate: async () => ({ usage: 0, quota: 1_000_000_000 }) });
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
	const ref: AttachmentRef = { blob, size: bytes.byteLength, mime: 'image/png', name: 'late.png' };
	const message = await signMessage(owner.key, { id: newId(), author: owner.peerId, hlc: at(++clock, owner.peerId), text: 'late', files: [ref] }, channel);
	const deletion = await signDeletionMark(owner.key, { msg: message.id, by: owner.peerId, hlc: at(++clock, owner.peerId), deleted: true });

	let raced = false;
	const mesh = new BlobMesh({
		node: bob.node,
		workspace: (id) => (id === ws.id ? { docs: bob.docs, authority: bob.authority } : undefined),
		storeFor: (id) => device.store(id),
		livePeers: (id) => bob.mesh.livePeers(id),
		pins: (_id, r) => autoFetches(r),
		room: async (id, blobId, size, docId, manifest) => {
			if (!raced) {
				// The owner's answer is in; the message is deleted on bob before its bytes are admitted, and bob's sweep passes.
				raced = true;
				new ChannelDoc(bob.docs.get(channel)).markDeletion(deletion);
				const before = reads;
				await waitUntil(async () => reads > before, "bob's sweep pass after the deletion");
			}
			return device.room(id, blobId, size, docId, manifest);
		},
		sweep: (id) => device.store(id),
		sweepDelayMs: 50,
		sweepStartMs: 600_000,
		retryMs: 100
	});
	await mesh.start();
	started.push(mesh);
	mesh.follow(ws.id);

	new ChannelDoc(owner.docs.get(channel)).post(message);
	await waitUntil(async () => raced && mesh.pendingPins(ws.id) === 0, 'the pin ends');
	await waitUntil(async () => (await store.manifest(blob)) === undefined, "bob's sweep drops the deleted message's file");
	expect(await store.missing(blob)).toBeUndefined();
}, 60_000);
