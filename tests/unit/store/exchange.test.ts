/**
 * Workspace export and import over fake-indexeddb: a round trip into a fresh device
 * reproduces every document exactly, importing twice changes nothing, an import merges with
 * concurrent changes, the readable copies say what the channel says, and every kind of bad
 * file is refused with its own error before anything is written.
 */
import 'fake-indexeddb/auto';
import { createHash } from 'node:crypto';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { AiRole, AiThreadDoc } from '../../../src/lib/doc/AiThreadDoc';
import { ChannelDoc } from '../../../src/lib/doc/ChannelDoc';
import { ChannelView } from '../../../src/lib/doc/ChannelView';
import { newId } from '../../../src/lib/doc/ids';
import { NoteDoc } from '../../../src/lib/doc/NoteDoc';
import { RosterDoc } from '../../../src/lib/doc/RosterDoc';
import { AiStatus, Role } from '../../../src/lib/doc/schema';
import { creatorsChannels, WorkspaceDoc } from '../../../src/lib/doc/WorkspaceDoc';
import { OutpostDb } from '../../../src/lib/store/db';
import { DocStore } from '../../../src/lib/store/DocStore';
import {
	channelData,
	channelMarkdown,
	exportWorkspace,
	importWorkspace,
	readExport,
	type ExportManifest
} from '../../../src/lib/store/exchange';
import { safeStem, UniqueNames } from '../../../src/lib/store/exchange/fileNames';
import { at, edit, msg, softDelete, toggleReaction } from '../doc/helpers';
import { manifestOf as manifestOfBytes } from '../../../src/lib/blob/blobManifest';
import { readBlob } from '../../../src/lib/blob/BlobStore';
import { putBlob } from '../../../src/lib/core/deviceBlobs';
import { newBlobKey, openBlob, sealBlob } from '../../../src/lib/blob/blobSeal';
import type { AttachmentRef } from '../../../src/lib/doc/schema';
import { IdbBlobStore } from '../../../src/lib/store/IdbBlobStore';

/** One simulated device: its own Dexie database and document databases. */
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

/** Waits until IndexedDB has written pending updates. */
const settle = () => new Promise((r) => setTimeout(r, 50));

/** Runs `fn` on a document of a device and stores the change. */
async function edit_(device: Device, id: string, fn: (doc: Y.Doc) => void): Promise<void> {
	const h = device.docs.open(id);
	await h.ready;
	h.doc.transact(() => fn(h.doc), 'test');
	await settle();
	device.docs.release(h);
}

/** The full encoded state of a stored document. */
async function stateOf(device: Device, id: string): Promise<Uint8Array> {
	const h = device.docs.open(id);
	await h.ready;
	const state = Y.encodeStateAsUpdate(h.doc);
	device.docs.release(h);
	return state;
}

/** A stored document's content as plain JSON (via a scratch doc, so any shared type shows). */
async function contentOf(device: Device, id: string): Promise<Record<string, unknown>> {
	const h = device.docs.open(id);
	await h.ready;
	const out: Record<string, unknown> = {};
	for (const [name, type] of h.doc.share) out[name] = type instanceof Y.Text ? type.toString() : type.toJSON();
	device.docs.release(h);
	return out;
}

const ALICE = 'peer-alice';
const BOB = 'peer-bob';

interface Fixture {
	workspaceId: string;
	rosterId: string;
	general: string;
	chinese: string;
	noteId: string;
	chatId: string;
	docIds: string[];
}

