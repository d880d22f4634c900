/**
 * Two member devices of a private space ask a relay outside it to keep the same sealed file
 * while its fetch still waits: found in review, the second PIN was answered END and not
 * recorded, so the first asker's UNPIN had the relay drop the file the second had asked to keep
 * (a member racing the author's PIN, then unpinning, dropped the author's file while his message
 * showed). Both are recorded now, and one's UNPIN leaves the other's pin. Also checked: an UNPIN
 * then a PIN while the first pin's fetch is under way (a message deleted and restored at once)
 * leaves the file kept. Real relay, database and libp2p nodes, set up as
 * relay/archive/sealedSpaceKit.ts does.
 */
import '../../src/lib/mesh/polyfills.node.ts'; // before anything that loads libp2p
import { expect, it } from 'vitest';
import { readBlob, storeBlob } from '../../src/lib/blob/BlobStore.ts';
import { manifestOf } from '../../src/lib/blob/blobManifest.ts';
import { newBlobKey, openBlob, sealBlob } from '../../src/lib/blob/blobSeal.ts';
import { ChannelDoc } from '../../src/lib/doc/ChannelDoc.ts';
import { newId } from '../../src/lib/doc/ids.ts';
import type { AttachmentRef } from '../../src/lib/doc/schema.ts';
import { at, msg } from '../../tests/unit/doc/helpers.ts';
import { randomBytes } from '../../tests/mesh/blobPeers.ts';
import { waitUntil } from '../teamFixture.ts';
import { sealedSpaceKit } from './sealedSpaceKit.ts';
import { SqliteBlobStore, SqliteSealedBlobIndex } from './SqliteBlobStore.ts';

const { relayDb, spaceOnRelay, fromRelay } = sealedSpaceKit('outpost-blob-pin-race-');
let clock = 90_000;

it('records every device that asked while the fetch waited; one device’s UNPIN leaves the other’s pin', async () => {
	const { relay, ws, owner, bob, mallory, ownerBlobs, bobBlobs, malloryBlobs, space } = await spaceOnRelay();
	const relayPeer = relay.node.peerId.toString();

	// Bob's message names a sealed file no device holds yet: the relay's fetch of it waits.
	const plain = randomBytes(300 * 1024);
	const key = newBlobKey();
	const sealed = await sealBlob(plain, key);
	const { id: blob } = await manifestOf(sealed);
	const ref: AttachmentRef = { blob, size: plain.length, mime: 'application/pdf', name: 'plan.pdf', key };
	new ChannelDoc(bob.docs.get(space)).post({ ...msg(newId(), bob.peerId, at(++clock, bob.peerId), ''), files: [ref] });
	await waitUntil(() => mallory.docs.docs.has(space) && new ChannelDoc(mallory.docs.get(space)).messages.length === 1, 'mallory gets the message');
	// Mallory asks first, then Bob (the author): both are taken while the fetch waits.
	expect(await malloryBlobs.blobs.service.pin(ws.id, relayPeer, space, blob)).toBe(true);
	expect(await bobBlobs.blobs.service.pin(ws.id, relayPeer, space, blob)).toBe(true);
	expect(relay.archive.blobs.pendingPins(ws.id)).toBe(1);

	// Bob's device gets the file; the relay's fetch, tried again, takes it.
	await storeBlob(bobBlobs.store, sealed);
	const index = new SqliteSealedBlobIndex(relayDb());
	await waitUntil(() => index.has(ws.id, blob, space), 'the relay to keep the sealed file', 30_000);
	expect(index.askers(ws.id, blob, space).sort()).toEqual([bob.peerId, mallory.peerId].sort());

	// Mallory unpins: her pin goes, Bob's keeps the file, still served to the space's members.
	expect(await malloryBlobs.blobs.service.unpin(ws.id, relayPeer, space, blob)).toBe(true);
	expect(await new SqliteBlobStore(relayDb(), ws.id).missing(blob)).toEqual([]);
	expect(await fromRelay(ownerBlobs, relay, ws.id, space, blob)).toBeUndefined();
	expect(Buffer.compare(await openBlob((await readBlob(ownerBlobs.store, blob))!, key), plain)).toBe(0);
}, 120_000);

it('keeps a file whose pin was asked again (UNPIN, then PIN) while its first fetch was under way', async () => {
	const { relay, ws, ownerBlobs, bob, bobBlobs, space } = await spaceOnRelay();
	const relayPeer = relay.node.peerId.toString();
	const plain = randomBytes(300 * 1024);
	const key = newBlobKey();
	const { id: blob } = await storeBlob(bobBlobs.store, await sealBlob(plain, key));
	const ref: AttachmentRef = { blob, size: plain.length, mime: 'application/pdf', name: 'plan.pdf', key };
	new ChannelDoc(bob.docs.get(space)).post({ ...msg(newId(), bob.peerId, at(++clock, bob.peerId), ''), files: [ref] });
	// Bob's device holds the relay's first fetch at its chunks until the test lets it go.
	const chunks = bobBlobs.store.chunks.bind(bobBlobs.store);
	let release = () => {};
	const gate = new Promise<void>((resolve) => (release = resolve));
	let asked = false;
	bobBlobs.store.chunks = async (id, indices) => {
		asked = true;
		await gate;
		return chunks(id, indices);
	};
	expect(await bobBlobs.blobs.service.pin(ws.id, relayPeer, space, blob)).toBe(true);
	await waitUntil(() => asked, 'the relay to ask for the chunks');
	// The message is deleted and restored while the fetch waits: UNPIN, then PIN again.
	expect(await bobBlobs.blobs.service.unpin(ws.id, relayPeer, space, blob)).toBe(true);
	expect(await bobBlobs.blobs.service.pin(ws.id, relayPeer, space, blob)).toBe(true);
	release();
	await waitUntil(() => relay.archive.blobs.pendingPins(ws.id) === 0, 'the relay to end its pins', 30_000);
	const index = new SqliteSealedBlobIndex(relayDb());
	expect(index.askers(ws.id, blob, space)).toEqual([bob.peerId]);
	expect(await fromRelay(ownerBlobs, relay, ws.id, space, blob)).toBeUndefined();
	expect(Buffer.compare(await openBlob((await readBlob(ownerBlobs.store, blob))!, key), plain)).toBe(0);
}, 120_000);
