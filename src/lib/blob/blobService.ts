/**
 * Blobs over the mesh (`/outpost/blob/1`, PROTOCOL.md "Blobs"): serves the chunks a replica
 * holds to peers the workspace's team lets read them, and fetches a blob from peers that have
 * it, checking every chunk against the manifest its id proves before storing it.
 *
 * - **Serving**: a stream carries one GET. The server reads it under a small frame bound (a
 *   stranger can make it hold 1 KiB, counted in the node's unproven budget) within
 *   `requestTimeoutMs`, asks `mayRead` with the connection's authenticated peer id, and answers
 *   DENIED, or the manifest when asked, a CHUNK for each requested chunk it holds, and END. It
 *   reads the chunks {@link SERVE_BATCH} at a time, the next batch while the current one is
 *   sent, so a stream holds a few chunks, not the request's 64. Each frame waits for the
 *   transport to take what was sent before it, at most `writeTimeoutMs`: a peer whose window
 *   stays shut has its stream reset ({@link SlowPeerError}), as sync drops a slow peer. One
 *   connection has at most {@link MAX_SERVING_STREAMS} blob streams open here at once; more are
 *   reset as they open ({@link TooManyStreamsError}), and a fetcher opens at most
 *   {@link STREAMS_TO_PEER} to one peer over all its fetches.
 * - **Fetching**: the manifest from the first peer that has it, then the missing chunks from
 *   every peer at once, 8 chunks a request, two requests in flight per peer. A manifest that
 *   does not hash to the blob's id, or a chunk that does not hash to its manifest entry, marks
 *   that peer as serving wrong bytes; the others take over its chunks. A request's verified
 *   chunks are stored together when it ends (or breaks off), so a broken connection loses
 *   nothing verified: the next request asks only for what is still missing. Two fetches of
 *   one blob at once (the view and the pinning) are one: the second joins the first.
 * - **What a fetch takes**: the caller's `admit` sees the manifest (proved by the id) before
 *   anything of it is stored, and may refuse it (a size its reference does not say, no room
 *   in a quota): the fetch then ends at once with {@link BlobRefusedError}, as every peer
 *   would send the same manifest. A peer that goes silent, once dialled, for
 *   {@link FRAME_IDLE_MS} between two frames is dropped like one that breaks its stream
 *   ({@link BlobStalledError}), and its chunks go to the others: a peer that takes a GET and
 *   sends nothing cannot hold a fetch forever.
 */
import type { Connection, Libp2p } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import type { Uint8ArrayList } from 'uint8arraylist';
import { DEFAULT_LIMITS } from '../mesh/constants.js';
import { frameStream, handleFrames, type FrameStream } from '../mesh/frameStream.js';
import { closeGracefully } from '../mesh/syncStream.js';
import { SlowPeerError } from '../mesh/transportErrors.js';
import { UnprovenBudget } from '../mesh/unprovenBudget.js';
import { BadManifestError, chunkLength, decodeManifest, encodeManifest, verifyChunk, type BlobManifest } from './blobManifest.js';
import {
	BLOB_PROTOCOL_ID,
	BlobDenied,
	BlobMessageType,
	decodeBlobFrame,
	decodeBlobMessage,
	encodeBlobMessage,
	encodeChunk,
	MAX_ANSWER_BYTES,
	MAX_REQUEST_BYTES,
	type BlobMessage
} from './blobMessages.js';
import type { BlobStore } from './BlobStore.js';
import { BlobRefusedError, NoManifestError } from './blobErrors.js';
import { ChunkBuffers } from './chunkBuffers.js';
import { PeerSlots } from './peerSlots.js';

export { BlobRefusedError, NoManifestError };

/** What a serving stream accepts from its peer: one GET, PIN or UNPIN (a stranger can make it hold 2 KiB). */
const OWN_BOUND = { maxFrameBytes: MAX_REQUEST_BYTES, maxUnreadBytes: 2 * MAX_REQUEST_BYTES };

/**
 * Chunks asked for in one GET (2 MiB): what the peer may push before it is read stays under
 * the stream's read buffer (libp2p's yamux aborts a stream holding 4 MiB unread).
 */
const CHUNKS_PER_REQUEST = 8;