/** A workspace with two channels (one with a Chinese name), a thread, an edit, a deletion, reactions, a note and an AI chat. */
async function seed(device: Device): Promise<Fixture> {
	const workspaceId = newId();
	const rosterId = newId();
	const general = newId();
	const chinese = newId();
	const noteId = newId();
	const chatId = newId();
	await edit_(device, workspaceId, (doc) => {
		const root = new WorkspaceDoc(doc);
		root.init({ name: 'Vessel / 科考船', color: '#2f5fb3', createdBy: ALICE, createdAt: 1, rosterId });
		const channel = { topic: '', private: false, readOnly: false, archived: false, createdBy: ALICE };
		root.createChannel({ ...channel, id: general, name: 'general', topic: 'Daily log', createdAt: 10 });
		root.createChannel({ ...channel, id: chinese, name: '数据主权/讨论', createdAt: 20 });
		root.createNote({ id: noteId, title: '会议记录: 第一次', createdAt: 30, updatedAt: 40 });
		root.createAiThread({ id: chatId, title: 'Ask about tides', createdAt: 50 });
	});
	await edit_(device, rosterId, (doc) => {
		const roster = new RosterDoc(doc);
		roster.upsert({ peerId: ALICE, name: 'Alice', role: Role.owner, joinedAt: 1 });
		roster.upsert({ peerId: BOB, name: 'Bob', role: Role.member, joinedAt: 2 });
	});
	await edit_(device, general, (doc) => {
		const ch = new ChannelDoc(doc);
		ch.postMany([
			msg('m1', ALICE, at(1000, ALICE), 'Hello crew'),
			msg('m2', BOB, at(2000, BOB), 'Typo heer'),
			msg('r1', BOB, at(3000, BOB), 'A reply in the thread', 'm1'),
			msg('m3', ALICE, at(4000, ALICE), 'Secret to delete')
		]);
		ch.edit(edit('m2', BOB, at(2500, BOB), 'Typo here, fixed'));
		softDelete(ch, 'm3', { by: ALICE, hlc: at(5000, ALICE), sig: 'sig' });
		toggleReaction(ch, 'm1', '👍', BOB);
	});
	await edit_(device, chinese, (doc) => new ChannelDoc(doc).post(msg('c1', ALICE, at(6000, ALICE), '数据主权 很重要')));
	await edit_(device, noteId, (doc) => {
		const note = new NoteDoc(doc);
		note.title = '会议记录: 第一次';
		note.body.insert(0, '# Minutes\n\nWe talked about 数据主权.\n');
		note.tags.push(['meeting', '会议']);
	});
	await edit_(device, chatId, (doc) => {
		const chat = new AiThreadDoc(doc);
		chat.append({ id: 'q1', role: AiRole.user, hlc: at(7000, ALICE), author: ALICE, text: 'When is high tide?' });
		chat.append({ id: 'a1', role: AiRole.assistant, hlc: at(8000, 'host'), author: 'host', text: 'At 14:02.', model: 'tiny', status: AiStatus.done, askedBy: ALICE });
	});
	await device.db.workspaces.put({ id: workspaceId, name: 'Vessel / 科考船', color: '#2f5fb3', rosterId, secret: new Uint8Array(32).fill(7), createdAt: 1, lastOpenedAt: 1 });
	return { workspaceId, rosterId, general, chinese, noteId, chatId, docIds: [workspaceId, rosterId, general, chinese, noteId, chatId] };
}

async function exportOf(device: Device, workspaceId: string) {
	return exportWorkspace({ db: device.db, docs: device.docs, workspaceId, appVersion: '0.1.0-test', now: new Date('2026-11-21T10:00:00Z') });
}

/** Everything stored on a device: workspace rows and the state of each listed document. */
async function snapshotDevice(device: Device, ids: string[]) {
	const rows = await device.db.workspaces.toArray();
	const states = await Promise.all(ids.map(async (id) => [id, Array.from(await stateOf(device, id))] as const));
	return { rows, states };
}

/** Rewrites one entry of an export zip (fflate keeps the rest as it was). */
function rezip(bytes: Uint8Array, change: (files: Record<string, Uint8Array>) => void): Uint8Array {
	const files = unzipSync(bytes);
	change(files);
	return zipSync(files);
}

function manifestOf(bytes: Uint8Array): ExportManifest {
	return JSON.parse(strFromU8(unzipSync(bytes)['manifest.json'])) as ExportManifest;
}

