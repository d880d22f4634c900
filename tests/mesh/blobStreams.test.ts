/**
 * How many blob streams one connection may hold open on a server (blobService.ts
 * `MAX_SERVING_STREAMS`). Found in review: libp2p let a member's connection hold 32 inbound blob
 * streams, each with up to 2 MiB of chunks read for it, by asking and not reading. Now a
 * connection has at most 4 open; more are reset as they open, before anything is read for them,
 * and counted; one that ends frees its place. An honest device fetching several files from one
 * peer at once opens at most 2 streams to it (peerSlots.ts), so none of its streams is refused.
 * Real libp2p nodes (TCP on 127.0.0.1, Noise, Yamux).
 */
import '../../src/lib/mesh/polyfills.node.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { Stream } from '@libp2p/interface';
import { BLOB_PROTOCOL_ID, BlobMessageType, decodeBlobMessage, encodeBlobMessage, MAX_ANSWER_BYTES } from '../../src/lib/blob/blobMessages.js';
import { BlobService, MAX_SERVING_STREAMS, STREAMS_TO_PEER, TooManyStreamsError } from '../../src/lib/blob/blobService.js';
import { MemoryBlobStore, readBlob, storeBlob } from '../../src/lib/blob/BlobStore.js';
import { frameStream } from '../../src/lib/mesh/frameStream.js';
import type { NodeMeshNode } from '../../src/lib/mesh/node.node.js';
import { addressOf, startNode, stopAll, waitFor } from './helpers.js';

const WS = 'streamsworkspace';
const DOC = 'streamsdocument';
const services: BlobService[] = [];

afterEach(async () => {
	for (const service of services.splice(0)) await service.stop().catch(() => undefined);
	await stopAll();
});

function randomBytes(size: number): Uint8Array {
	const bytes = new Uint8Array(size);
	for (let i = 0; i < size; i += 65_536) crypto.getRandomValues(bytes.subarray(i, Math.min(size, i + 65_536)));
	return bytes;
}

/** A device whose blob service serves whatever it holds to anyone (the team's rule is not what is tested here). */
async function device(errors: Error[] = []) {
	const node = await startNode();
	const store = new MemoryBlobStore();
	// A long write deadline: a peer that stops reading keeps its streams for the whole test.
	const blobs = new BlobService({ node, storeFor: (ws) => (ws === WS ? store : undefined), mayRead: () => true, writeTimeoutMs: 120_000, onError: (e) => errors.push(e) });
	await blobs.start();
	services.push(blobs);
	return { node, peerId: node.peerId.toString(), store, blobs };
}

/** Blob streams `server` holds open from `remote`. */
function blobStreams(server: NodeMeshNode, remote: string): Stream[] {
	return server
		.getConnections()
		.filter((c) => c.remotePeer.toString() === remote)
		.flatMap((c) => c.streams)
		.filter((s) => s.protocol === BLOB_PROTOCOL_ID && s.status === 'open');
}

describe('blob streams a connection may hold open', () => {
	it('serves at most 4 blob streams of one connection at once; more are reset as they open, and counted', async () => {
		const errors: Error[] = [];
		const server = await device(errors);
		// 16 chunks (4 MiB): more than a stream's window, so a reader that stops keeps the server's stream busy.
		const { id, hashes } = await storeBlob(server.store, randomBytes(16 * 256 * 1024));
		const member = await startNode();
		await member.dial(addressOf(server.node));
		const get = encodeBlobMessage({ type: BlobMessageType.get, workspaceId: WS, docId: DOC, blobId: id, manifest: true, indices: hashes.map((_, i) => i).slice(0, 8) });

		// Ten streams, each asking for 2 MiB and reading only the first answer.
		const firsts: Array<Promise<number | undefined>> = [];
		const opened: Array<ReturnType<typeof frameStream>> = [];
		for (let i = 0; i < 10; i++) {
			const frames = frameStream(await member.dialProtocol(server.node.peerId, BLOB_PROTOCOL_ID), { maxFrameBytes: MAX_ANSWER_BYTES });
			// A stream past the four may be reset before its GET is even written.
			await frames.write(get).catch(() => undefined);
			opened.push(frames);
			firsts.push(
				frames.read().then(
					(frame) => {
						if (frames.stream.status === 'open') frames.stream.pause(); // and reads no more: its window stays shut
						return frame === null ? undefined : decodeBlobMessage(frame).type;
					},
					() => undefined
				)
			);
		}
		const answers = await Promise.all(firsts);
		// Four got their manifest; the other six were reset before anything was read for them.
		expect(answers.filter((type) => type === BlobMessageType.manifest).length).toBe(MAX_SERVING_STREAMS);
		expect(server.blobs.refusedStreams).toBe(10 - MAX_SERVING_STREAMS);
		expect(blobStreams(server.node, member.peerId.toString()).length).toBe(MAX_SERVING_STREAMS);
		// Told once, not once per stream.
		expect(errors.filter((e) => e instanceof TooManyStreamsError).length).toBe(1);

		// One of the four ends: its place is free for the next stream, and only for one.
		opened[0]!.abort(new Error('done with it'));
		await waitFor(() => blobStreams(server.node, member.peerId.toString()).length === MAX_SERVING_STREAMS - 1, 'the ended stream to close on the server');
		const again = await Promise.all(
			[0, 1].map(async () => {
				const frames = frameStream(await member.dialProtocol(server.node.peerId, BLOB_PROTOCOL_ID), { maxFrameBytes: MAX_ANSWER_BYTES });
				await frames.write(get).catch(() => undefined);
				return frames.read().then(
					(frame) => {
						if (frames.stream.status === 'open') frames.stream.pause();
						return frame === null ? undefined : decodeBlobMessage(frame).type;
					},
					() => undefined
				);
			})
		);
		expect(again.filter((type) => type === BlobMessageType.manifest).length).toBe(1);
		expect(server.blobs.refusedStreams).toBe(10 - MAX_SERVING_STREAMS + 1);
	}, 60_000);

	it('an honest device fetching four files from one peer at once opens at most 2 streams to it: none is refused', async () => {
		const server = await device();
		const client = await device();
		await client.node.dial(addressOf(server.node));
		// 32 chunks each: past the first request, two requests in flight per fetch would be 8 streams.
		const files = [0, 1, 2, 3].map(() => randomBytes(32 * 256 * 1024));
		const ids = await Promise.all(files.map(async (bytes) => (await storeBlob(server.store, bytes)).id));
		let most = 0;
		const watching = setInterval(() => (most = Math.max(most, blobStreams(server.node, client.peerId).length)), 1);
		try {
			await Promise.all(ids.map((id) => client.blobs.fetch(WS, id, [server.peerId], { docId: DOC })));
		} finally {
			clearInterval(watching);
		}
		for (const [i, id] of ids.entries()) expect(Buffer.compare((await readBlob(client.store, id))!, files[i]!)).toBe(0);
		expect(server.blobs.refusedStreams).toBe(0);
		expect(most).toBeLessThanOrEqual(MAX_SERVING_STREAMS);
		expect(STREAMS_TO_PEER * 2).toBeLessThanOrEqual(MAX_SERVING_STREAMS);
	}, 60_000);
});
