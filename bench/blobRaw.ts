/**
 * The raw baseline of the blob-transfer bench (bench/blob-transfer.ts), the same in Node and
 * in a page: a throwaway protocol on which the opener asks for N bytes (8 bytes, big-endian)
 * and the other side writes them, 256 KiB a message (the blob protocol's chunk size), waiting
 * whenever the stream says its buffer is full; the opener reads until it has them all. No
 * framing, no hashing, no storage: the floor under `/outpost/blob/1` on the same connection.
 *
 * It also holds what the bench's Node and page sides share: a BlobService node that opens every
 * stream on one chosen connection, and a BlobStore wrapper that times each call.
 */
import type { Connection, Libp2p, Stream } from '@libp2p/interface';
import type { BlobServiceInit } from '../src/lib/blob/blobService.js';
import type { BlobStore } from '../src/lib/blob/BlobStore.js';
import type { BlobManifest } from '../src/lib/blob/blobManifest.js';

/** Protocol id of the raw baseline. */
export const RAW_PROTOCOL = '/outpost-bench/bulk/1';
/** Bytes of one raw write (a blob chunk's size). */
const WRITE_BYTES = 256 * 1024;

/** Serves raw-baseline streams on `node` (any connection, limited ones too). */
export async function handleRaw(node: Pick<Libp2p, 'handle'>): Promise<void> {
	const payload = new Uint8Array(WRITE_BYTES);
	for (let i = 0; i < payload.length; i += 65_536) crypto.getRandomValues(payload.subarray(i, i + 65_536));
	await node.handle(
		RAW_PROTOCOL,
		(stream: Stream) => {
			let header = new Uint8Array(0);
			const onMessage = (event: { data: { subarray(): Uint8Array } }) => {
				const bytes = event.data.subarray();
				const joined = new Uint8Array(header.length + bytes.length);
				joined.set(header);
				joined.set(bytes, header.length);
				header = joined;
				if (header.length < 8) return;
				stream.removeEventListener('message', onMessage);
				const total = Number(new DataView(header.buffer, header.byteOffset, 8).getBigUint64(0));
				void write(stream, payload, total).catch((error: unknown) => stream.abort(error instanceof Error ? error : new Error(String(error))));
			};
			stream.addEventListener('message', onMessage);
		},
		{ runOnLimitedConnection: true }
	);
}

async function write(stream: Stream, payload: Uint8Array, total: number): Promise<void> {
	for (let sent = 0; sent < total; ) {
		const n = Math.min(payload.length, total - sent);
		sent += n;
		if (!stream.send(n === payload.length ? payload : payload.subarray(0, n))) await stream.onDrain();
	}
	await stream.close();
}

/** Asks the peer at the other end of `connection` for `total` raw bytes and reads them all; ms from opening the stream to the last byte. */
export async function readRaw(connection: Connection, total: number, timeoutMs: number): Promise<number> {
	const t0 = performance.now();
	const stream = await connection.newStream(RAW_PROTOCOL, { runOnLimitedConnection: true, signal: AbortSignal.timeout(timeoutMs) });
	let got = 0;
	const done = new Promise<void>((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(`raw: ${got} of ${total} bytes after ${timeoutMs} ms`)), timeoutMs);
		stream.addEventListener('message', (event) => {
			got += event.data.byteLength;
			if (got >= total) {
				clearTimeout(timer);
				resolve();
			}
		});
		stream.addEventListener('close', (event) => {
			clearTimeout(timer);
			if (got >= total) resolve();
			else reject(event.error ?? new Error(`raw: the stream closed after ${got} of ${total} bytes`));
		});
	});
	const header = new Uint8Array(8);
	new DataView(header.buffer).setBigUint64(0, BigInt(total));
	stream.send(header);
	await done;
	const ms = performance.now() - t0;
	await stream.close().catch(() => undefined);
	return ms;
}

/** A node for a fetching BlobService whose every stream opens on `connection` (so blob and raw share one link). */
export function onConnection(node: BlobServiceInit['node'], connection: Connection): BlobServiceInit['node'] {
	return {
		handle: node.handle.bind(node),
		unhandle: node.unhandle.bind(node),
		dialProtocol: ((_peer: unknown, protocols: string | string[], options?: Parameters<Connection['newStream']>[1]) =>
			connection.newStream(protocols, options)) as BlobServiceInit['node']['dialProtocol']
	};
}

/** Milliseconds and calls spent in each BlobStore method. */
export type StoreTimes = Record<'manifest' | 'putManifest' | 'chunk' | 'putChunk' | 'putChunks' | 'missing', { calls: number; ms: number }>;

/** A BlobStore that times every call of the store it wraps. */
export class TimedStore implements BlobStore {
	readonly times: StoreTimes = {
		manifest: { calls: 0, ms: 0 },
		putManifest: { calls: 0, ms: 0 },
		chunk: { calls: 0, ms: 0 },
		putChunk: { calls: 0, ms: 0 },
		putChunks: { calls: 0, ms: 0 },
		missing: { calls: 0, ms: 0 }
	};

	constructor(readonly inner: BlobStore) {}

	private async timed<T>(name: keyof StoreTimes, run: () => Promise<T>): Promise<T> {
		const t0 = performance.now();
		try {
			return await run();
		} finally {
			this.times[name].calls++;
			this.times[name].ms += performance.now() - t0;
		}
	}

	manifest(id: string): Promise<BlobManifest | undefined> {
		return this.timed('manifest', () => this.inner.manifest(id));
	}
	putManifest(manifest: BlobManifest): Promise<void> {
		return this.timed('putManifest', () => this.inner.putManifest(manifest));
	}
	chunk(id: string, index: number): Promise<Uint8Array | undefined> {
		return this.timed('chunk', () => this.inner.chunk(id, index));
	}
	putChunk(id: string, index: number, bytes: Uint8Array): Promise<void> {
		return this.timed('putChunk', () => this.inner.putChunk(id, index, bytes));
	}
	chunks(id: string, indices: readonly number[]): Promise<Array<Uint8Array | undefined>> {
		return this.timed('chunk', () => this.inner.chunks(id, indices));
	}
	putChunks(id: string, chunks: ReadonlyArray<{ index: number; bytes: Uint8Array }>): Promise<void> {
		return this.timed('putChunks', () => this.inner.putChunks(id, chunks));
	}
	missing(id: string): Promise<number[] | undefined> {
		return this.timed('missing', () => this.inner.missing(id));
	}

	/** Resets the counters (between runs). */
	reset(): void {
		for (const t of Object.values(this.times)) Object.assign(t, { calls: 0, ms: 0 });
	}
}