describe('workspace export', () => {
	it('writes a manifest with every document, its kind and checksum, and readable copies', async () => {
		const a = await newDevice();
		const f = await seed(a);
		const progress: number[] = [];
		const { bytes, fileName, manifest } = await exportWorkspace({
			db: a.db,
			docs: a.docs,
			workspaceId: f.workspaceId,
			appVersion: '0.1.0-test',
			onProgress: (p) => progress.push(p.done / p.total)
		});
		expect(fileName).toMatch(/^Vessel - 科考船-\d{4}-\d\d-\d\d\.outpost\.zip$/);
		expect(progress[0]).toBe(0);
		expect(progress.at(-1)).toBe(1);
		expect(progress.length).toBe(f.docIds.length + 1);
		expect(manifest).toEqual(manifestOf(bytes));
		expect(manifest.format).toBe('outpost-workspace-export');
		expect(manifest.formatVersion).toBe(1);
		expect(manifest.appVersion).toBe('0.1.0-test');
		expect(manifest.workspace).toEqual({ id: f.workspaceId, name: 'Vessel / 科考船', color: '#2f5fb3', rosterId: f.rosterId });
		expect(manifest.documents.map((d) => [d.id, d.kind]).sort()).toEqual(
			[
				[f.workspaceId, 'workspace'],
				[f.rosterId, 'roster'],
				[f.general, 'channel'],
				[f.chinese, 'channel'],
				[f.noteId, 'note'],
				[f.chatId, 'ai-thread']
			].sort()
		);
		const files = unzipSync(bytes);
		for (const d of manifest.documents) {
			expect(files[d.state]).toEqual(await stateOf(a, d.id));
			const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', files[d.state]));
			expect(d.sha256).toBe(Buffer.from(digest).toString('hex'));
			for (const path of d.files) expect(files[path]).toBeDefined();
		}
		expect(Object.keys(files).sort()).toEqual(
			[
				'manifest.json',
				...f.docIds.map((id) => `yjs/${id}.bin`),
				'channels/general.md',
				'channels/general.json',
				'channels/数据主权-讨论.md',
				'channels/数据主权-讨论.json',
				'notes/会议记录- 第一次.md',
				'ai-chats/Ask about tides.md',
				'ai-chats/Ask about tides.json'
			].sort()
		);
		expect(strFromU8(files['notes/会议记录- 第一次.md'])).toBe(
			'---\ntitle: "会议记录: 第一次"\ntags: ["meeting", "会议"]\n---\n\n# Minutes\n\nWe talked about 数据主权.\n'
		);
		const chat = strFromU8(files['ai-chats/Ask about tides.md']);
		expect(chat).toContain('**Alice**');
		expect(chat).toContain('When is high tide?');
		expect(chat).toContain('**Assistant (tiny)**');
		expect(chat).toContain('At 14:02.');
		const chatJson = JSON.parse(strFromU8(files['ai-chats/Ask about tides.json']));
		expect(chatJson.messages.map((m: { role: string; text: string }) => [m.role, m.text])).toEqual([
			['user', 'When is high tide?'],
			['assistant', 'At 14:02.']
		]);
	});

	it('writes a channel transcript with names, times, threads, final edits and deleted messages marked', async () => {
		const a = await newDevice();
		const f = await seed(a);
		const files = unzipSync((await exportOf(a, f.workspaceId)).bytes);
		const md = strFromU8(files['channels/general.md']);
		expect(md).toBe(
			[
				'# #general',
				'> Daily log',
				'**Alice** · 2025-01-01 00:00 UTC',
				'Hello crew',
				'_Reactions: 👍 Bob_',
				'> **Thread: 1 reply**\n>\n> **Bob** · 2025-01-01 00:00 UTC\n>\n> A reply in the thread',
				'**Bob** · 2025-01-01 00:00 UTC · _(edited)_',
				'Typo here, fixed',
				'**Alice** · 2025-01-01 00:00 UTC',
				'_(message deleted)_'
			].join('\n\n') + '\n'
		);
		expect(md).not.toContain('Secret to delete');
		expect(md).not.toContain('Typo heer');
		const json = JSON.parse(strFromU8(files['channels/general.json']));
		expect(json.channel.name).toBe('general');
		expect(json.messages.map((m: { id: string; text: string; edited: boolean; deleted: boolean }) => [m.id, m.text, m.edited, m.deleted])).toEqual([
			['m1', 'Hello crew', false, false],
			['m2', 'Typo here, fixed', true, false],
			['m3', '', false, true]
		]);
		expect(json.messages[0].authorName).toBe('Alice');
		expect(json.messages[0].time).toBe('2025-01-01T00:00:01.000Z');
		expect(json.messages[0].replies).toEqual([
			expect.objectContaining({ id: 'r1', author: BOB, authorName: 'Bob', text: 'A reply in the thread' })
		]);
		expect(strFromU8(files['channels/数据主权-讨论.md'])).toContain('数据主权 很重要');
	});

	it('renders a single channel as Markdown for the channel menu', () => {
		const doc = new Y.Doc();
		const ch = new ChannelDoc(doc);
		ch.post(msg('x', ALICE, at(0, ALICE), 'Multi\nline'));
		const view = new ChannelView(ch);
		const info = { id: 'c', name: '公告', topic: '', private: false, readOnly: false, archived: false, createdAt: 0, createdBy: ALICE };
		expect(channelMarkdown(channelData(view, info, (p) => (p === ALICE ? 'Alice' : p)))).toBe(
			'# #公告\n\n**Alice** · 2025-01-01 00:00 UTC\n\nMulti\nline\n'
		);
		const empty = new ChannelView(new ChannelDoc(new Y.Doc()));
		expect(channelMarkdown(channelData(empty, info, (p) => p))).toBe('# #公告\n\n_No messages._\n');
	});

	it('leaves the text of messages nobody is shown out of the transcripts, and exports the private spaces it is given', async () => {
		const a = await newDevice();
		const f = await seed(a);
		const space = { id: newId(), name: 'salvage', topic: '', private: true, readOnly: false, archived: false, createdAt: 0, createdBy: ALICE };
		const handle = a.docs.open(space.id);
		await handle.ready;
		new ChannelDoc(handle.doc).post(msg('s1', ALICE, at(9000, ALICE), 'wreck at 54N'));
		a.docs.release(handle);
		const result = await exportWorkspace({
			db: a.db,
			docs: a.docs,
			workspaceId: f.workspaceId,
			appVersion: 'test',
			spaces: [space],
			unseen: async (docId) => new Set(docId === space.id ? [] : ['m1'])
		});
		const files = unzipSync(result.bytes);
		const md = strFromU8(files['channels/general.md']);
		expect(md).not.toContain('Hello crew');
		expect(md).toContain('_(hidden)_');
		expect(strFromU8(files['channels/salvage.md'])).toContain('wreck at 54N');
	});

	it('refuses to export a workspace that is not on this device', async () => {
		const a = await newDevice();
		await expect(exportOf(a, newId())).rejects.toMatchObject({ name: 'WorkspaceNotFoundError' });
	});

	it('makes safe, unique file names from any title', () => {
		expect(safeStem('a/b\\c:d*e?f"g<h>i|j', 'x')).toBe('a-b-c-d-e-f-g-h-i-j');
		expect(safeStem('../../etc/passwd', 'x')).toBe('etc-passwd');
		expect(safeStem('  ...  ', 'fallback')).toBe('fallback');
		expect(safeStem('CON', 'x')).toBe('_CON');
		expect(safeStem('数据主权', 'x')).toBe('数据主权');
		expect([...safeStem('长'.repeat(500), 'x')].length).toBe(60);
		const names = new UniqueNames();
		expect(names.claim('channels', 'General', 'c')).toBe('channels/General');
		expect(names.claim('channels', 'general', 'c')).toBe('channels/general (2)');
		expect(names.claim('channels', 'general', 'c')).toBe('channels/general (3)');
		expect(names.claim('notes', 'general', 'c')).toBe('notes/general');
		expect(names.claim('notes', '', 'note')).toBe('notes/note');
	});
});

