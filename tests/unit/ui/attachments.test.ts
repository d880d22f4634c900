/**
 * The composer's attachments: sizes in words, which types show as images, and the pending
 * files (limits refused one by one, Send waiting for adds, a failed add dropped and reported).
 */
import { describe, expect, it } from 'vitest';
import type { AttachmentRef } from '../../../src/lib/doc/schema.js';
import { AttachmentTooLargeError, type ChannelBlobs } from '../../../src/lib/state/ChannelBlobs.svelte.js';
import { fitWithin, formatBytes, isShownImage } from '../../../src/lib/ui/attachments/format.js';
import { PendingFiles } from '../../../src/lib/ui/attachments/PendingFiles.svelte.js';

/** A ChannelBlobs whose adds finish when the test says. */
function fakeBlobs(limits = { maxBytes: 100, autoFetchImageBytes: 50, maxFiles: 2 }) {
	const adds = new Map<string, { resolve: (ref: AttachmentRef) => void; reject: (err: Error) => void }>();
	const blobs = {
		limits,
		add: (file: File) =>
			new Promise<AttachmentRef>((resolve, reject) => adds.set(file.name, { resolve, reject }))
	} as unknown as ChannelBlobs;
	const finish = (name: string) => adds.get(name)!.resolve({ blob: `b-${name}`, size: 1, mime: 'text/plain', name });
	const fail = (name: string, err: Error) => adds.get(name)!.reject(err);
	return { blobs, finish, fail };
}

const file = (name: string, size = 1) => new File([new Uint8Array(size)], name, { type: 'text/plain' });
const tick = () => new Promise((r) => setTimeout(r, 0));

describe('attachment format', () => {
	it('says sizes in B, KB, MB and GB', () => {
		expect(formatBytes(512, 'en')).toBe('512 B');
		expect(formatBytes(12.3 * 1024 * 1024, 'en')).toBe('12.3 MB');
		expect(formatBytes(1536, 'en')).toBe('1.5 KB');
		expect(formatBytes(3 * 1024 ** 3, 'en')).toBe('3 GB');
	});

	it('shows PNG, JPEG, GIF and WebP inline, never SVG', () => {
		expect(['image/png', 'image/jpeg', 'image/gif', 'IMAGE/WEBP'].every(isShownImage)).toBe(true);
		expect(isShownImage('image/svg+xml')).toBe(false);
		expect(isShownImage('application/pdf')).toBe(false);
	});

	it('fits an image in the box, keeping its shape', () => {
		expect(fitWithin(4000, 3000, 360)).toEqual({ width: 360, height: 270 });
		expect(fitWithin(1000, 4000, 360)).toEqual({ width: 90, height: 360 });
		expect(fitWithin(100, 50, 360)).toEqual({ width: 100, height: 50 });
	});
});

describe('PendingFiles', () => {
	it('refuses files over the size and count limits and keeps the rest', () => {
		const { blobs } = fakeBlobs();
		const pending = new PendingFiles(blobs);
		pending.add([file('big.bin', 101), file('a.txt')]);
		expect(pending.files.map((f) => f.name)).toEqual(['a.txt']);
		expect(pending.problem).toEqual({ kind: 'tooLarge', name: 'big.bin', size: 101, limit: 100 });
		pending.add([file('b.txt'), file('c.txt')]);
		expect(pending.files.map((f) => f.name)).toEqual(['a.txt', 'b.txt']);
		expect(pending.problem).toEqual({ kind: 'tooMany', max: 2 });
	});

	it('waits for adds still running before handing the references over', async () => {
		const { blobs, finish } = fakeBlobs();
		const pending = new PendingFiles(blobs);
		pending.add([file('a.txt'), file('b.txt')]);
		let settled = false;
		const batch = pending.settle().then((b) => ((settled = true), b));
		await tick();
		finish('a.txt');
		await tick();
		expect(settled).toBe(false);
		finish('b.txt');
		expect((await batch)?.refs.map((r) => r.name)).toEqual(['a.txt', 'b.txt']);
		pending.clear((await batch)!.ids);
		expect(pending.files).toEqual([]);
	});

	it('drops a file that could not be added, says why, and sends nothing', async () => {
		const { blobs, finish, fail } = fakeBlobs();
		const pending = new PendingFiles(blobs);
		pending.add([file('a.txt'), file('b.txt')]);
		await tick();
		finish('a.txt');
		fail('b.txt', new AttachmentTooLargeError('b.txt', 500, 100));
		expect(await pending.settle()).toBeUndefined();
		expect(pending.files.map((f) => f.name)).toEqual(['a.txt']);
		expect(pending.problem).toEqual({ kind: 'tooLarge', name: 'b.txt', size: 500, limit: 100 });
		expect((await pending.settle())?.refs.map((r) => r.name)).toEqual(['a.txt']);
	});

	it('leaves out a file removed while it was being added', async () => {
		const { blobs, finish } = fakeBlobs();
		const pending = new PendingFiles(blobs);
		pending.add([file('a.txt'), file('b.txt')]);
		await tick();
		const batch = pending.settle();
		pending.remove(pending.files[1].id);
		finish('a.txt');
		finish('b.txt');
		expect((await batch)?.refs.map((r) => r.name)).toEqual(['a.txt']);
	});
});
