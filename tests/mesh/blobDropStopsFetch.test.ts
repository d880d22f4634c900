/**
 * A fetch whose file is dropped while it runs stops asking for chunks once a write is refused
 * (blob/blobService.ts). Found in review of the store's NoManifestError (every chunk write of a
 * dropped blob is refused, and the fetch fails at its end): the fetch's requests went on to the
 * last chunk, so a 16 MiB file dropped after its second write was downloaded whole, each
 * request's chunks hashed and thrown away, before the fetch failed. A drop comes from the
 * budget (another file's admission) or the sweep (a member deleting her post) while a long
 * fetch runs; the same held for any refused write (a full disk). Real libp2p nodes running the
 * workspace core and the blob mesh; the browser's blobs in memory within a budget, as app.ts
 * wires them.
 */
import '../../src/lib/mesh/polyfills.node.js';
import { afterEach, expect, it } from 'vitest';
import { CHUNK_BYTES } from '../../src/lib/blob/blobManifest.js';
import { randomBytes } from './blobPeers.js';
import { imagePost, memoryDevice, onDevice, ownerChannelToBob, postMessage, stamps, startBrowserMesh, stopSweepPeers } from './blobSweepKit.js';
import { waitFor } from './helpers.js';
import { has } from './teamPeers.js';

afterEach(stopSweepPeers);

const stamp = stamps(480_000);

/** Chunks one request asks for, times the requests a fetch runs to one peer at once (blobService.ts). */
const IN_FLIGHT_CHUNKS = 8 * 2;

it('a fetch whose file is dropped mid-way asks for no more chunks than it had asked for already', async () => {
	const { ws, owner, bob, channel, ownerBlobs } = await ownerChannelToBob();
	const device = memoryDevice();
	const store = device.store(ws.id);
	const mesh = await startBrowserMesh(bob, { ...onDevice(device), pins: () => false });
	device.attach({ service: mesh.service, livePeers: (id) => bob.mesh.livePeers(id) });
	const message = await imagePost(owner, ownerBlobs.store, channel, randomBytes(64 * CHUNK_BYTES), 'big.png', stamp);
	postMessage(owner, channel, message);
	await waitFor(() => has(bob, channel, 'big.png'), 'the post reaches bob');
	const ref = message.files![0]!;

	// As its second write comes (a request after the manifest's), the file is dropped (what the
	// budget or the sweep does); the chunks received after it are counted.
	let writes = 0;
	let afterDrop: number | undefined;
	const putChunks = store.putChunks.bind(store);
	store.putChunks = async (id, chunks) => {
		if (id === ref.blob) {
			if (afterDrop !== undefined) afterDrop += chunks.length;
			else if (++writes === 2) {
				await store.drop(id);
				afterDrop = 0;
			}
		}
		return putChunks(id, chunks);
	};

	await expect(device.access(ws.id).fetch(channel, ref, () => {}, new AbortController().signal, 'opened')).rejects.toMatchObject({ name: 'NoManifestError' });
	// Only the requests already under way when the write was refused; not the rest of the file.
	expect(afterDrop).toBeLessThanOrEqual(IN_FLIGHT_CHUNKS);
}, 60_000);