/**
 * Chunks a server reads from its store at once (1 MiB, one transaction): the next batch is read
 * while this one is sent, so a stream holds at most two batches.
 */
export const SERVE_BATCH = 4;

/** Requests under way to one peer at once: the next one is asked while the last chunks of one arrive. */
const STREAMS_PER_PEER = 2;

/**
 * Blob streams one connection may have open here at once, serving or closing (4 × 2 MiB read
 * ahead at most); more are reset as they open ({@link TooManyStreamsError}) and counted
 * ({@link BlobService.refusedStreams}). Found in review: libp2p let a member hold 32 per
 * connection, each with 2 MiB of chunks read for it, by not reading them. An honest device opens
 * at most {@link STREAMS_TO_PEER} to one peer over all its fetches and pins: half of this, as a
 * stream it has ended may still count here until its end arrives.
 */
export const MAX_SERVING_STREAMS = 4;

/** Blob streams this node opens to one peer at once, over all its fetches and pins (peerSlots.ts). */
export const STREAMS_TO_PEER = MAX_SERVING_STREAMS / 2;

/** Requests' chunk writes a fetch lets run behind its transfers (each one request's 2 MiB at most). */
const MAX_PENDING_WRITES = 4;

/**
 * Milliseconds a fetch waits for a peer's next frame (and for the dial) before it drops that
 * peer ({@link BlobStalledError}). A chunk is 256 KiB: this is a link slower than 20 KiB/s,
 * or a peer that took the GET and sends nothing.
 */
export const FRAME_IDLE_MS = 15_000;

/** A peer sent bytes that are not the blob (a chunk or a manifest whose hash does not match). */
export class WrongBytesError extends Error {
	override name = 'WrongBytesError';
}


/** A peer sent nothing for the idle time (once dialled, between two frames): it is dropped and its chunks go to the others. */
export class BlobStalledError extends Error {
	override name = 'BlobStalledError';
}

/** A connection opened a blob stream while it had {@link MAX_SERVING_STREAMS} open here: reset as it opens. */
export class TooManyStreamsError extends Error {
	override name = 'TooManyStreamsError';
}

/** A peer refused to serve the blob (not allowed, or it does not hold it). */
export class BlobDeniedError extends Error {
	override name = 'BlobDeniedError';
	constructor(readonly reason: BlobDenied) {
		super(reason === BlobDenied.notAllowed ? 'the peer does not let this device read the blob' : 'the peer does not hold the blob');
	}
}

/** No peer could give the whole blob; `failures` says what each one did. */
export class BlobUnavailableError extends Error {
	override name = 'BlobUnavailableError';
	constructor(
		readonly failures: Array<{ peer: string; error: Error }>,
		readonly missing: number
	) {
		super(`the blob could not be fetched: ${missing} chunks missing`);
	}
}

/** Options of {@link BlobService}. */
export interface BlobServiceInit {
	node: Pick<Libp2p, 'handle' | 'unhandle' | 'dialProtocol'>;
	/** The blob store of workspace `workspaceId`, when this replica keeps that workspace. */
	storeFor(workspaceId: string): BlobStore | undefined;
	/**
	 * Whether device `peerId` may read blob `blobId` of the workspace, which it says document
	 * `docId` references (the team decides who may read the document; the document must name the
	 * blob). `held` reads the manifest this replica holds (once, whoever asks first: the serving
	 * uses it too), for a rule that compares it with the reference.
	 */
	mayRead(workspaceId: string, peerId: string, blobId: string, docId: string, held: () => Promise<BlobManifest | undefined>): boolean | Promise<boolean>;
	/**
	 * Asked for a PIN: whether this replica takes blob `blobId` of document `docId`, which
	 * device `peerId` asks it to keep (it then fetches it on its own); absent: refused.
	 */
	onPin?(workspaceId: string, peerId: string, blobId: string, docId: string): boolean | Promise<boolean>;
	/**
	 * Asked for an UNPIN: whether device `peerId` may have this replica drop the sealed blob
	 * `blobId` it keeps for document `docId` (it then drops it, or already does not keep it);
	 * absent: refused.
	 */
	onUnpin?(workspaceId: string, peerId: string, blobId: string, docId: string): boolean | Promise<boolean>;
	/** Told about streams that failed on the serving side. */
	onError?: (error: Error) => void;
	/**
	 * What peers that have proved nothing yet may make this node hold (`MeshService.unproven`,
	 * shared with sync and models); default: a budget of the service's own.
	 */
	unproven?: UnprovenBudget;
	/** Milliseconds a peer has, once it opened a stream, to send its GET or PIN; default the membership time (10 s). */
	requestTimeoutMs?: number;
	/**
	 * Milliseconds one answer frame may wait for the peer's window (and the last ones for the
	 * peer to take them and close) before the stream is reset; default the sync drain wait (30 s).
	 */
	writeTimeoutMs?: number;
	/** Milliseconds a fetch waits for a peer's next frame before it drops that peer; default {@link FRAME_IDLE_MS}. */
	idleTimeoutMs?: number;
}

