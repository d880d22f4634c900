/**
 * Blobs between real libp2p nodes in one process (TCP on 127.0.0.1, Noise, Yamux): a 50 MB
 * file from one device to another; the same file through a relay that pinned it after its
 * sender left; a peer serving wrong bytes caught and another used; a device the team does not
 * let read a blob refused, and a stranger too; a fetch cut off half-way resumed with only what
 * was missing; a peer repeating a chunk cut off; a blob fetched from several peers at once.
 * What a peer can make a server hold: a GET naming a chunk twice is malformed; a request's
 * chunks are read a few at a time as they are sent, and a peer that stops taking them is reset
 * after the write deadline; a stream that says nothing is reset after the request deadline;
 * a stranger's unread GET bytes count in the node's unproven budget. What a fetch takes: its
 * `admit` judges the manifest before anything is stored (a refusal ends the fetch, a joined
 * fetch is judged by its own); a peer that takes a GET and sends nothing is dropped after the
 * idle time and its chunks go to the others. (Deadlines are shortened.)
 */
import '../../src/lib/mesh/polyfills.node.js';
import { afterEach, describe, expect, it } from 'vitest';
import { chunkOf } from '../../src/lib/blob/blobManifest.js';
import type { Stream } from '@libp2p/interface';
import {
	BLOB_PROTOCOL_ID,
	BlobDenied,
	BlobMessageType,
	decodeBlobMessage,
	encodeBlobMessage,
	MalformedBlobMessageError,
	MAX_ANSWER_BYTES
} from '../../src/lib/blob/blobMessages.js';
import { encodeManifest } from '../../src/lib/blob/blobManifest.js';
import { frameStream, handleFrames } from '../../src/lib/mesh/frameStream.js';
import { UnprovenBudget } from '../../src/lib/mesh/unprovenBudget.js';
import {
	BlobDeniedError,
	BlobRefusedError,
	BlobService,
	BlobUnavailableError,
	SERVE_BATCH,
	WrongBytesError,
	type BlobServiceInit
} from '../../src/lib/blob/blobService.js';
import { MemoryBlobStore, readBlob, storeBlob } from '../../src/lib/blob/BlobStore.js';
import type { NodeMeshNode } from '../../src/lib/mesh/node.node.js';
import { addressOf, startNode, stopAll, varint, waitFor } from './helpers.js';

const WS = 'blobworkspace';
const DOC = 'blobdocument';
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

/**
 * A device: a node, its blob store, and a blob service that lets read whom `readers` names
 * (everyone when absent); `more`: further options of the service (deadlines, a budget).
 */
async function device(
	readers?: () => Set<string>,
	more: Pick<BlobServiceInit, 'onError' | 'unproven' | 'requestTimeoutMs' | 'writeTimeoutMs' | 'idleTimeoutMs'> = {}
): Promise<{ node: NodeMeshNode; peerId: string; store: MemoryBlobStore; blobs: BlobService }> {
	const node = await startNode();
	const store = new MemoryBlobStore();
	const blobs = new BlobService({ node, storeFor: (ws) => (ws === WS ? store : undefined), mayRead: (_ws, peer) => readers?.().has(peer) ?? true, ...more });
	await blobs.start();
	services.push(blobs);
	return { node, peerId: node.peerId.toString(), store, blobs };
}