describe('workspace import', () => {
	it('restores every document exactly on a fresh device, as a new workspace without the secret', async () => {
		const a = await newDevice();
		const f = await seed(a);
		const { bytes } = await exportOf(a, f.workspaceId);
		const b = await newDevice();
		const progress: number[] = [];
		const result = await importWorkspace({ db: b.db, docs: b.docs, onProgress: (p) => progress.push(p.done / p.total) }, bytes);
		expect(result).toEqual({ workspaceId: f.workspaceId, workspaceName: 'Vessel / 科考船', created: true, documents: 6, changed: 6, documentsLeftOut: 0, attachments: 0, attachmentsMissing: 0 });
		expect(progress.at(-1)).toBe(1);
		await settle();
		b.docs.closeAll(); // read back from storage, not from memory
		for (const id of f.docIds) {
			expect(await stateOf(b, id)).toEqual(await stateOf(a, id));
			expect(await contentOf(b, id)).toEqual(await contentOf(a, id));
		}
		const row = await b.db.workspaces.get(f.workspaceId);
		expect(row).toMatchObject({ id: f.workspaceId, name: 'Vessel / 科考船', color: '#2f5fb3', rosterId: f.rosterId });
		expect(row?.secret).toBeUndefined();
		expect(row?.joining).toBeUndefined();
	});

	it('changes nothing when the same file is imported twice', async () => {
		const a = await newDevice();
		const f = await seed(a);
		const { bytes } = await exportOf(a, f.workspaceId);
		const b = await newDevice();
		await importWorkspace({ db: b.db, docs: b.docs }, bytes);
		await settle();
		const before = await snapshotDevice(b, f.docIds);
		const again = await importWorkspace({ db: b.db, docs: b.docs }, bytes);
		await settle();
		expect(again).toMatchObject({ created: false, changed: 0, documents: 6 });
		expect(await snapshotDevice(b, f.docIds)).toEqual(before);
		const general = b.docs.open(f.general);
		await general.ready;
		expect(new ChannelDoc(general.doc).messages.length).toBe(4);
		b.docs.release(general);
		// Importing into the device it came from changes nothing either.
		expect(await importWorkspace({ db: a.db, docs: a.docs }, bytes)).toMatchObject({ created: false, changed: 0 });
		expect((await a.db.workspaces.get(f.workspaceId))?.secret).toEqual(new Uint8Array(32).fill(7));
	});

	it('merges into the same workspace, keeping concurrent changes on both sides', async () => {
		const a = await newDevice();
		const f = await seed(a);
		const { bytes: first } = await exportOf(a, f.workspaceId);
		const b = await newDevice();
		await importWorkspace({ db: b.db, docs: b.docs }, first);
		// Both devices go on separately.
		await edit_(a, f.general, (doc) => new ChannelDoc(doc).post(msg('fromA', ALICE, at(9000, ALICE), 'written on A')));
		await edit_(a, f.noteId, (doc) => new NoteDoc(doc).body.insert(0, 'A was here. '));
		await edit_(b, f.general, (doc) => new ChannelDoc(doc).post(msg('fromB', BOB, at(9500, BOB), 'written on B')));
		await edit_(b, f.noteId, (doc) => {
			const body = new NoteDoc(doc).body;
			body.insert(body.length, 'B was here.');
		});
		const newChannel = newId();
		await edit_(a, f.workspaceId, (doc) =>
			new WorkspaceDoc(doc).createChannel({ id: newChannel, name: 'random', topic: '', private: false, readOnly: false, archived: false, createdAt: 99, createdBy: ALICE })
		);
		const { bytes: second } = await exportOf(a, f.workspaceId);
		const result = await importWorkspace({ db: b.db, docs: b.docs }, second);
		// root, general and the note gained something; the new channel's document is still empty.
		expect(result).toMatchObject({ created: false, documents: 7, changed: 3 });
		await settle();
		b.docs.closeAll();
		const general = b.docs.open(f.general);
		await general.ready;
		const ids = new ChannelView(new ChannelDoc(general.doc)).top.map((m) => m.id);
		expect(ids).toEqual(['m1', 'm2', 'm3', 'fromA', 'fromB']);
		const note = b.docs.open(f.noteId);
		await note.ready;
		expect(new NoteDoc(note.doc).body.toString()).toBe('A was here. # Minutes\n\nWe talked about 数据主权.\nB was here.');
		const root = b.docs.open(f.workspaceId);
		await root.ready;
		expect(new WorkspaceDoc(root.doc).listChannels(creatorsChannels).map((c) => c.name)).toEqual(['general', '数据主权/讨论', 'random']);
	});

	it('merges into an open document live, through the shared handle', async () => {
		const a = await newDevice();
		const f = await seed(a);
		const { bytes } = await exportOf(a, f.workspaceId);
		const b = await newDevice();
		const open = b.docs.open(f.general);
		await open.ready;
		const seen: unknown[] = [];
		b.docs.onUpdate((id, _u, origin) => seen.push([id, origin]));
		await importWorkspace({ db: b.db, docs: b.docs }, bytes);
		expect(new ChannelDoc(open.doc).messages.length).toBe(4);
		expect(seen).toContainEqual([f.general, 'outpost:import']);
	});
});