/** Progress of a fetch: bytes of the blob held, of its size. */
export type BlobProgress = (held: number, size: number) => void;

/** Options of {@link BlobService.fetch}. */
export interface FetchOptions {
	/** The document that references the blob (the server checks that the fetcher may read it). */
	docId: string;
	onProgress?: BlobProgress;
	signal?: AbortSignal;
	/**
	 * Judges the blob's manifest (its id proves it) before anything of it is stored, and the one
	 * already held before a chunk is asked for: true takes it, a string is why not (the fetch
	 * then fails with {@link BlobRefusedError}). Callers check it against the reference
	 * (blobAdmission.ts), whose size is only the sender's claim, and against their quota. A
	 * {@link BlobRefusedError} of the caller's (a budget's: blobBudget.ts) is thrown as it is.
	 */
	admit?(manifest: BlobManifest): Admission | Promise<Admission>;
}

/** What `FetchOptions.admit` answers: true takes the manifest; a reason, or a refusal of the caller's, refuses it. */
export type Admission = true | string | BlobRefusedError;

/** Throws {@link BlobRefusedError} unless `options.admit` (when given) takes `manifest`. */
async function admitted(manifest: BlobManifest, options: Pick<FetchOptions, 'admit'>): Promise<BlobManifest> {
	const verdict = options.admit === undefined ? true : await options.admit(manifest);
	if (verdict instanceof BlobRefusedError) throw verdict;
	if (verdict !== true) throw new BlobRefusedError(manifest.id, verdict);
	return manifest;
}

export class BlobService {
	/** Fetches under way, by workspace and blob: a second fetch of the same blob joins the first. */
	private readonly inFlight = new Map<string, { done: Promise<BlobManifest>; listeners: Set<BlobProgress> }>();

	private readonly unproven: UnprovenBudget;
	private readonly requestTimeoutMs: number;
	private readonly writeTimeoutMs: number;
	private readonly idleTimeoutMs: number;
	/** Blob streams open here, per connection id, and whether a refusal of one was told. */
	private readonly serving = new Map<string, { open: number; told: boolean }>();
	/** This node's streams open to each peer (fetches and pins). */
	private readonly slots = new PeerSlots(STREAMS_TO_PEER);
	private refused = 0;

	constructor(private readonly init: BlobServiceInit) {
		this.unproven = init.unproven ?? new UnprovenBudget();
		this.requestTimeoutMs = init.requestTimeoutMs ?? DEFAULT_LIMITS.membershipTimeoutMs;
		this.writeTimeoutMs = init.writeTimeoutMs ?? DEFAULT_LIMITS.syncStallTimeoutMs;
		this.idleTimeoutMs = init.idleTimeoutMs ?? FRAME_IDLE_MS;
	}

	async start(): Promise<void> {
		await handleFrames(this.init.node, BLOB_PROTOCOL_ID, (frames, connection) => this.accept(frames, connection), {
			maxFrameBytes: MAX_ANSWER_BYTES,
			// What a peer may send: one small GET, held in the node's unproven budget until the team's rule accepts it.
			budget: (connection) => this.unproven.forStream(connection.id, OWN_BOUND),
			runOnLimitedConnection: true,
			onError: (error) => this.init.onError?.(error)
		});
	}

	async stop(): Promise<void> {
		await this.init.node.unhandle(BLOB_PROTOCOL_ID);
	}

	/** Blob streams reset as they opened, their connection having {@link MAX_SERVING_STREAMS} open already. */
	get refusedStreams(): number {
		return this.refused;
	}