describe('blobs on the mesh', () => {
	it('carries a 50 MB file from one device to another, every chunk checked', async () => {
		const [a, b] = [await device(), await device()];
		await b.node.dial(addressOf(a.node));
		const bytes = randomBytes(50 * 1024 * 1024);
		const { id, size } = await storeBlob(a.store, bytes);
		const progress: number[] = [];
		const t0 = performance.now();
		await b.blobs.fetch(WS, id, [a.peerId], { docId: DOC, onProgress: (held) => progress.push(held) });
		const ms = performance.now() - t0;
		console.info(`50 MB blob over TCP + Noise + Yamux in one process: ${ms.toFixed(0)} ms (${(50 / (ms / 1000)).toFixed(1)} MB/s)`);
		// (Buffer.compare: a deep equality of 50 MB arrays takes vitest minutes.)
		expect(Buffer.compare((await readBlob(b.store, id))!, bytes)).toBe(0);
		expect(progress.at(-1)).toBe(size);
		expect(progress.every((held, i) => i === 0 || held > progress[i - 1]!)).toBe(true);
	}, 120_000);

	it('reaches a device through the relay once its sender has left', async () => {
		const [sender, relay, late] = [await device(), await device(), await device()];
		await relay.node.dial(addressOf(sender.node));
		const bytes = randomBytes(3 * 1024 * 1024 + 123);
		const { id } = await storeBlob(sender.store, bytes);
		await relay.blobs.fetch(WS, id, [sender.peerId], { docId: DOC }); // the relay pins it
		await sender.node.stop();
		await late.node.dial(addressOf(relay.node));
		await late.blobs.fetch(WS, id, [sender.peerId, relay.peerId], { docId: DOC });
		expect(Buffer.compare((await readBlob(late.store, id))!, bytes)).toBe(0);
	}, 60_000);

	it('fetches from several peers at once, and from each the chunks it has', async () => {
		const [a, c, partial, b] = [await device(), await device(), await device(), await device()];
		const bytes = randomBytes(12 * 1024 * 1024);
		const manifest = await storeBlob(a.store, bytes);
		await storeBlob(c.store, bytes);
		// One peer holds every other chunk only.
		await partial.store.putManifest(manifest);
		for (let i = 0; i < manifest.hashes.length; i += 2) await partial.store.putChunk(manifest.id, i, chunkOf(bytes, i));
		const served = new Map<string, number>();
		for (const [name, peer] of [['a', a], ['c', c], ['partial', partial]] as const) {
			const read = peer.store.chunks.bind(peer.store);
			peer.store.chunks = async (id, indices) => {
				const chunks = await read(id, indices);
				served.set(name, (served.get(name) ?? 0) + chunks.filter((c) => c !== undefined).length);
				return chunks;
			};
		}
		for (const peer of [a, c, partial]) await b.node.dial(addressOf(peer.node));
		await b.blobs.fetch(WS, manifest.id, [partial.peerId, a.peerId, c.peerId], { docId: DOC });
		expect(Buffer.compare((await readBlob(b.store, manifest.id))!, bytes)).toBe(0);
		// Each peer gave a share; no chunk was stored twice (48 chunks, 48 served).
		expect(served.get('a')).toBeGreaterThan(0);
		expect(served.get('c')).toBeGreaterThan(0);
		expect(served.get('partial')).toBeGreaterThan(0);
		expect([...served.values()].reduce((x, y) => x + y)).toBe(manifest.hashes.length);
	}, 60_000);

	it('a second fetch of a blob joins the first, and tries on its own when the first fails', async () => {
		const [holder, empty, b] = [await device(), await device(), await device()];
		const bytes = randomBytes(3 * 1024 * 1024);
		const { id } = await storeBlob(holder.store, bytes);
		for (const peer of [holder, empty]) await b.node.dial(addressOf(peer.node));
		let served = 0;
		const chunks = holder.store.chunks.bind(holder.store);
		holder.store.chunks = async (blobId, indices) => {
			served += indices.length;
			return chunks(blobId, indices);
		};
		// Two at once from the one that holds it: one transfer.
		const [one, two] = await Promise.all([b.blobs.fetch(WS, id, [holder.peerId], { docId: DOC }), b.blobs.fetch(WS, id, [holder.peerId], { docId: DOC })]);
		expect(one.id).toBe(id);
		expect(two.id).toBe(id);
		expect(served).toBe(12);
		// The first asks only a peer without it; the second, joining it, still gets the blob from the holder.
		const c = await device();
		for (const peer of [holder, empty]) await c.node.dial(addressOf(peer.node));
		const failing = c.blobs.fetch(WS, id, [empty.peerId], { docId: DOC });
		const joining = c.blobs.fetch(WS, id, [holder.peerId], { docId: DOC });
		await expect(failing).rejects.toBeInstanceOf(BlobUnavailableError);
		expect((await joining).id).toBe(id);
		expect(Buffer.compare((await readBlob(c.store, id))!, bytes)).toBe(0);
	}, 60_000);

	it('catches a peer serving wrong bytes and takes the blob from another', async () => {
		const [honest, liar, b] = [await device(), await device(), await device()];
		const bytes = randomBytes(1024 * 1024);
		const manifest = await storeBlob(honest.store, bytes);
		// The liar holds the manifest and a chunk that is not the blob's.
		await liar.store.putManifest(manifest);
		const wrong = chunkOf(bytes, 1).slice();
		wrong[100]! ^= 0xff;
		for (let i = 0; i < manifest.hashes.length; i++) await liar.store.putChunk(manifest.id, i, i === 1 ? wrong : chunkOf(bytes, i));
		await b.node.dial(addressOf(liar.node));
		await b.node.dial(addressOf(honest.node));
		await b.blobs.fetch(WS, manifest.id, [liar.peerId, honest.peerId], { docId: DOC });
		expect(Buffer.compare((await readBlob(b.store, manifest.id))!, bytes)).toBe(0);
		// Only the liar alone: refused, and what it sent wrong was never stored.
		const c = await device();
		await c.node.dial(addressOf(liar.node));
		const failed = await c.blobs.fetch(WS, manifest.id, [liar.peerId], { docId: DOC }).catch((error: unknown) => error);
		expect(failed).toBeInstanceOf(BlobUnavailableError);
		expect((failed as BlobUnavailableError).failures[0]!.error).toBeInstanceOf(WrongBytesError);
		expect(await c.store.chunk(manifest.id, 1)).toBeUndefined();
	}, 60_000);

	it('refuses a device the team does not let read the blob, and a stranger', async () => {
		const readers = new Set<string>();
		const owner = await device(() => readers);
		const [member, stranger] = [await device(), await device()];
		const { id } = await storeBlob(owner.store, randomBytes(300_000));
		for (const peer of [member, stranger]) await peer.node.dial(addressOf(owner.node));
		readers.add(member.peerId);
		await member.blobs.fetch(WS, id, [owner.peerId], { docId: DOC });
		const refused = await stranger.blobs.fetch(WS, id, [owner.peerId], { docId: DOC }).catch((error: unknown) => error);
		expect(refused).toBeInstanceOf(BlobUnavailableError);
		const cause = (refused as BlobUnavailableError).failures[0]!.error;
		expect(cause).toBeInstanceOf(BlobDeniedError);
		expect((cause as BlobDeniedError).reason).toBe(BlobDenied.notAllowed);
		expect(await stranger.store.manifest(id)).toBeUndefined(); // not even the manifest
		// Removed from the readers (a member removed from the channel): nothing more.
		readers.delete(member.peerId);
		const { id: later } = await storeBlob(owner.store, randomBytes(1000));
		await expect(member.blobs.fetch(WS, later, [owner.peerId], { docId: DOC })).rejects.toBeInstanceOf(BlobUnavailableError);
	}, 60_000);

	it('resumes a fetch that broke off, asking only for what is missing', async () => {
		const [a, b] = [await device(), await device()];
		await b.node.dial(addressOf(a.node));
		const bytes = randomBytes(8 * 1024 * 1024);
		const { id, hashes } = await storeBlob(a.store, bytes);
		const served: number[] = [];
		const chunks = a.store.chunks.bind(a.store);
		a.store.chunks = (blobId, indices) => {
			served.push(...indices);
			return chunks(blobId, indices);
		};
		const stop = new AbortController();
		const first = await b.blobs
			.fetch(WS, id, [a.peerId], { docId: DOC, signal: stop.signal, onProgress: (held) => held >= 3 * 1024 * 1024 && stop.abort(new Error('the connection broke')) })
			.catch((error: unknown) => error);
		expect(first).toBeInstanceOf(Error);
		const held = hashes.length - (await b.store.missing(id))!.length;
		expect(held).toBeGreaterThanOrEqual(12);
		expect(held).toBeLessThan(hashes.length);
		served.length = 0;
		await b.blobs.fetch(WS, id, [a.peerId], { docId: DOC });
		expect(Buffer.compare((await readBlob(b.store, id))!, bytes)).toBe(0);
		// The second fetch asked for the chunks the first did not store, not for those it did.
		expect(new Set(served).size).toBe(hashes.length - held);
	}, 60_000);

	it('cuts off a peer that sends one chunk again and again', async () => {
		const b = await device();
		const bytes = randomBytes(600_000);
		const reference = new MemoryBlobStore();
		const manifest = await storeBlob(reference, bytes);
		// A modified peer: answers every GET with the manifest and chunk 0, for ever.
		const hostile = await startNode();
		let sent = 0;
		await handleFrames(
			hostile,
			BLOB_PROTOCOL_ID,
			async (frames) => {
				await frames.read();
				await frames.write(encodeBlobMessage({ type: BlobMessageType.manifest, bytes: encodeManifest(manifest) }));
				// Paced, so that the fetcher reads each one (a flood would overflow its read buffer first, also a failure).
				for (let i = 0; i < 1000; i++, sent++) {
					await frames.write(encodeBlobMessage({ type: BlobMessageType.chunk, index: 0, bytes: chunkOf(bytes, 0) }));
					await new Promise((resolve) => setTimeout(resolve, 5));
				}
			},
			{ maxFrameBytes: MAX_ANSWER_BYTES, onError: () => {} }
		);
		await b.node.dial(addressOf(hostile));
		const failed = await b.blobs.fetch(WS, manifest.id, [hostile.peerId.toString()], { docId: DOC }).catch((error: unknown) => error);
		expect(failed).toBeInstanceOf(BlobUnavailableError);
		expect((failed as BlobUnavailableError).failures[0]!.error).toBeInstanceOf(WrongBytesError);
		expect(sent).toBeLessThan(1000);
		expect(await b.store.missing(manifest.id)).toEqual([1, 2]); // chunk 0 once, checked and kept
	}, 60_000);
});