describe('bad import files', () => {
	/** Imports `bytes` into a device holding one workspace; expects `error` and no change at all. */
	async function expectRefused(bytes: Uint8Array, error: string, message?: RegExp): Promise<void> {
		const a = await newDevice();
		const f = await seed(a);
		const docs = [...f.docIds];
		const before = await snapshotDevice(a, docs);
		const fresh = await newDevice();
		for (const device of [a, fresh]) {
			const attempt = importWorkspace({ db: device.db, docs: device.docs }, bytes);
			await expect(attempt).rejects.toMatchObject({ name: error });
			if (message) await expect(attempt).rejects.toThrow(message);
		}
		await settle();
		expect(await snapshotDevice(a, docs)).toEqual(before);
		expect(await fresh.db.workspaces.count()).toBe(0);
	}

	/** A valid export of a workspace on a device of its own. */
	async function validExport(): Promise<{ bytes: Uint8Array; f: Fixture }> {
		const src = await newDevice();
		const f = await seed(src);
		return { bytes: (await exportOf(src, f.workspaceId)).bytes, f };
	}

	it('refuses a file that is not a zip', async () => {
		await expectRefused(strToU8('# just some markdown, not a zip at all'), 'NotAnExportError');
		await expectRefused(new Uint8Array(0), 'NotAnExportError');
	});

	it('refuses a truncated export', async () => {
		const { bytes } = await validExport();
		await expectRefused(bytes.slice(0, Math.floor(bytes.length / 2)), 'CorruptArchiveError');
		await expectRefused(bytes.slice(0, bytes.length - 10), 'CorruptArchiveError');
	});

	it('refuses a zip without a manifest (some other program’s archive)', async () => {
		await expectRefused(zipSync({ 'photo.txt': strToU8('hello'), 'yjs/x.bin': new Uint8Array([0, 0]) }), 'MissingManifestError');
	});

	it('refuses a manifest of another format, version or shape', async () => {
		const { bytes, f } = await validExport();
		const withManifest = (change: (m: Record<string, unknown>) => unknown) =>
			rezip(bytes, (files) => {
				const m = JSON.parse(strFromU8(files['manifest.json']));
				files['manifest.json'] = strToU8(JSON.stringify(change(m) ?? m));
			});
		await expectRefused(withManifest((m) => ({ ...m, format: 'someone-elses' })), 'NotAnExportError');
		await expectRefused(withManifest((m) => ({ ...m, formatVersion: 2 })), 'UnsupportedVersionError');
		await expectRefused(rezip(bytes, (files) => (files['manifest.json'] = strToU8('{"format": "outpost-workspace-export",'))), 'InvalidManifestError');
		await expectRefused(withManifest((m) => ({ ...m, documents: 'all of them' })), 'InvalidManifestError');
		await expectRefused(
			withManifest((m) => {
				const docs = m.documents as { id: string }[];
				docs.push({ ...docs[2] }); // listed twice
			}),
			'InvalidManifestError'
		);
		await expectRefused(
			withManifest((m) => {
				const docs = m.documents as { id: string; state: string }[];
				docs[2].state = '../../escape.bin';
			}),
			'InvalidManifestError'
		);
		// A document the root does not list (it could be another workspace's document here).
		const stranger = newId();
		await expectRefused(
			rezip(bytes, (files) => {
				const m = JSON.parse(strFromU8(files['manifest.json']));
				const state = Y.encodeStateAsUpdate(new Y.Doc());
				files[`yjs/${stranger}.bin`] = state;
				const hex = createHash('sha256').update(state).digest('hex');
				m.documents.push({ id: stranger, kind: 'channel', title: 'x', state: `yjs/${stranger}.bin`, bytes: state.length, sha256: hex, files: [] });
				files['manifest.json'] = strToU8(JSON.stringify(m));
			}),
			'InvalidManifestError',
			/not part of the workspace/
		);
		expect(f.docIds.length).toBe(6);
	});

	it('refuses a document whose bytes do not match their checksum', async () => {
		const { bytes, f } = await validExport();
		const flipped = rezip(bytes, (files) => {
			const state = files[`yjs/${f.general}.bin`];
			state[state.length - 3] ^= 0xff;
		});
		await expectRefused(flipped, 'ChecksumMismatchError', new RegExp(f.general));
	});

	it('refuses a Yjs state that does not decode, even with a matching checksum', async () => {
		const { bytes, f } = await validExport();
		const replace = (state: Uint8Array) =>
			rezip(bytes, (files) => {
				files[`yjs/${f.general}.bin`] = state;
				const m = JSON.parse(strFromU8(files['manifest.json']));
				const d = m.documents.find((x: { id: string }) => x.id === f.general);
				d.bytes = state.length;
				d.sha256 = createHash('sha256').update(state).digest('hex');
				files['manifest.json'] = strToU8(JSON.stringify(m));
			});
		await expectRefused(replace(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 1, 2, 3])), 'CorruptDocumentError', new RegExp(f.general));
		// A real update that depends on changes the file does not hold.
		const doc = new Y.Doc();
		doc.getArray('messages').push(['one']);
		const sv = Y.encodeStateVector(doc);
		doc.getArray('messages').push(['two']);
		await expectRefused(replace(Y.encodeStateAsUpdate(doc, sv)), 'CorruptDocumentError', /missing/);
	});

	it('refuses entries that declare huge sizes before unpacking them', async () => {
		const { bytes, f } = await validExport();
		// Patch the declared (uncompressed) size of one state in the central directory to 2 GiB.
		const name = strToU8(`yjs/${f.general}.bin`);
		const patched = bytes.slice();
		const view = new DataView(patched.buffer);
		let found = false;
		for (let i = 0; i < patched.length - 46; i++) {
			if (view.getUint32(i, true) !== 0x02014b50) continue;
			const nameLength = view.getUint16(i + 28, true);
			const entry = patched.subarray(i + 46, i + 46 + nameLength);
			if (nameLength === name.length && entry.every((b, j) => b === name[j])) {
				view.setUint32(i + 24, 0x80000000, true);
				found = true;
			}
		}
		expect(found).toBe(true);
		await expectRefused(patched, 'ExportTooLargeError');
	});

	it('accepts the unmodified file (the cases above fail for their own reason)', async () => {
		const { bytes } = await validExport();
		await expect(readExport(bytes)).resolves.toMatchObject({ states: expect.any(Array) });
	});
});

