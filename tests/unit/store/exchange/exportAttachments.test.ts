/**
 * What an export writes of a workspace's attachments, and what an import takes back, with a
 * member's hostile file names and messages others deleted or hid (fake-indexeddb, real blob
 * stores):
 * - a file name is written so that every system and zip tool takes it (no folder, no `..`, no
 *   device name, no bidirectional control, a bounded length), and an import of the file works
 *   whatever a member named the file (found in review: a file named " .." was written as
 *   `files/<blob>/..`, and every export of the workspace was then refused on import);
 * - the bytes of a file whose message is deleted, or hidden from everyone, are not written
 *   (found in review: the view hid them, the export carried them);
 * - an import restores only the files a document it brings references (found in review: a
 *   crafted manifest put any bytes in the device's blob store, counted as restored).
 */
import 'fake-indexeddb/auto';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { manifestOf } from '../../../../src/lib/blob/blobManifest';
import { readBlob } from '../../../../src/lib/blob/BlobStore';
import { putBlob } from '../../../../src/lib/core/deviceBlobs';
import { ChannelDoc } from '../../../../src/lib/doc/ChannelDoc';
import { newId } from '../../../../src/lib/doc/ids';
import { RosterDoc } from '../../../../src/lib/doc/RosterDoc';
import { Role, type AttachmentRef } from '../../../../src/lib/doc/schema';
import { WorkspaceDoc } from '../../../../src/lib/doc/WorkspaceDoc';
import { OutpostDb } from '../../../../src/lib/store/db';
import { DocStore } from '../../../../src/lib/store/DocStore';
import { exportWorkspace, importWorkspace, readExport, type ExportManifest } from '../../../../src/lib/store/exchange';
import { safeFileName } from '../../../../src/lib/store/exchange/fileNames';
import { IdbBlobStore } from '../../../../src/lib/store/IdbBlobStore';
import { at, identity, msg, signedDeletion, softDelete } from '../../doc/helpers';

interface Device {
	db: OutpostDb;
	docs: DocStore;
}

const devices: Device[] = [];

async function newDevice(): Promise<Device> {
	const tag = newId();
	const db = new OutpostDb(`outpost-test-${tag}`);
	await db.open();
	const docs = new DocStore(`outpost-doc-${tag}:`);
	docs.onError = () => undefined;
	const device = { db, docs };
	devices.push(device);
	return device;
}

afterEach(() => {
	for (const d of devices.splice(0)) {
		d.docs.closeAll();
		d.db.close();
	}
});

async function change(device: Device, id: string, fn: (doc: Y.Doc) => void): Promise<void> {
	const h = device.docs.open(id);
	await h.ready;
	h.doc.transact(() => fn(h.doc), 'test');
	await new Promise((r) => setTimeout(r, 50));
	device.docs.release(h);
}

/** The member posting: a device that signs its deletions. */
const alice = identity();
const ALICE = alice.id;

/** A workspace with one channel on `device`. */
async function workspace(device: Device) {
	const workspaceId = newId();
	const rosterId = newId();
	const channel = newId();
	await change(device, workspaceId, (doc) => {
		const root = new WorkspaceDoc(doc);
		root.init({ name: 'Dock', color: '#2f5fb3', createdBy: ALICE, createdAt: 1, rosterId });
		root.createChannel({ id: channel, name: 'general', topic: '', private: false, readOnly: false, archived: false, createdBy: ALICE, createdAt: 10 });
	});
	await change(device, rosterId, (doc) => new RosterDoc(doc).upsert({ peerId: ALICE, name: 'Alice', role: Role.owner, joinedAt: 1 }));
	await device.db.workspaces.put({ id: workspaceId, name: 'Dock', color: '#2f5fb3', rosterId, secret: new Uint8Array(32).fill(7), createdAt: 1, lastOpenedAt: 1 });
	return { workspaceId, rosterId, channel, store: new IdbBlobStore(device.db, workspaceId) };
}

const bytesOf = (n: number, seed: number) => new Uint8Array(n).map((_, i) => (i * seed + 1) % 251);

let clock = 1000;

