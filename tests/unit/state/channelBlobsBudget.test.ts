/**
 * The attachments state of a channel over DeviceBlobs and its storage budget (blob/blobBudget.ts):
 * an image the view fetches on its own past the budget shows as not downloaded (`budget`, not
 * tried again on its own), and Download (a fetch the user asks for) brings it; a file the
 * device's storage has no room for says so (`noSpace`). The peers' side is a stand-in that
 * stores the blob after the fetch's admit took its manifest, as the blob service does.
 */
import { describe, expect, it, vi } from 'vitest';
import { MemoryBlobStore, storeBlob } from '../../../src/lib/blob/BlobStore.js';
import { BlobRefusedError } from '../../../src/lib/blob/blobService.js';
import type { BlobManifest } from '../../../src/lib/blob/blobManifest.js';
import { DeviceBlobs } from '../../../src/lib/core/deviceBlobs.js';
import { ChannelBlobs } from '../../../src/lib/state/ChannelBlobs.svelte.js';

const WS = 'ws';
const DOC = 'doc';
const bytesOf = (n: number, seed: number) => new Uint8Array(n).map((_, i) => (i * 7 + seed) % 256);

/** A device whose peers hold `files`; `free`: what the device's storage has left. */
async function device(files: Uint8Array[], limit: number, free = 1e12) {
	const source = new MemoryBlobStore();
	const manifests = new Map<string, BlobManifest>();
	for (const bytes of files) {
		const m = await storeBlob(source, bytes);
		manifests.set(m.id, m);
	}
	const local = new MemoryBlobStore();
	const blobs = new DeviceBlobs(() => local, { limit: () => limit, estimate: async () => ({ usage: 0, quota: free }) });
	let fetches = 0;
	blobs.attach({
		livePeers: () => ['peer'],
		service: {
			fetch: async (_ws, blobId, _peers, options) => {
				fetches++;
				const manifest = manifests.get(blobId)!;
				const verdict = (await options.admit?.(manifest)) ?? true;
				if (verdict instanceof BlobRefusedError) throw verdict;
				if (verdict !== true) throw new BlobRefusedError(blobId, verdict);
				const bytes = files.find((f) => f.byteLength === manifest.size)!;
				await storeBlob(local, bytes);
				return manifest;
			}
		}
	});
	const refs = [...manifests.values()].map((m, i) => ({ blob: m.id, size: m.size, mime: 'image/png', name: `${i}.png` }));
	return { blobs, local, refs, fetches: () => fetches };
}

describe('ChannelBlobs within the device’s budget', () => {
	it('shows an image past the budget as not downloaded, does not try it again on its own, and Download brings it', async () => {
		vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
		try {
			const { blobs, local, refs, fetches } = await device([bytesOf(3000, 1), bytesOf(6000, 2)], 20_000);
			const view = new ChannelBlobs(blobs.access(WS), DOC);
			const [small, large] = refs as [(typeof refs)[0], (typeof refs)[0]];
			view.fetch(small, 'auto');
			await vi.waitFor(() => expect(view.status(small).phase).toBe('ready'));
			// One sender's share is a quarter of the budget: 6,000 bytes do not fit.
			view.fetch(large, 'auto');
			await vi.waitFor(() => expect(view.status(large)).toMatchObject({ phase: 'failed', error: 'budget' }));
			await vi.advanceTimersByTimeAsync(60_000);
			expect(fetches()).toBe(2);
			expect(await local.missing(large.blob)).toBeUndefined();
			view.fetch(large); // Download: the user asks
			await vi.waitFor(() => expect(view.status(large).phase).toBe('ready'));
			expect((await local.entries()).find((e) => e.id === large.blob)?.origin).toBe('opened');
			view.destroy();
		} finally {
			vi.useRealTimers();
		}
	});

	it('says the device has no room for a file the user asks for', async () => {
		const { blobs, refs } = await device([bytesOf(5000, 3)], 1_000_000, 4000);
		const view = new ChannelBlobs(blobs.access(WS), DOC);
		view.fetch(refs[0]!);
		await vi.waitFor(() => expect(view.status(refs[0]!)).toMatchObject({ phase: 'failed', error: 'noSpace' }));
		view.destroy();
	});
});