describe('attachments in exports', () => {
	/** Posts a message with `files` in channel `docId`; the bytes of those in `held` are stored in the device's blob store. */
	async function attach(device: Device, workspaceId: string, docId: string, files: { name: string; bytes: Uint8Array; held: boolean }[]) {
		const store = new IdbBlobStore(device.db, workspaceId);
		const refs: AttachmentRef[] = [];
		for (const f of files) {
			const manifest = await manifestOfBytes(f.bytes);
			if (f.held) await putBlob(store, f.bytes);
			refs.push({ blob: manifest.id, size: f.bytes.length, mime: 'application/octet-stream', name: f.name });
		}
		await edit_(device, docId, (doc) => new ChannelDoc(doc).post({ ...msg(newId(), ALICE, at(9000, ALICE), ''), files: refs }));
		return { store, refs };
	}

	const bytesOf = (n: number, seed: number) => new Uint8Array(n).map((_, i) => (i * seed) % 251);

	it('carries the attachments the device holds, lists the others, and an import restores them', async () => {
		const a = await newDevice();
		const f = await seed(a);
		const held = bytesOf(600_000, 7);
		const { store, refs } = await attach(a, f.workspaceId, f.general, [
			{ name: 'survey/../photo?.png', bytes: held, held: true },
			{ name: 'elsewhere.bin', bytes: bytesOf(1000, 3), held: false }
		]);
		const exported = await exportWorkspace({ db: a.db, docs: a.docs, workspaceId: f.workspaceId, appVersion: 't', blobs: store });
		expect(exported.attachments).toEqual({ included: 1, missing: 1 });
		const listed = exported.manifest.attachments!;
		expect(listed.map((x) => [x.blob, x.path !== null])).toEqual([
			[refs[0]!.blob, true],
			[refs[1]!.blob, false]
		]);
		expect(listed[0]!.path).toBe(`files/${refs[0]!.blob}/survey_.._photo_.png`);

		const b = await newDevice();
		const result = await importWorkspace({ db: b.db, docs: b.docs, blobs: (id) => new IdbBlobStore(b.db, id) }, exported.bytes);
		expect(result).toMatchObject({ attachments: 1, attachmentsMissing: 1 });
		const restored = await readBlob(new IdbBlobStore(b.db, f.workspaceId), refs[0]!.blob);
		expect(Buffer.compare(restored!, held)).toBe(0);
	});

	it('leaves out an attachment whose bytes do not match its id, and imports the rest', async () => {
		const a = await newDevice();
		const f = await seed(a);
		const { store, refs } = await attach(a, f.workspaceId, f.general, [
			{ name: 'good.bin', bytes: bytesOf(1000, 5), held: true },
			{ name: 'bad.bin', bytes: bytesOf(2000, 11), held: true }
		]);
		const exported = await exportWorkspace({ db: a.db, docs: a.docs, workspaceId: f.workspaceId, appVersion: 't', blobs: store });
		const badPath = exported.manifest.attachments!.find((x) => x.blob === refs[1]!.blob)!.path!;
		const tampered = rezip(exported.bytes, (files) => {
			files[badPath]![10]! ^= 0xff;
		});
		const b = await newDevice();
		const result = await importWorkspace({ db: b.db, docs: b.docs, blobs: (id) => new IdbBlobStore(b.db, id) }, tampered);
		expect(result).toMatchObject({ attachments: 1, attachmentsMissing: 1, documents: f.docIds.length });
		const bStore = new IdbBlobStore(b.db, f.workspaceId);
		expect(await readBlob(bStore, refs[0]!.blob)).toBeDefined();
		expect(await bStore.manifest(refs[1]!.blob)).toBeUndefined();
	});

	it('refuses a manifest whose attachment points outside its own folder, before writing anything', async () => {
		const a = await newDevice();
		const f = await seed(a);
		const { store } = await attach(a, f.workspaceId, f.general, [{ name: 'x.bin', bytes: bytesOf(100, 3), held: true }]);
		const exported = await exportWorkspace({ db: a.db, docs: a.docs, workspaceId: f.workspaceId, appVersion: 't', blobs: store });
		const forged = rezip(exported.bytes, (files) => {
			const manifest = JSON.parse(strFromU8(files['manifest.json']!)) as ExportManifest;
			manifest.attachments![0]!.path = `yjs/${f.general}.bin`;
			files['manifest.json'] = strToU8(JSON.stringify(manifest));
		});
		await expect(readExport(forged)).rejects.toThrow(/unexpected path/);
	});
	it('refuses a manifest listing one attachment many times, before reading it once (found in review: each copy was sealed and held)', async () => {
		const a = await newDevice();
		const f = await seed(a);
		const { store } = await attach(a, f.workspaceId, f.general, [{ name: 'x.bin', bytes: bytesOf(300_000, 3), held: true }]);
		const exported = await exportWorkspace({ db: a.db, docs: a.docs, workspaceId: f.workspaceId, appVersion: 't', blobs: store });
		const forged = rezip(exported.bytes, (files) => {
			const manifest = JSON.parse(strFromU8(files['manifest.json']!)) as ExportManifest;
			manifest.attachments = Array.from({ length: 64 }, () => manifest.attachments![0]!);
			files['manifest.json'] = strToU8(JSON.stringify(manifest));
		});
		await expect(readExport(forged)).rejects.toThrow(/an attachment is listed twice/);
	});

	it('writes a private space’s sealed file opened, and an import seals it again to the same blob', async () => {
		const a = await newDevice();
		const f = await seed(a);
		const store = new IdbBlobStore(a.db, f.workspaceId);
		const plain = bytesOf(400_000, 13);
		const key = newBlobKey();
		const { id } = await putBlob(store, await sealBlob(plain, key));
		await edit_(a, f.general, (doc) => new ChannelDoc(doc).post({ ...msg(newId(), ALICE, at(9500, ALICE), ''), files: [{ blob: id, size: plain.length, mime: 'image/png', name: 'secret.png', key }] }));
		const exported = await exportWorkspace({ db: a.db, docs: a.docs, workspaceId: f.workspaceId, appVersion: 't', blobs: store });
		const listed = exported.manifest.attachments![0]!;
		expect(listed).toMatchObject({ blob: id, key });
		expect(Buffer.compare(unzipSync(exported.bytes)[listed.path!]!, plain)).toBe(0);
		const b = await newDevice();
		expect(await importWorkspace({ db: b.db, docs: b.docs, blobs: (ws) => new IdbBlobStore(b.db, ws) }, exported.bytes)).toMatchObject({ attachments: 1, attachmentsMissing: 0 });
		const restored = await readBlob(new IdbBlobStore(b.db, f.workspaceId), id);
		expect(Buffer.compare(await openBlob(restored!, key), plain)).toBe(0);
	});
});