/** Stores `bytes` and posts a message (id returned) with them, named `name`, in `channel`. */
async function attach(device: Device, ws: Awaited<ReturnType<typeof workspace>>, name: string, bytes: Uint8Array): Promise<{ id: string; ref: AttachmentRef }> {
	const { id: blob } = await putBlob(ws.store, bytes);
	const ref: AttachmentRef = { blob, size: bytes.length, mime: 'application/octet-stream', name };
	const id = newId();
	await change(device, ws.channel, (doc) => new ChannelDoc(doc).post({ ...msg(id, ALICE, at(++clock, ALICE), ''), files: [ref] }));
	return { id, ref };
}

function exported(device: Device, ws: Awaited<ReturnType<typeof workspace>>, unseen?: Set<string>) {
	return exportWorkspace({ db: device.db, docs: device.docs, workspaceId: ws.workspaceId, appVersion: 't', blobs: ws.store, ...(unseen ? { unseen: () => Promise.resolve(unseen) } : {}) });
}

describe('attachment file names in an export', () => {
	it('imports an export whatever a member named its files', async () => {
		const a = await newDevice();
		const ws = await workspace(a);
		const names = [' ..', ' .', '..', 'con', 'CON.txt', 'lpt1.tar.gz', 'invoice\u202Efdp.exe', 'a/b\\c:d*e?f"g<h>i|j', 'trailing. . ', '\u200b', '科'.repeat(150) + '.pdf'];
		const files = await Promise.all(names.map((name, i) => attach(a, ws, name, bytesOf(1000 + i, i + 3))));
		const out = await exported(a, ws);
		expect(out.attachments).toEqual({ included: names.length, missing: 0 });
		for (const listed of out.manifest.attachments!) {
			const name = listed.path!.slice(`files/${listed.blob}/`.length);
			expect(name, `the name written for ${JSON.stringify(listed.name)}`).toBe(safeFileName(listed.name));
		}

		const b = await newDevice();
		const result = await importWorkspace({ db: b.db, docs: b.docs, blobs: (id) => new IdbBlobStore(b.db, id) }, out.bytes);
		expect(result).toMatchObject({ attachments: names.length, attachmentsMissing: 0 });
		const restored = new IdbBlobStore(b.db, ws.workspaceId);
		for (const { ref } of files) expect(await readBlob(restored, ref.blob)).toBeDefined();
	});

	it('names a file so that every system takes it, its extension kept', () => {
		for (const name of [' ..', ' .', '..', '.', '...', '\u200b', '']) expect(safeFileName(name)).toMatch(/^[^.]/);
		expect(safeFileName('report.pdf')).toBe('report.pdf');
		expect(safeFileName('survey/../photo?.png')).toBe('survey_.._photo_.png');
		expect(safeFileName('CON.txt')).toBe('_CON.txt');
		expect(safeFileName('lpt1.tar.gz')).toBe('_lpt1.tar.gz');
		expect(safeFileName('invoice\u202Efdp.exe')).toBe('invoicefdp.exe');
		expect(safeFileName('trailing. . ')).toBe('trailing');
		expect(safeFileName('.bashrc')).toBe('_bashrc');
		const long = safeFileName('科'.repeat(200) + '.pdf');
		expect(long.endsWith('.pdf')).toBe(true);
		expect(new TextEncoder().encode(long).length).toBeLessThanOrEqual(200);
		for (const name of [' ..', 'a\u0000b', 'a\u2028b', 'x'.repeat(500)]) {
			const safe = safeFileName(name);
			expect(safe).not.toMatch(/[\u0000-\u001f\u007f<>:"/\\|?*\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
			expect(new TextEncoder().encode(safe).length).toBeLessThanOrEqual(200);
		}
	});

	it('imports an older export that wrote a file as its folder’s `..`, that file listed as not in it', async () => {
		const a = await newDevice();
		const ws = await workspace(a);
		const { ref } = await attach(a, ws, 'fine.bin', bytesOf(2000, 5));
		const out = await exported(a, ws);
		// What the export wrote before names were made safe for a file named " ..".
		const older = zipSync(
			Object.fromEntries(
				Object.entries(unzipSync(out.bytes)).map(([path, bytes]) => {
					if (path !== 'manifest.json') return [path.startsWith('files/') ? `files/${ref.blob}/..` : path, bytes];
					const manifest = JSON.parse(strFromU8(bytes)) as ExportManifest;
					manifest.attachments![0]!.path = `files/${ref.blob}/..`;
					return [path, strToU8(JSON.stringify(manifest))];
				})
			)
		);
		const b = await newDevice();
		expect(await importWorkspace({ db: b.db, docs: b.docs, blobs: (id) => new IdbBlobStore(b.db, id) }, older)).toMatchObject({ attachments: 0, attachmentsMissing: 1 });
	});
});

describe('attachments of messages nobody is shown', () => {
	/** Deletes message `id` with its author's signed mark. */
	const deleteSigned = async (a: Device, channel: string, id: string) => {
		const mark = await signedDeletion(id, alice, at(++clock, ALICE));
		await change(a, channel, (doc) => new ChannelDoc(doc).markDeletion(mark));
	};

	it('writes no bytes of a file whose message is deleted or hidden, and still those of the others', async () => {
		const a = await newDevice();
		const ws = await workspace(a);
		const kept = await attach(a, ws, 'kept.bin', bytesOf(3000, 7));
		const deleted = await attach(a, ws, 'deleted.bin', bytesOf(4000, 11));
		const hidden = await attach(a, ws, 'hidden.bin', bytesOf(5000, 13));
		// A deletion mark in the author's name that the author did not sign hides nothing.
		const forged = await attach(a, ws, 'forged.bin', bytesOf(6000, 17));
		await deleteSigned(a, ws.channel, deleted.id);
		await change(a, ws.channel, (doc) => softDelete(new ChannelDoc(doc), forged.id, { by: ALICE, hlc: at(++clock, ALICE), sig: 'sig' }));
		const out = await exported(a, ws, new Set([hidden.id]));
		const written = Object.keys(unzipSync(out.bytes)).filter((path) => path.startsWith('files/'));
		expect(written.sort()).toEqual([`files/${kept.ref.blob}/kept.bin`, `files/${forged.ref.blob}/forged.bin`].sort());
		expect(out.manifest.attachments!.map((x) => x.blob).sort()).toEqual([kept.ref.blob, forged.ref.blob].sort());
		expect(out.attachments).toEqual({ included: 2, missing: 0 });
	});

	it('still writes a file that a shown message names too', async () => {
		const a = await newDevice();
		const ws = await workspace(a);
		const first = await attach(a, ws, 'shared.bin', bytesOf(3000, 7));
		await attach(a, ws, 'shared-again.bin', bytesOf(3000, 7));
		await deleteSigned(a, ws.channel, first.id);
		const out = await exported(a, ws);
		expect(out.attachments).toEqual({ included: 1, missing: 0 });
	});
});

describe('attachments an import restores', () => {
	it('restores only files that a document it brings references', async () => {
		const a = await newDevice();
		const ws = await workspace(a);
		const { ref } = await attach(a, ws, 'real.bin', bytesOf(3000, 7));
		const out = await exported(a, ws);
		// A crafted file adds bytes no document names.
		const planted = bytesOf(700_000, 17);
		const plantedId = (await manifestOf(planted)).id;
		const crafted = zipSync({
			...unzipSync(out.bytes),
			[`files/${plantedId}/planted.bin`]: planted,
			'manifest.json': strToU8(
				JSON.stringify({
					...out.manifest,
					attachments: [...out.manifest.attachments!, { blob: plantedId, name: 'planted.bin', mime: 'text/html', size: planted.length, path: `files/${plantedId}/planted.bin` }]
				})
			)
		});
		expect((await readExport(crafted)).attachments).toHaveLength(2); // both bytes match their ids
		const b = await newDevice();
		const result = await importWorkspace({ db: b.db, docs: b.docs, blobs: (id) => new IdbBlobStore(b.db, id) }, crafted);
		expect(result).toMatchObject({ attachments: 1 });
		const restored = new IdbBlobStore(b.db, ws.workspaceId);
		expect(await readBlob(restored, ref.blob)).toBeDefined();
		expect(await restored.manifest(plantedId)).toBeUndefined();
	});
});