	/**
	 * Serves the stream unless its connection has {@link MAX_SERVING_STREAMS} open here: then it is
	 * reset before anything is read (and counted, and told once while that connection holds some).
	 * A stream counts until it is closed or reset, whatever the handler does with it.
	 */
	private async accept(frames: FrameStream, connection: Connection): Promise<void> {
		let held = this.serving.get(connection.id);
		if (held === undefined) this.serving.set(connection.id, (held = { open: 0, told: false }));
		if (held.open >= MAX_SERVING_STREAMS) {
			this.refused++;
			const error = new TooManyStreamsError(`${connection.remotePeer.toString()} opened more than ${MAX_SERVING_STREAMS} blob streams at once`);
			frames.abort(error);
			if (!held.told) this.init.onError?.(error);
			held.told = true;
			return;
		}
		held.open++;
		const streams = held;
		let counted = true;
		const release = () => {
			if (!counted) return;
			counted = false;
			if (--streams.open === 0) this.serving.delete(connection.id);
		};
		frames.stream.addEventListener('close', release, { once: true });
		try {
			await this.serve(frames, connection);
		} finally {
			// A stream already ended emits no 'close' any more.
			if (frames.stream.status !== 'open' && frames.stream.status !== 'closing') release();
		}
	}

	private async serve(frames: FrameStream, connection: Connection): Promise<void> {
		const first = await frames.read({ signal: AbortSignal.timeout(this.requestTimeoutMs) });
		if (first === null) return;
		const m = decodeBlobMessage(first);
		const write = (frame: Uint8Array | Uint8ArrayList) => this.write(frames, frame);
		const send = (answer: BlobMessage) => write(encodeBlobMessage(answer));
		// What is left is sent, then the peer has `writeTimeoutMs` to take it and close its end.
		const finish = () => closeGracefully(frames, this.writeTimeoutMs);
		if (m.type === BlobMessageType.pin) {
			const taken = (await this.init.onPin?.(m.workspaceId, connection.remotePeer.toString(), m.blobId, m.docId)) ?? false;
			await send(taken ? { type: BlobMessageType.end } : { type: BlobMessageType.denied, reason: BlobDenied.notAllowed });
			return finish();
		}
		if (m.type === BlobMessageType.unpin) {
			const dropped = (await this.init.onUnpin?.(m.workspaceId, connection.remotePeer.toString(), m.blobId, m.docId)) ?? false;
			await send(dropped ? { type: BlobMessageType.end } : { type: BlobMessageType.denied, reason: BlobDenied.notAllowed });
			return finish();
		}
		if (m.type !== BlobMessageType.get) throw new WrongBytesError(`a blob stream must start with GET, PIN or UNPIN, not type ${m.type}`);
		const store = this.init.storeFor(m.workspaceId);
		// Read only once the rule asks for it (after the membership checks: a stranger makes no store read), and once.
		let reading: Promise<BlobManifest | undefined> | undefined;
		const held = () => (reading ??= store!.manifest(m.blobId));
		// An unknown workspace answers as a refusal does: a stranger learns nothing.
		if (store === undefined || !(await this.init.mayRead(m.workspaceId, connection.remotePeer.toString(), m.blobId, m.docId, held))) {
			await send({ type: BlobMessageType.denied, reason: BlobDenied.notAllowed });
			return finish();
		}
		// The team's rule let it in: the stream leaves the unproven budget (nothing more is read; its own bound stays).
		frames.setBudget(OWN_BOUND);
		const manifest = await held();
		if (manifest === undefined) {
			await send({ type: BlobMessageType.denied, reason: BlobDenied.notHere });
			return finish();
		}
		const indices = m.indices.filter((index) => index < manifest.hashes.length);
		// A few chunks per read (one IndexedDB transaction: per-chunk reads were the slow part), the next read under way while these are sent.
		const read = (from: number): Promise<Array<Uint8Array | undefined>> | undefined => {
			if (from >= indices.length) return undefined;
			const reading = store.chunks(m.blobId, indices.slice(from, from + SERVE_BATCH));
			reading.catch(() => undefined); // awaited below, unless a write failed first
			return reading;
		};
		let next = read(0);
		if (m.manifest) await send({ type: BlobMessageType.manifest, bytes: encodeManifest(manifest) });
		for (let from = 0; next !== undefined; from += SERVE_BATCH) {
			const batch = await next;
			next = read(from + SERVE_BATCH);
			for (const [i, bytes] of batch.entries()) if (bytes !== undefined) await write(encodeChunk(indices[from + i]!, bytes));
		}
		await send({ type: BlobMessageType.end });
		finish();
	}

