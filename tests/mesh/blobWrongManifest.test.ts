/**
 * A peer that answers a GET with a manifest that is not the blob's (another blob's real
 * manifest, or bytes of the right length that hash to nothing) is caught before anything of it
 * is stored, and the fetch takes the manifest and the chunks from the next peer. Real libp2p
 * nodes; the liar is a raw handler of the protocol, as a modified client would run.
 */
import '../../src/lib/mesh/polyfills.node.js';
import { afterEach, expect, it } from 'vitest';
import { BLOB_PROTOCOL_ID, BlobMessageType, decodeBlobMessage, encodeBlobMessage, MAX_ANSWER_BYTES } from '../../src/lib/blob/blobMessages.js';
import { encodeManifest } from '../../src/lib/blob/blobManifest.js';
import { BlobService, BlobUnavailableError, WrongBytesError } from '../../src/lib/blob/blobService.js';
import { MemoryBlobStore, readBlob, storeBlob } from '../../src/lib/blob/BlobStore.js';
import { handleFrames } from '../../src/lib/mesh/frameStream.js';
import { addressOf, startNode, stopAll } from './helpers.js';
import { randomBytes } from './blobPeers.js';

const WS = 'blobworkspace';
const DOC = 'blobdocument';
const services: BlobService[] = [];

afterEach(async () => {
	for (const service of services.splice(0)) await service.stop().catch(() => undefined);
	await stopAll();
});

async function device() {
	const node = await startNode();
	const store = new MemoryBlobStore();
	const blobs = new BlobService({ node, storeFor: () => store, mayRead: () => true });
	await blobs.start();
	services.push(blobs);
	return { node, peerId: node.peerId.toString(), store, blobs };
}

/** A node that answers every GET with `manifest` and END. */
async function liar(manifest: Uint8Array) {
	const node = await startNode();
	await handleFrames(
		node,
		BLOB_PROTOCOL_ID,
		async (frames) => {
			const first = await frames.read();
			if (first === null || decodeBlobMessage(first).type !== BlobMessageType.get) return;
			await frames.write(encodeBlobMessage({ type: BlobMessageType.manifest, bytes: manifest }));
			await frames.write(encodeBlobMessage({ type: BlobMessageType.end }));
		},
		{ maxFrameBytes: MAX_ANSWER_BYTES, onError: () => undefined }
	);
	return { node, peerId: node.peerId.toString() };
}

it('catches a wrong manifest before storing anything, and takes the blob from the next peer', async () => {
	const [honest, fetcher] = [await device(), await device()];
	const bytes = randomBytes(700_000);
	const real = await storeBlob(honest.store, bytes);
	const other = await storeBlob(new MemoryBlobStore(), randomBytes(700_000));
	// Another blob's genuine manifest, and one of the right shape whose hashes are made up.
	const madeUp = encodeManifest({ size: real.size, chunkBytes: real.chunkBytes, hashes: real.hashes.map(() => randomBytes(32)) });
	const liars = [await liar(encodeManifest(other)), await liar(madeUp)];
	for (const peer of [...liars, honest]) await fetcher.node.dial(addressOf(peer.node));

	await fetcher.blobs.fetch(WS, real.id, [...liars.map((l) => l.peerId), honest.peerId], { docId: DOC });
	expect(Buffer.compare((await readBlob(fetcher.store, real.id))!, bytes)).toBe(0);
	expect(await fetcher.store.manifest(other.id)).toBeUndefined();

	// The liars alone: refused as wrong bytes, and nothing stored.
	const alone = await device();
	for (const l of liars) await alone.node.dial(addressOf(l.node));
	const failed = await alone.blobs.fetch(WS, real.id, liars.map((l) => l.peerId), { docId: DOC }).catch((error: unknown) => error);
	expect(failed).toBeInstanceOf(BlobUnavailableError);
	expect((failed as BlobUnavailableError).failures.map((f) => f.error)).toEqual([expect.any(WrongBytesError), expect.any(WrongBytesError)]);
	expect(await alone.store.manifest(real.id)).toBeUndefined();
	expect(alone.store.bytesHeld).toBe(0);
}, 60_000);
