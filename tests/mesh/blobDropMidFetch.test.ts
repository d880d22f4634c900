/**
 * A half-fetched file that the budget drops while its fetch resumes leaves no chunk behind that
 * no manifest or mark counts (blob/BlobStore.ts: a store refuses chunks of a blob whose manifest
 * it does not hold, NoManifestError). Found by reading: a file admitted long ago (past
 * `STALE_MS`) and not whole may be dropped by the budget or the sweep; a fetch of it resumed
 * meanwhile went on writing each request's chunks, bytes the budget never saw and never dropped
 * again. Real libp2p nodes running the workspace core and the blob mesh, the browser's blobs in
 * IndexedDB (fake-indexeddb) in a budget as app.ts wires them; the pin's first chunk write waits,
 * in the test, for another automatic file's admission, which makes room by dropping this one.
 * And a fetch whose file is dropped after its last write fails with NoManifestError, where it
 * said the file was held (blob/blobService.ts).
 */
import 'fake-indexeddb/auto';
import '../../src/lib/mesh/polyfills.node.js';
import { afterEach, expect, it } from 'vitest';
import { STALE_MS } from '../../src/lib/blob/blobBudget.js';
import { CHUNK_BYTES, chunkOf, manifestOf } from '../../src/lib/blob/blobManifest.js';
import { DeviceBlobs } from '../../src/lib/core/deviceBlobs.js';
import { OutpostDb } from '../../src/lib/store/db.js';
import { IdbBlobStore } from '../../src/lib/store/IdbBlobStore.js';
import { randomBytes } from './blobPeers.js';
import { browserMesh, gone, imagePost, onDevice, ownerChannelToBob, postMessage, stamps, startBrowserMesh, stopSweepPeers, whole } from './blobSweepKit.js';
import { waitFor, waitUntil } from './helpers.js';
import { has } from './teamPeers.js';

afterEach(stopSweepPeers);

const stamp = stamps(470_000);
const MiB = 1024 * 1024;

/** A browser's files kept in `db`, with room for 4 MiB that one sender may take all of. */
const roomFor4MiB = (db: OutpostDb) =>
	new DeviceBlobs((id) => new IdbBlobStore(db, id), { limit: () => 4 * MiB, senderShare: 1, estimate: async () => ({ usage: 0, quota: 100 * MiB }) });

it('a half-fetched file the budget drops while its fetch resumes leaves no chunk that no manifest or mark counts', async () => {
	const { ws, owner, bob, channel, ownerBlobs } = await ownerChannelToBob();
	const db = new OutpostDb('drop-mid-fetch');
	await db.open();
	// Room for the file (3 MiB) or the other one (2 MiB), not both; one sender may take it all.
	const device = roomFor4MiB(db);
	const store = device.store(ws.id);

	// Bob's browser admitted the file eleven minutes ago and holds its first chunk (its tab was closed).
	const bytes = randomBytes(12 * CHUNK_BYTES);
	const manifest = await manifestOf(bytes);
	await store.mark(manifest.id, bytes.byteLength, 'auto');
	await store.putManifest(manifest);
	await store.putChunk(manifest.id, 0, chunkOf(bytes, 0));
	const row = await db.blobManifests.get([ws.id, manifest.id]);
	const aged = { ...row!, at: Date.now() - STALE_MS - 60_000 };
	await db.blobManifests.put(aged);

	// The resumed fetch's first chunk write waits for another automatic file's admission.
	let raced: { admitted: unknown; dropped: boolean } | undefined;
	const putChunks = store.putChunks.bind(store);
	store.putChunks = async (id, chunks) => {
		if (id === manifest.id && raced === undefined) {
			const admitted = await device.budget.admitAuto(store, 'another-file', 2 * MiB);
			raced = { admitted, dropped: await gone(store, manifest.id) };
		}
		return putChunks(id, chunks);
	};

	const { mesh } = await browserMesh(bob, device);
	postMessage(owner, channel, await imagePost(owner, ownerBlobs.store, channel, bytes, 'late.png', stamp));
	await waitUntil(async () => raced !== undefined && mesh.pendingPins(ws.id) === 0, 'the pin ends');
	// The budget dropped the stale half-fetched file to make room, mid-fetch.
	expect(raced).toEqual({ admitted: true, dropped: true });

	// Every chunk the browser holds belongs to a blob whose manifest (and so its mark) is held.
	const manifests = new Set((await db.blobManifests.toArray()).map((row) => row.id));
	const uncounted = (await db.blobChunks.toArray()).filter((row) => !manifests.has(row.id)).map((row) => row.index);
	expect(uncounted).toEqual([]);
	// Nothing of the dropped file is held (the pin's next try finds no room: the other file has it).
	expect(await store.missing(manifest.id)).toBeUndefined();
}, 60_000);

it('a fetch whose file the budget drops after its last chunk write fails: it does not say the file is held', async () => {
	const { ws, owner, bob, channel, ownerBlobs } = await ownerChannelToBob();
	const db = new OutpostDb('drop-after-fetch');
	await db.open();
	const device = roomFor4MiB(db);
	const store = device.store(ws.id);
	// The view's fetch only (no pin).
	const mesh = await startBrowserMesh(bob, { ...onDevice(device), pins: () => false });
	device.attach({ service: mesh.service, livePeers: (id) => bob.mesh.livePeers(id) });
	const message = await imagePost(owner, ownerBlobs.store, channel, randomBytes(12 * CHUNK_BYTES), 'late.png', stamp);
	postMessage(owner, channel, message);
	await waitFor(() => has(bob, channel, 'late.png'), 'the post reaches bob');

	// Once its last chunks are written (a request after the manifest's), another automatic file's
	// admission makes room by dropping it: whole and fetched automatically, it may go.
	let dropped: boolean | undefined;
	const putChunks = store.putChunks.bind(store);
	store.putChunks = async (id, chunks) => {
		await putChunks(id, chunks);
		if (dropped !== undefined || !(await whole(store, id))) return;
		await device.budget.admitAuto(store, 'another-file', 2 * MiB);
		dropped = await gone(store, id);
	};

	const ref = message.files![0]!;
	await expect(device.access(ws.id).fetch(channel, ref, () => {}, new AbortController().signal, 'auto')).rejects.toMatchObject({ name: 'NoManifestError', blobId: ref.blob });
	expect(dropped).toBe(true);
}, 60_000);
