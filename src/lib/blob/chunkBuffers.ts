/**
 * Reused buffers for the chunks a fetch receives. A chunk arrives as many small transport
 * messages and is copied once into one buffer, which is hashed and stored. Freshly allocated
 * memory costs a page fault per 4 KiB on first touch; in Chromium a new 256 KiB buffer per
 * chunk made that copy the receiving page's largest cost (bench:blob-transfer's profile:
 * 14% of its CPU, on the page that limits the transfer). A fetch takes its buffers from here
 * and gives them back once its store holds their bytes, so after the first few requests the
 * copies land in memory already touched.
 */
import { CHUNK_BYTES } from './blobManifest.js';

/** Free buffers kept at most (16 MiB): what a fetch has in flight, and no more. */
const MAX_KEPT = 64;

export class ChunkBuffers {
	private readonly free: Uint8Array[] = [];

	/**
	 * A buffer of exactly `size` bytes, its own ArrayBuffer whole (a store that clones a view
	 * clones its whole buffer): a reused one for a full chunk, a new one otherwise.
	 */
	take(size: number): Uint8Array {
		if (size !== CHUNK_BYTES) return new Uint8Array(size);
		return this.free.pop() ?? new Uint8Array(CHUNK_BYTES);
	}

	/** Hands `buffers` back: nothing may read or keep them any more. */
	give(buffers: Iterable<Uint8Array>): void {
		for (const buffer of buffers) {
			if (this.free.length >= MAX_KEPT) return;
			if (buffer.byteLength === CHUNK_BYTES && buffer.byteOffset === 0 && buffer.buffer.byteLength === CHUNK_BYTES) this.free.push(buffer);
		}
	}
}