	/**
	 * Writes one frame, waiting while the peer's window is shut, but at most `writeTimeoutMs`:
	 * then the stream is reset with {@link SlowPeerError}.
	 */
	private async write(frames: FrameStream, frame: Uint8Array | Uint8ArrayList): Promise<void> {
		const signal = AbortSignal.timeout(this.writeTimeoutMs);
		try {
			await frames.write(frame, { signal });
		} catch (error) {
			if (!signal.aborted) throw error;
			const slow = new SlowPeerError(`the peer took nothing for ${this.writeTimeoutMs} ms`);
			frames.abort(slow);
			throw slow;
		}
	}

	/**
	 * Asks `peer` (a relay outside a private space) to keep sealed blob `blobId` of the space's
	 * document `docId`; resolves with whether it took it.
	 */
	async pin(workspaceId: string, peer: string, docId: string, blobId: string, signal: AbortSignal = AbortSignal.timeout(10_000)): Promise<boolean> {
		return this.slots.run(peer, signal, () => this.pinNow(BlobMessageType.pin, workspaceId, peer, docId, blobId, signal));
	}

	/**
	 * Asks `peer` (a relay outside a private space) to drop sealed blob `blobId` it keeps for the
	 * space's document `docId`; resolves with whether it did (or keeps none), false when refused.
	 */
	async unpin(workspaceId: string, peer: string, docId: string, blobId: string, signal: AbortSignal = AbortSignal.timeout(10_000)): Promise<boolean> {
		return this.slots.run(peer, signal, () => this.pinNow(BlobMessageType.unpin, workspaceId, peer, docId, blobId, signal));
	}

	private async pinNow(
		type: typeof BlobMessageType.pin | typeof BlobMessageType.unpin,
		workspaceId: string,
		peer: string,
		docId: string,
		blobId: string,
		signal: AbortSignal
	): Promise<boolean> {
		const stream = await this.init.node.dialProtocol(peerIdFromString(peer), BLOB_PROTOCOL_ID, { signal, runOnLimitedConnection: true });
		const frames = frameStream(stream, { maxFrameBytes: MAX_REQUEST_BYTES });
		try {
			await frames.write(encodeBlobMessage({ type, workspaceId, docId, blobId }));
			const frame = await frames.read({ signal });
			const answer = frame === null ? undefined : decodeBlobMessage(frame);
			await frames.close().catch(() => undefined);
			return answer?.type === BlobMessageType.end;
		} catch (error) {
			frames.abort(error instanceof Error ? error : new Error(String(error)));
			throw error;
		}
	}

	/**
	 * Fetches blob `blobId` of the workspace, referenced by document `options.docId`, from
	 * `peers` (peer ids) into its store; resolves with its manifest once every chunk is held.
	 * The manifest comes from the first peer that has it; the missing chunks are then asked of
	 * every peer at once, {@link STREAMS_PER_PEER} requests each, each request for the next
	 * {@link CHUNKS_PER_REQUEST} chunks that peer was not found lacking. A peer that fails (wrong
	 * bytes, a refusal, a broken stream, silence for the idle time) is dropped and its chunks go
	 * to the others.
	 * @throws {BlobUnavailableError} when no peer gave what is missing.
	 * @throws {BlobRefusedError} when `options.admit` refuses the manifest.
	 * @throws {NoManifestError} when the blob was dropped while it was fetched (the budget, the
	 * sweep, another tab's): the store refuses its chunks from then on, so none is left uncounted.
	 */
	async fetch(workspaceId: string, blobId: string, peers: string[], options: FetchOptions): Promise<BlobManifest> {
		const key = `${workspaceId}/${blobId}`;
		const running = this.inFlight.get(key);
		if (running !== undefined) {
			// Joins the fetch under way (its peers, its end); progress is told to both. Should that
			// one fail (its peers, or its caller gave up), this one tries on its own.
			if (options.onProgress !== undefined) running.listeners.add(options.onProgress);
			let manifest: BlobManifest | undefined;
			try {
				manifest = await running.done;
			} catch {
				options.signal?.throwIfAborted();
			} finally {
				if (options.onProgress !== undefined) running.listeners.delete(options.onProgress);
			}
			// The first fetch's caller judged the manifest by its own reference; this one judges it by its own.
			if (manifest !== undefined) return admitted(manifest, options);
			return this.fetch(workspaceId, blobId, peers, options);
		}
		const listeners = new Set<BlobProgress>(options.onProgress === undefined ? [] : [options.onProgress]);
		const done = this.fetchNow(workspaceId, blobId, peers, { ...options, onProgress: (held, size) => listeners.forEach((tell) => tell(held, size)) });
		this.inFlight.set(key, { done, listeners });
		try {
			return await done;
		} finally {
			this.inFlight.delete(key);
		}
	}

