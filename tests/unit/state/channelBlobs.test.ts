/**
 * The attachments state of a channel over a real BlobStore (in memory) and DeviceBlobs: a
 * private space's file is sealed when added and opens to the same bytes; what the policy
 * forbids is refused on add and never fetched; a fetch that found no peer is tried again on
 * its own and the file shows once a peer has it; a reference that understates its blob is not
 * fetched (nor tried again), shows as such, and never shows the blob an honest reference fetched.
 */
import { resolveObjectURL } from 'node:buffer';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryBlobStore, readBlob, storeBlob } from '../../../src/lib/blob/BlobStore.js';
import { BlobRefusedError } from '../../../src/lib/blob/blobService.js';
import { DeviceBlobs, NoPeersError } from '../../../src/lib/core/deviceBlobs.js';
import type { FilePolicy } from '../../../src/lib/doc/team/filePolicy.js';
import { AttachmentTooLargeError, ChannelBlobs, FileTypeBlockedError } from '../../../src/lib/state/ChannelBlobs.svelte.js';

const WS = 'ws';
const DOC = 'doc';
const bytesOf = (n: number) => new Uint8Array(n).map((_, i) => (i * 7 + 3) % 256);

async function urlBytes(url: string): Promise<Uint8Array> {
	return new Uint8Array(await resolveObjectURL(url)!.arrayBuffer());
}

afterEach(() => {
	vi.useRealTimers();
});

describe('ChannelBlobs', () => {
	it('seals a private space’s file when it is added; the view opens it to the same bytes', async () => {
		const store = new MemoryBlobStore();
		const blobs = new ChannelBlobs(new DeviceBlobs(() => store).access(WS), DOC, undefined, () => true);
		const plain = bytesOf(300_000);
		const ref = await blobs.add(new File([plain], 'plan.pdf', { type: 'application/pdf' }));
		expect(ref).toMatchObject({ size: plain.length, mime: 'application/pdf', name: 'plan.pdf' });
		expect(ref.key).toMatch(/^[A-Za-z0-9_-]{43}$/);
		const held = (await readBlob(store, ref.blob))!;
		expect(held.length).toBeGreaterThan(plain.length);
		expect(Buffer.from(held).includes(Buffer.from(plain.subarray(0, 64)))).toBe(false);
		await vi.waitFor(() => expect(blobs.status(ref).phase).toBe('ready'));
		expect(Buffer.compare(await urlBytes(blobs.url(ref)!), plain)).toBe(0);
		blobs.destroy();
	});

	it('refuses to add what the policy forbids, and shows such a reference as blocked without fetching it', async () => {
		const policy: FilePolicy = { maxBytes: 1000, autoFetchBytes: 0, blocked: ['.exe'] };
		let fetches = 0;
		const access = { ...new DeviceBlobs(() => new MemoryBlobStore()).access(WS), fetch: async () => void fetches++ };
		const blobs = new ChannelBlobs(access, DOC, () => policy);
		await expect(blobs.add(new File([bytesOf(10)], 'setup.exe'))).rejects.toBeInstanceOf(FileTypeBlockedError);
		await expect(blobs.add(new File([bytesOf(1001)], 'big.bin'))).rejects.toBeInstanceOf(AttachmentTooLargeError);
		const ref = { blob: 'ab'.repeat(32), size: 10, mime: 'application/octet-stream', name: 'tool.exe' };
		expect(blobs.status(ref)).toMatchObject({ phase: 'blocked', blocked: 'blocked' });
		blobs.fetch(ref);
		await new Promise((resolve) => setTimeout(resolve, 20));
		expect(fetches).toBe(0);
		blobs.destroy();
	});

	it('tries a fetch again on its own when no peer had the file yet', async () => {
		vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
		const source = new MemoryBlobStore();
		const plain = bytesOf(5000);
		const { id, size } = await storeBlob(source, plain);
		const local = new MemoryBlobStore();
		let peerOnline = false;
		const device = new DeviceBlobs(() => local);
		const access = {
			...device.access(WS),
			fetch: async () => {
				if (!peerOnline) throw new NoPeersError();
				await storeBlob(local, plain);
			}
		};
		const blobs = new ChannelBlobs(access, DOC);
		const ref = { blob: id, size, mime: 'image/png', name: 'a.png' };
		blobs.fetch(ref);
		await vi.waitFor(() => expect(blobs.status(ref)).toMatchObject({ phase: 'failed', error: 'offline' }));
		peerOnline = true;
		await vi.advanceTimersByTimeAsync(2_000);
		await vi.waitFor(() => expect(blobs.status(ref).phase).toBe('ready'));
		expect(Buffer.compare(await urlBytes(blobs.url(ref)!), plain)).toBe(0);
		blobs.destroy();
	});

	it('fetches only the blob its reference says: one that understates it shows as such, is not tried again, and never shows the blob', async () => {
		vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
		const source = new MemoryBlobStore();
		const plain = bytesOf(300_000);
		const manifest = await storeBlob(source, plain);
		const local = new MemoryBlobStore();
		const device = new DeviceBlobs(() => local);
		let asked = 0;
		// The mesh: a peer's manifest (its id proves it) goes through the fetch's admit before anything is stored.
		device.attach({
			livePeers: () => ['peer'],
			service: {
				fetch: async (_ws, blobId, _peers, options) => {
					asked++;
					const verdict = (await options.admit?.(manifest)) ?? true;
					if (verdict instanceof BlobRefusedError) throw verdict;
					if (verdict !== true) throw new BlobRefusedError(blobId, verdict);
					await storeBlob(local, plain);
					return manifest;
				}
			}
		});
		const blobs = new ChannelBlobs(device.access(WS), DOC);
		const lie = { blob: manifest.id, size: 1000, mime: 'image/png', name: 'cat.png' };
		blobs.fetch(lie);
		await vi.waitFor(() => expect(blobs.status(lie)).toMatchObject({ phase: 'failed', error: 'mismatch' }));
		await vi.advanceTimersByTimeAsync(60_000);
		expect(asked).toBe(1);
		expect(await local.manifest(manifest.id)).toBeUndefined();
		// The honest reference of the same blob fetches and shows it; the lying one still shows nothing.
		const honest = { ...lie, size: plain.length };
		blobs.fetch(honest);
		await vi.waitFor(() => expect(blobs.status(honest).phase).toBe('ready'));
		expect(Buffer.compare(await urlBytes(blobs.url(honest)!), plain)).toBe(0);
		expect(blobs.status(lie)).toMatchObject({ phase: 'failed', error: 'mismatch' });
		expect(blobs.url(lie)).toBeUndefined();
		// Another view, the blob held already: the lying reference is refused at once, without a fetch.
		const later = new ChannelBlobs(device.access(WS), DOC);
		later.fetch(lie);
		await vi.waitFor(() => expect(later.status(lie)).toMatchObject({ phase: 'failed', error: 'mismatch' }));
		expect(later.url(lie)).toBeUndefined();
		expect(asked).toBe(2);
		blobs.destroy();
		later.destroy();
	});
});