/** `server`'s blob streams with `remote` that are still open. */
function blobStreams(server: NodeMeshNode, remote: string): Stream[] {
	return server
		.getConnections()
		.filter((c) => c.remotePeer.toString() === remote)
		.flatMap((c) => c.streams)
		.filter((s) => s.protocol === BLOB_PROTOCOL_ID && s.status === 'open');
}

describe('what a peer can make a blob server hold', () => {
	it('refuses a GET that names a chunk twice: no chunk is sent, the stream is reset', async () => {
		const errors: Error[] = [];
		const server = await device(undefined, { onError: (error) => errors.push(error) });
		const asker = await startNode();
		await asker.dial(addressOf(server.node));
		const { id } = await storeBlob(server.store, randomBytes(600_000));
		const get = encodeBlobMessage({ type: BlobMessageType.get, workspaceId: WS, docId: DOC, blobId: id, manifest: false, indices: [0, 1, 0] });
		expect(() => decodeBlobMessage(get)).toThrow(MalformedBlobMessageError);

		const frames = frameStream(await asker.dialProtocol(server.node.peerId, BLOB_PROTOCOL_ID), { maxFrameBytes: MAX_ANSWER_BYTES });
		await frames.write(get);
		const answers: number[] = [];
		await (async () => {
			for await (const frame of frames) answers.push(decodeBlobMessage(frame).type);
		})().catch(() => undefined);
		expect(answers).toEqual([]);
		await waitFor(() => errors.length > 0, 'the server to report the GET');
		expect(errors[0]).toBeInstanceOf(MalformedBlobMessageError);
	}, 60_000);

	it('reads a request’s chunks a few at a time as it sends them, and resets a peer that stops taking them', async () => {
		const errors: Error[] = [];
		const server = await device(undefined, { writeTimeoutMs: 300, onError: (error) => errors.push(error) });
		const bytes = randomBytes(16 * 256 * 1024);
		const { id, hashes } = await storeBlob(server.store, bytes);
		const reads: number[][] = [];
		const chunks = server.store.chunks.bind(server.store);
		server.store.chunks = (blobId, indices) => {
			reads.push([...indices]);
			return chunks(blobId, indices);
		};
		// An honest fetch: every chunk, each read with at most a batch of others.
		const honest = await device();
		await honest.node.dial(addressOf(server.node));
		await honest.blobs.fetch(WS, id, [server.peerId], { docId: DOC });
		expect(Buffer.compare((await readBlob(honest.store, id))!, bytes)).toBe(0);
		expect(reads.flat().sort((x, y) => x - y)).toEqual(hashes.map((_, i) => i));
		expect(Math.max(...reads.map((r) => r.length))).toBeLessThanOrEqual(SERVE_BATCH);

		// A peer that asks for all 16 chunks (4 MiB) and stops reading (its window stays shut).
		reads.length = 0;
		const stalled = await startNode();
		await stalled.dial(addressOf(server.node));
		const stream = await stalled.dialProtocol(server.node.peerId, BLOB_PROTOCOL_ID);
		const frames = frameStream(stream, { maxFrameBytes: MAX_ANSWER_BYTES });
		await frames.write(encodeBlobMessage({ type: BlobMessageType.get, workspaceId: WS, docId: DOC, blobId: id, manifest: false, indices: hashes.map((_, i) => i) }));
		stream.pause();
		await waitFor(() => errors.some((e) => e.name === 'SlowPeerError'), 'the server to give up on the stalled peer');
		await waitFor(() => blobStreams(server.node, stalled.peerId.toString()).length === 0, 'the stalled stream to be reset');
		// What it read for that peer: the batch it was sending and the next one, not the whole request.
		expect(reads.flat().length).toBeLessThanOrEqual(2 * SERVE_BATCH);
		expect(reads.flat().length).toBeLessThan(hashes.length);
	}, 60_000);

	it('resets a stream whose peer says nothing', async () => {
		const errors: Error[] = [];
		const server = await device(undefined, { requestTimeoutMs: 300, onError: (error) => errors.push(error) });
		const stranger = await startNode();
		await stranger.dial(addressOf(server.node));
		await stranger.dialProtocol(server.node.peerId, BLOB_PROTOCOL_ID);
		await waitFor(() => blobStreams(server.node, stranger.peerId.toString()).length === 1, 'the stranger’s stream to be open');
		await waitFor(() => blobStreams(server.node, stranger.peerId.toString()).length === 0, 'the silent stream to be reset');
		expect(errors.length).toBe(1);
	}, 60_000);

	it('counts a stranger’s unread GET bytes in the node’s unproven budget, and gives them back', async () => {
		const budget = new UnprovenBudget({ connectionBytes: 2 * 1024 });
		const server = await device(undefined, { unproven: budget, onError: () => {} });
		const stranger = await startNode();
		await stranger.dial(addressOf(server.node));
		// Four GETs of 1,000 bytes (the blob streams a connection may hold at once), each left one byte short: two fit in the connection's 2 KiB.
		const frame = 1000;
		for (let i = 0; i < 4; i++) {
			const stream = await stranger.dialProtocol(server.node.peerId, BLOB_PROTOCOL_ID);
			stream.send(Uint8Array.from([...varint(frame), ...new Uint8Array(frame - 1)]));
		}
		await waitFor(() => budget.refusals >= 4 - Math.floor(2048 / (frame + 2)), 'the streams over the budget to be refused');
		expect(budget.heldBytes).toBeLessThanOrEqual(2048);
		expect(blobStreams(server.node, stranger.peerId.toString()).length).toBeLessThanOrEqual(2);
		await stranger.stop();
		await waitFor(() => budget.heldBytes === 0, 'the budget to be given back');
	}, 60_000);

	it('judges the manifest with the fetch’s admit before storing anything: a refusal ends the fetch, and a joined fetch is judged by its own', async () => {
		const b = await device();
		// A second holder that is never asked once the first manifest was refused (every peer sends the same one).
		let otherAsked = 0;
		const [holder, other] = [await device(), await device(() => (otherAsked++, new Set([b.peerId])))];
		const bytes = randomBytes(3 * 1024 * 1024);
		const { id } = await storeBlob(holder.store, bytes);
		await storeBlob(other.store, bytes);
		for (const peer of [holder, other]) await b.node.dial(addressOf(peer.node));
		const claimed = (m: { size: number }) => m.size === 1000 || 'the file is not the size its reference says';
		const refused = await b.blobs.fetch(WS, id, [holder.peerId, other.peerId], { docId: DOC, admit: claimed }).catch((error: unknown) => error);
		expect(refused).toBeInstanceOf(BlobRefusedError);
		expect((refused as Error).message).toContain('not the size its reference says');
		expect(await b.store.manifest(id)).toBeUndefined();
		expect(b.store.bytesHeld).toBe(0);
		expect(otherAsked).toBe(0);
		// The same blob, admitted: fetched (the positive control).
		const [taken, joined] = await Promise.allSettled([
			b.blobs.fetch(WS, id, [holder.peerId], { docId: DOC, admit: (m) => m.size === bytes.length || 'no' }),
			b.blobs.fetch(WS, id, [holder.peerId], { docId: DOC, admit: claimed })
		]);
		expect(taken.status).toBe('fulfilled');
		expect(joined.status === 'rejected' && joined.reason).toBeInstanceOf(BlobRefusedError);
		expect(Buffer.compare((await readBlob(b.store, id))!, bytes)).toBe(0);
		// A manifest held already is judged too.
		await expect(b.blobs.fetch(WS, id, [holder.peerId], { docId: DOC, admit: claimed })).rejects.toBeInstanceOf(BlobRefusedError);
	}, 60_000);

	it('drops a peer that takes a GET and sends nothing, and gives its chunks to the others', async () => {
		const [holder, b, c] = [await device(), await device(undefined, { idleTimeoutMs: 500 }), await device(undefined, { idleTimeoutMs: 500 })];
		// A modified client: reads the GET, then holds the stream open and sends nothing.
		const silent = await startNode();
		let stalled = 0;
		await handleFrames(
			silent,
			BLOB_PROTOCOL_ID,
			async (frames) => {
				await frames.read();
				stalled++;
				await new Promise((resolve) => frames.stream.addEventListener('close', resolve, { once: true }));
			},
			{ runOnLimitedConnection: true, onError: () => undefined }
		);
		// 48 chunks: 8 come with the manifest, and each of the four requests that follow takes 8.
		const bytes = randomBytes(12 * 1024 * 1024);
		const { id } = await storeBlob(holder.store, bytes);
		const within = (fetching: Promise<unknown>) =>
			Promise.race([
				fetching.then(() => 'fetched', (error: Error) => error.name),
				new Promise<string>((resolve) => setTimeout(() => resolve('still waiting after 15 s'), 15_000))
			]);
		// The manifest from the holder; the silent peer takes two requests of chunks beside it.
		for (const peer of [holder.node, silent]) await b.node.dial(addressOf(peer));
		expect(await within(b.blobs.fetch(WS, id, [holder.peerId, silent.peerId.toString()], { docId: DOC }))).toBe('fetched');
		expect(stalled).toBe(2);
		expect(Buffer.compare((await readBlob(b.store, id))!, bytes)).toBe(0);
		// The silent peer first: asked for the manifest, it is dropped and the holder asked.
		for (const peer of [holder.node, silent]) await c.node.dial(addressOf(peer));
		expect(await within(c.blobs.fetch(WS, id, [silent.peerId.toString(), holder.peerId], { docId: DOC }))).toBe('fetched');
		expect(stalled).toBe(3);
	}, 60_000);
});