	private async fetchNow(workspaceId: string, blobId: string, peers: string[], options: FetchOptions): Promise<BlobManifest> {
		const store = this.init.storeFor(workspaceId);
		if (store === undefined) throw new Error(`no blob store for workspace ${workspaceId}`);
		const failures: Array<{ peer: string; error: Error }> = [];
		const dropped = new Set<string>();
		const fail = (peer: string, error: unknown): void => {
			options.signal?.throwIfAborted();
			failures.push({ peer, error: error instanceof Error ? error : new Error(String(error)) });
			dropped.add(peer);
		};
		let manifest = await store.manifest(blobId);
		// The fetch's chunks are copied into buffers it reuses once they are stored (chunkBuffers.ts).
		const buffers = new ChunkBuffers();
		// Chunk requests are handed the manifest held (one store read per fetch, not one per request).
		const request = (peer: string, indices: number[] | undefined) => this.request(store, peer, workspaceId, blobId, indices, manifest, buffers, options);

		// A manifest held already (an earlier fetch under another reference) is judged as a fetched one is.
		if (manifest !== undefined) await admitted(manifest, options);
		for (const peer of peers) {
			if (manifest !== undefined) break;
			await request(peer, undefined)
				.then(({ stored }) => stored)
				.catch((error: unknown) => {
					// Every peer sends the same manifest (its id proves it): a refused one ends the fetch.
					if (error instanceof BlobRefusedError) throw error;
					fail(peer, error);
				});
			manifest = await store.manifest(blobId);
		}
		if (manifest === undefined) throw new BlobUnavailableError(failures, Number.NaN);
		const known = manifest;

		const queue = (await store.missing(blobId)) ?? [];
		let held = known.size - queue.reduce((n, i) => n + chunkLength(known, i), 0);
		/** Chunk index → peers that answered without it. */
		const lacking = new Map<number, Set<string>>();
		let inFlight = 0;
		/**
		 * Chunk writes under way, and the first that failed (a full disk, or the blob dropped
		 * meanwhile: NoManifestError): the fetch fails with it, and asks for no more chunks.
		 */
		const writes = new Set<Promise<void>>();
		let storeError: Error | undefined;
		let wake: () => void = () => {};
		let changed = new Promise<void>((resolve) => (wake = resolve));
		const notify = (): void => {
			wake();
			changed = new Promise<void>((resolve) => (wake = resolve));
		};
		const worker = async (peer: string): Promise<void> => {
			// Once a write was refused, more chunks would only be hashed and thrown away (found in review).
			while (!dropped.has(peer) && storeError === undefined) {
				const batch: number[] = [];
				for (let i = 0; i < queue.length && batch.length < CHUNKS_PER_REQUEST; ) {
					if (lacking.get(queue[i]!)?.has(peer)) i++;
					else batch.push(queue.splice(i, 1)[0]!);
				}
				if (batch.length === 0) {
					if (inFlight === 0) return; // nothing left this peer might have
					await changed; // a request under way may fail and give its chunks back
					continue;
				}
				inFlight++;
				try {
					const { got, stored } = await request(peer, batch);
					for (const index of batch) {
						if (got.has(index)) continue;
						let peersLacking = lacking.get(index);
						if (peersLacking === undefined) lacking.set(index, (peersLacking = new Set()));
						peersLacking.add(peer);
						queue.push(index);
					}
					// The next request goes out while this one's chunks are written (the store is the slow part).
					const writing = stored.then(
						() => {
							for (const index of got) held += chunkLength(known, index);
							options.onProgress?.(held, known.size);
						},
						(error: unknown) => {
							storeError ??= error instanceof Error ? error : new Error(String(error));
						}
					);
					writes.add(writing);
					void writing.finally(() => writes.delete(writing));
					if (writes.size > MAX_PENDING_WRITES) await Promise.race(writes);
				} catch (error) {
					queue.push(...batch);
					fail(peer, error);
				} finally {
					inFlight--;
					notify();
				}
			}
		};
		await Promise.all(peers.filter((peer) => !dropped.has(peer)).flatMap((peer) => Array.from({ length: STREAMS_PER_PEER }, () => worker(peer))));
		await Promise.all(writes);
		if (storeError !== undefined) throw storeError;
		options.signal?.throwIfAborted();
		const missing = await store.missing(blobId);
		// Dropped meanwhile (after its last write): not held, whatever was fetched.
		if (missing === undefined) throw new NoManifestError(blobId);
		if (missing.length === 0) return known;
		throw new BlobUnavailableError(failures, missing.length);
	}

