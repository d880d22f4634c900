/**
 * What the blob sweep keeps between two passes is bounded (blobSweep.ts `MAX_KEPT_BYTES`): every
 * update that may carry deletion or moderation marks (a byte scan: a message's text "deletions"
 * matches) is kept for the next pass, which runs 2 s after the first; members writing such
 * updates faster than that made a device hold all of them. Past the bound the pass runs at once
 * and the kept updates go. Real in-memory SyncDocs, a real references index and blob store.
 */
import { afterEach, expect, it } from 'vitest';
import { BlobReferences } from '../../../src/lib/blob/blobReferences.js';
import { MemoryBlobStore } from '../../../src/lib/blob/BlobStore.js';
import { BlobSweep, MAX_KEPT_BYTES } from '../../../src/lib/blob/blobSweep.js';
import { ChannelDoc } from '../../../src/lib/doc/ChannelDoc.js';
import { MemoryDocs } from '../mesh/memoryDocs.js';

let sweep: BlobSweep | undefined;
afterEach(() => sweep?.destroy());

it('runs the pass at once past the bound, so a flood of updates that may carry marks is not held for its delay', async () => {
	const docs = new MemoryDocs();
	const references = new BlobReferences(docs);
	// A delay no test waits for: only the bound can make the pass run.
	sweep = new BlobSweep({ docs, references, ledger: new MemoryBlobStore(), roleOf: () => undefined, delayMs: 3_600_000, startMs: 3_600_000 });
	const channel = new ChannelDoc(docs.get('general'));
	// Entries in the channel's `deletions` map (malformed ones: the write policy is not under test), 64 KiB each.
	const text = 'x'.repeat(64 * 1024);
	for (let i = 0; i < 100; i++) {
		channel.doc.getMap<string>('deletions').set(`junk${i}`, text);
		await new Promise((resolve) => setTimeout(resolve, 0)); // a pass due now runs between writes
	}
	// 100 updates of 64 KiB: 6.4 MiB written, at most the bound and one update kept.
	expect(sweep.kept).toBeLessThanOrEqual(MAX_KEPT_BYTES + text.length + 1024);
	expect(sweep.kept).toBeGreaterThan(0);
});