	/**
	 * One GET to `peer`: the manifest and the first chunks when `indices` is undefined (the
	 * manifest is unknown: stored only once `options.admit` takes it), else those chunks. Returns
	 * the indices of the chunks verified and the write that stores them (a fault stores what was
	 * verified before it, then throws). The dial, and each frame after it, must come within the
	 * idle time ({@link BlobStalledError}), once one of this node's {@link STREAMS_TO_PEER} slots
	 * to `peer` is free (the wait is not the peer's idle time).
	 */
	private async request(
		store: BlobStore,
		peer: string,
		workspaceId: string,
		blobId: string,
		wanted: number[] | undefined,
		held: BlobManifest | undefined,
		buffers: ChunkBuffers,
		options: FetchOptions
	): Promise<{ got: Set<number>; stored: Promise<void> }> {
		return this.slots.run(peer, options.signal, () => this.requestNow(store, peer, workspaceId, blobId, wanted, held, buffers, options));
	}

	private async requestNow(
		store: BlobStore,
		peer: string,
		workspaceId: string,
		blobId: string,
		wanted: number[] | undefined,
		held: BlobManifest | undefined,
		buffers: ChunkBuffers,
		options: FetchOptions
	): Promise<{ got: Set<number>; stored: Promise<void> }> {
		const { docId, signal } = options;
		const idle = new IdleDeadline(this.idleTimeoutMs, signal);
		let frames: FrameStream;
		try {
			const stream = await this.init.node.dialProtocol(peerIdFromString(peer), BLOB_PROTOCOL_ID, { signal: idle.signal, runOnLimitedConnection: true });
			frames = frameStream(stream, { maxFrameBytes: MAX_ANSWER_BYTES });
		} catch (error) {
			idle.clear();
			throw idle.stalled ?? error;
		}
		// Without the manifest the indices are unknown: ask for the first ones, checked once it comes.
		const indices = wanted ?? Array.from({ length: CHUNKS_PER_REQUEST }, (_, i) => i);
		let manifest = wanted === undefined ? undefined : (held ?? (await store.manifest(blobId)));
		/** The manifest's write, once this request brought one: its chunks are written after it. */
		let manifestStored: Promise<void> = Promise.resolve();
		const answered = new Set<number>();
		const verified: Array<{ index: number; bytes: Uint8Array }> = [];
		const checks: Array<Promise<void>> = [];
		/** The first chunk found not to match, once one is: the request stops at the next frame. */
		let mismatch: WrongBytesError | undefined;
		const reuse = () => buffers.give(verified.map((c) => c.bytes));
		try {
			await frames.write(encodeBlobMessage({ type: BlobMessageType.get, workspaceId, docId, blobId, manifest: wanted === undefined, indices }), { signal: idle.signal });
			for (;;) {
				signal?.throwIfAborted();
				idle.arm();
				const frame = await frames.readPieces({ signal: idle.signal });
				idle.disarm(); // the time this side takes with the frame is not the peer's
				if (frame === null) throw new Error('the peer ended the stream before END');
				const m = decodeBlobFrame(frame, (length) => buffers.take(length));
				if (m.type === BlobMessageType.denied) throw new BlobDeniedError(m.reason);
				if (m.type === BlobMessageType.end) break;
				if (m.type === BlobMessageType.manifest) {
					if (manifest !== undefined || wanted !== undefined) throw new WrongBytesError('a manifest it was not asked for');
					const decoded = await decodeManifest(blobId, m.bytes).catch((error: unknown) => {
						throw error instanceof BadManifestError ? new WrongBytesError(error.message) : error;
					});
					// Judged before it is stored: the chunks that came with it are then never read.
					manifest = await admitted(decoded, options);
					// Written while the chunks that came with it are read and checked.
					manifestStored = store.putManifest(manifest);
					manifestStored.catch(() => undefined); // awaited below; until then a failure is not an unhandled rejection
					continue;
				}
				// Each requested chunk once: a peer cannot keep a fetch busy by sending one again and again.
				if (m.type !== BlobMessageType.chunk || manifest === undefined || !indices.includes(m.index) || answered.has(m.index)) {
					throw new WrongBytesError(`an answer it was not asked for (type ${m.type})`);
				}
				answered.add(m.index);
				// Hashed while the next chunk is read (at most the request's chunks at once); a mismatch fails the request at its end.
				const { index, bytes } = m;
				const check = verifyChunk(manifest, index, bytes).then((ok) => {
					if (!ok) throw (mismatch ??= new WrongBytesError(`chunk ${index} does not match the blob`));
					verified.push({ index, bytes });
				});
				check.catch(() => undefined); // awaited below; until then a mismatch is not an unhandled rejection
				checks.push(check);
				if (mismatch !== undefined) throw mismatch;
			}
			await Promise.all(checks);
			await frames.close().catch(() => undefined);
			// One write for the request's chunks (one transaction), not one per chunk; the caller waits for it.
			await manifestStored;
			const stored = store.putChunks(blobId, verified);
			// The store keeps no reference once its write settles: the buffers go to the next requests.
			void stored.then(reuse, reuse);
			return { got: new Set(verified.map((c) => c.index)), stored };
		} catch (thrown) {
			// A read cut off by the idle deadline fails with the abort's reason, not as a broken stream.
			const error = idle.stalled ?? thrown;
			frames.abort(error instanceof Error ? error : new Error(String(error)));
			// What was verified before the fault is kept: the next request asks for the rest.
			await Promise.allSettled(checks);
			const written = await manifestStored.then(() => true, () => false);
			if (manifest !== undefined && written) await store.putChunks(blobId, verified).catch(() => undefined);
			reuse();
			throw error;
		} finally {
			idle.clear();
		}
	}
}

/**
 * One request's deadline: its signal aborts when the caller's does, or when `ms` pass after
 * {@link arm} (each frame re-arms it) with {@link stalled} set. A timer of its own, not
 * `AbortSignal.any` over `AbortSignal.timeout`: the garbage collector can lose an unreferenced
 * timeout signal on some Node versions, and then it never fires.
 */
class IdleDeadline {
	private readonly controller = new AbortController();
	private timer: ReturnType<typeof setTimeout> | undefined;
	/** Set once the peer was silent for the whole idle time. */
	stalled: BlobStalledError | undefined;
	private readonly onAbort = () => this.controller.abort(this.parent?.reason);

	constructor(
		private readonly ms: number,
		private readonly parent: AbortSignal | undefined
	) {
		if (parent?.aborted) this.onAbort();
		else parent?.addEventListener('abort', this.onAbort, { once: true });
		this.arm();
	}

	get signal(): AbortSignal {
		return this.controller.signal;
	}

	/** Starts the idle time again (the peer just sent a frame). */
	arm(): void {
		clearTimeout(this.timer);
		this.timer = setTimeout(() => {
			this.stalled = new BlobStalledError(`the peer sent nothing for ${this.ms} ms`);
			this.controller.abort(this.stalled);
		}, this.ms);
	}

	/** Stops the idle time until the next {@link arm}. */
	disarm(): void {
		clearTimeout(this.timer);
	}

	clear(): void {
		clearTimeout(this.timer);
		this.parent?.removeEventListener('abort', this.onAbort);
	}
}
