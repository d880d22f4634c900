/**
 * ArchiveDocs over the relay's SQLite database: the SyncDocs contract, durability across reopen
 * and `kill -9`, damaged records, quotas, and the move of the old per-document logs.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { deleteOnly } from '../../tests/fixtures/deleteOnly.ts';
import * as Y from 'yjs';
import { newId } from '../../src/lib/doc/ids.ts';
import { WorkspaceDoc } from '../../src/lib/doc/WorkspaceDoc.ts';
import { docDigest } from '../../src/lib/mesh/syncDocs.ts';
import { describeSyncDocs } from '../../tests/unit/mesh/syncDocsSuite.ts';
import { ArchiveDocs, COMPACT_AFTER_RECORDS, MAX_DOCS } from './ArchiveDocs.ts';
import { query, storedDocs } from './dbFixture.ts';
import { DiskBound } from './diskBound.ts';
import { useRelayDb } from './relayDb.ts';
import { killLoop } from './fixtures/killLoop.ts';
import { mulberry32 } from '../../tests/fixtures/random.ts';
import { encodeRecord } from './updateLog.ts';

const dirs: string[] = [];
const open: ArchiveDocs[] = [];
async function tempDir(): Promise<string> {
	const dir = await mkdtemp(join(tmpdir(), 'outpost-archive-'));
	dirs.push(dir);
	return dir;
}
async function openArchive(dataDir: string, workspaceId: string, init?: Parameters<typeof ArchiveDocs.open>[2]): Promise<ArchiveDocs> {
	const archive = await ArchiveDocs.open(dataDir, workspaceId, init);
	open.push(archive);
	return archive;
}
afterAll(async () => {
	for (const archive of open) await archive.close();
	for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

function update(change: (doc: Y.Doc) => void): Uint8Array {
	const doc = new Y.Doc();
	change(doc);
	return Y.encodeStateAsUpdate(doc);
}

describeSyncDocs('ArchiveDocs', async () => {
	const docs = await openArchive(await tempDir(), newId());
	return { docs, edit: (docId: string, change: (doc: Y.Doc) => void) => docs.change(docId, change) };
});

// The same contract while every document but the last one used is evicted at once.
describeSyncDocs('ArchiveDocs holding one document', async () => {
	const docs = await openArchive(await tempDir(), newId(), { maxHeld: 1 });
	return { docs, edit: (docId: string, change: (doc: Y.Doc) => void) => docs.change(docId, change) };
});

describe('ArchiveDocs', () => {
	it('lists the workspace root, empty, before it arrives', async () => {
		const workspaceId = newId();
		const archive = await openArchive(await tempDir(), workspaceId);
		expect(archive.list()).toEqual([workspaceId]);
		expect(archive.stateVector(workspaceId)).toEqual(Y.encodeStateVector(new Y.Doc()));
		expect(await archive.digest(workspaceId)).toBe(await docDigest(new Y.Doc()));
	});

	it('keeps no deletion waiting for records not held: the writer\'s next channel still arrives (found in review)', async () => {
		const workspaceId = newId();
		const archive = await openArchive(await tempDir(), workspaceId);
		const writer = new Y.Doc();
		const root = new WorkspaceDoc(writer);
		const channel = (id: string) => ({ id, name: id, topic: '', private: false, readOnly: false, archived: false, createdAt: 1, createdBy: 'peer-a' });
		root.createChannel(channel('first'));
		await archive.apply(workspaceId, Y.encodeStateAsUpdate(writer), 'peer');
		// A modified client's delete set naming the writer's next clocks: it deletes nothing held, so it passes.
		const future = deleteOnly(writer.clientID, Y.getState(writer.store, writer.clientID), 1_000_000);
		await archive.apply(workspaceId, future, 'attacker');
		const before = Y.encodeStateVector(writer);
		root.createChannel(channel('second'));
		await archive.apply(workspaceId, Y.encodeStateAsUpdate(writer, before), 'peer');
		const held = new Y.Doc();
		Y.applyUpdate(held, (await archive.diff(workspaceId, Y.encodeStateVector(new Y.Doc())))!);
		expect([...new WorkspaceDoc(held).channels.keys()].sort()).toEqual(['first', 'second']);
	});

	it('finds every document again when reopened', async () => {
		const [dataDir, workspaceId, a, b] = [await tempDir(), newId(), newId(), newId()];
		const first = await ArchiveDocs.open(dataDir, workspaceId);
		await first.apply(a, update((doc) => doc.getText('t').insert(0, 'hello')), 'peer');
		await first.apply(b, update((doc) => doc.getMap('m').set('k', 1)), 'peer');
		await first.change(a, (doc) => doc.getText('t').delete(0, 1));
		const digests = [await first.digest(a), await first.digest(b)];
		await first.close();

		const again = await openArchive(dataDir, workspaceId);
		expect(again.list().sort()).toEqual([workspaceId, a, b].sort());
		expect([await again.digest(a), await again.digest(b)]).toEqual(digests);
		expect(again.recovered).toEqual([]);
		const mirror = new Y.Doc();
		Y.applyUpdate(mirror, (await again.diff(a, Y.encodeStateVector(mirror)))!);
		expect(mirror.getText('t').toString()).toBe('ello');
	});

	it('loads documents on demand and keeps at most maxHeld in memory, with the same answers', async () => {
		const [dataDir, workspaceId] = [await tempDir(), newId()];
		const ids = [...Array(6)].map(() => newId());
		const first = await ArchiveDocs.open(dataDir, workspaceId);
		for (const [n, id] of ids.entries()) await first.apply(id, update((doc) => doc.getMap('m').set('n', n)), 'peer');
		const digests = await Promise.all(ids.map((id) => first.digest(id)));
		await first.close();

		const again = await openArchive(dataDir, workspaceId, { maxHeld: 2 });
		expect(again.heldCount).toBe(0); // opening lists the directory, loads nothing
		expect(again.list().sort()).toEqual([workspaceId, ...ids].sort());
		expect(await Promise.all(ids.map((id) => again.digest(id)))).toEqual(digests);
		expect(again.heldCount).toBeLessThanOrEqual(2);
		// An evicted document answers again from disk, and takes new updates.
		const mirror = new Y.Doc();
		Y.applyUpdate(mirror, (await again.diff(ids[0]!, Y.encodeStateVector(mirror)))!);
		expect(mirror.getMap('m').get('n')).toBe(0);
		await again.apply(ids[0]!, update((doc) => doc.getMap('m').set('later', true)), 'peer');
		for (const id of ids.slice(1)) await again.stateVector(id); // evicts ids[0] again
		expect(again.heldCount).toBeLessThanOrEqual(2);
		const reread = new Y.Doc();
		Y.applyUpdate(reread, (await again.diff(ids[0]!, Y.encodeStateVector(reread)))!);
		expect(reread.getMap('m').get('later')).toBe(true);
		expect(await again.digest(ids[0]!)).toBe(await docDigest(reread));
	});

	it('refuses documents beyond maxDocs with TooManyDocumentsError and stores nothing for them', async () => {
		expect(MAX_DOCS).toBe(100_000);
		const [dataDir, workspaceId] = [await tempDir(), newId()];
		const archive = await openArchive(dataDir, workspaceId, { maxDocs: 3 });
		const ids = [newId(), newId(), newId()];
		// Created at once: the limit holds for concurrent creations too.
		const results = await Promise.allSettled(
			[...ids, newId(), newId()].map((id) => archive.apply(id, update((doc) => doc.getMap('m').set('k', id)), 'peer'))
		);
		expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
		const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
		expect(refused).toHaveLength(2);
		for (const { reason } of refused) {
			expect(reason).toMatchObject({ name: 'UpdateRejectedError', message: expect.stringMatching(/already holds 3 documents/) });
		}
		await expect(archive.change(newId(), (doc) => doc.getMap('m').set('k', 1))).rejects.toMatchObject({ name: 'TooManyDocumentsError' });
		expect(storedDocs(dataDir, workspaceId)).toEqual([...ids].sort());
		// Documents it holds still take updates.
		await archive.apply(ids[0]!, update((doc) => doc.getMap('m').set('more', 1)), 'peer');
	});

	it('refuses a bad id or an unreadable update with UpdateRejectedError and stores nothing', async () => {
		const [dataDir, workspaceId, id] = [await tempDir(), newId(), newId()];
		const archive = await openArchive(dataDir, workspaceId);
		const seen: string[] = [];
		archive.onLocalUpdate((docId) => seen.push(docId));
		await expect(archive.apply('../escape', update((doc) => doc.getMap('m').set('k', 1)), 'x')).rejects.toMatchObject({
			name: 'UpdateRejectedError'
		});
		await expect(archive.apply(id, new Uint8Array([1, 2, 3, 250, 250]), 'x')).rejects.toMatchObject({ name: 'UpdateRejectedError' });
		expect(archive.list()).toEqual([workspaceId]);
		expect(seen).toEqual([]);
		expect(storedDocs(dataDir, workspaceId)).toEqual([]);
	});

	it('keeps a listed channel\'s history whole: a hard delete from a member is refused and not stored', async () => {
		const [dataDir, workspaceId, channel] = [await tempDir(), newId(), newId()];
		const archive = await openArchive(dataDir, workspaceId);
		await archive.apply(workspaceId, update((doc) => new WorkspaceDoc(doc).createChannel({ id: channel, name: 'general', topic: '', private: false, readOnly: false, archived: false, createdAt: 1, createdBy: 'a' })), 'peer');
		const source = new Y.Doc();
		source.getArray('messages').push([{ id: 'm1', author: 'a', hlc: 'h', text: 'kept', sig: 's' }]);
		await archive.apply(channel, Y.encodeStateAsUpdate(source), 'peer');
		const before = Y.encodeStateVector(source);
		source.getArray('messages').delete(0, 1);
		await expect(archive.apply(channel, Y.encodeStateAsUpdate(source, before), 'mallory')).rejects.toThrow('a record cannot be deleted');
		await archive.close();
		const again = await openArchive(dataDir, workspaceId);
		const stored = new Y.Doc();
		Y.applyUpdate(stored, (await again.diff(channel, new Uint8Array([0])))!);
		expect(stored.getArray('messages').length).toBe(1);
	});

	it('compacts a long log into one record that loads the same state', async () => {
		const [dataDir, workspaceId, id] = [await tempDir(), newId(), newId()];
		const archive = await ArchiveDocs.open(dataDir, workspaceId);
		const source = new Y.Doc();
		for (let n = 0; n < COMPACT_AFTER_RECORDS + 5; n++) {
			const before = Y.encodeStateVector(source);
			source.getMap('m').set(`k${n % 50}`, n);
			await archive.apply(id, Y.encodeStateAsUpdate(source, before), 'peer');
		}
		const records = () => query<{ n: number }>(dataDir, 'SELECT COUNT(*) AS n FROM records WHERE doc = ?', id)[0]!.n;
		const uncompacted = records();
		// Compaction follows a second after the log reaches the limit: the document becomes one record.
		const deadline = Date.now() + 10_000;
		while (records() > 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
		await archive.close();
		expect(uncompacted).toBeGreaterThanOrEqual(COMPACT_AFTER_RECORDS);
		expect(records()).toBe(1);
		const again = await openArchive(dataDir, workspaceId);
		expect(await again.digest(id)).toBe(await docDigest(source));
	}, 60_000);

	it('sets a damaged record aside, reports it, and serves every intact update', async () => {
		const [dataDir, workspaceId, id, other] = [await tempDir(), newId(), newId(), newId()];
		const first = await ArchiveDocs.open(dataDir, workspaceId);
		await first.apply(id, update((doc) => doc.getMap('m').set('a', 1)), 'peer');
		const kept = await first.digest(id);
		await first.apply(id, update((doc) => doc.getMap('m').set('b', 2)), 'peer');
		await first.apply(other, update((doc) => doc.getMap('m').set('c', 3)), 'peer');
		const otherDigest = await first.digest(other);
		await first.close();
		// One bit of the second record flips on disk.
		const [row] = query<{ seq: number; bytes: Uint8Array }>(dataDir, 'SELECT seq, bytes FROM records WHERE doc = ? ORDER BY seq DESC LIMIT 1', id);
		const flipped = Uint8Array.from(row!.bytes);
		flipped[flipped.length - 1]! ^= 0x10;
		query(dataDir, 'UPDATE records SET bytes = ? WHERE doc = ? AND seq = ? RETURNING seq', flipped, id, row!.seq);

		const again = await openArchive(dataDir, workspaceId);
		// The digest kept from before is trusted until the document loads; loading finds the damage.
		await again.stateVector(id);
		expect(again.recovered).toEqual([{ docId: id, droppedBytes: flipped.length }]);
		expect(await again.digest(id)).toBe(kept);
		expect(await again.digest(other)).toBe(otherDigest);
		expect(query<{ reason: string }>(dataDir, 'SELECT reason FROM aside WHERE doc = ?', id).map((r) => r.reason)).toEqual(['damaged: checksum mismatch']);
		// Set aside once: the document takes new updates and reopens with no damage.
		await again.apply(id, update((doc) => doc.getMap('m').set('d', 4)), 'peer');
		const digest = await again.digest(id);
		await again.close();
		const third = await openArchive(dataDir, workspaceId);
		expect(third.recovered).toEqual([]);
		expect(await third.digest(id)).toBe(digest);
	});

	it('refuses updates past the workspace byte quota with nothing stored, and takes them again once compaction frees room', async () => {
		const [dataDir, workspaceId, id] = [await tempDir(), newId(), newId()];
		const logged: string[] = [];
		const archive = await openArchive(dataDir, workspaceId, { maxBytes: 4000, log: (line) => logged.push(line) });
		await archive.apply(id, update((doc) => doc.getText('t').insert(0, 'a'.repeat(3000))), 'peer');
		for (let n = 0; n < 3; n++) {
			await expect(archive.apply(newId(), update((doc) => doc.getText('t').insert(0, 'b'.repeat(2000))), 'peer')).rejects.toMatchObject({
				name: 'UpdateRejectedError',
				message: expect.stringMatching(/quota of 4000 bytes/)
			});
		}
		expect(storedDocs(dataDir, workspaceId)).toEqual([id]);
		expect(logged.filter((line) => line.includes('quota'))).toHaveLength(1); // logged once, not per update
		expect(archive.recountBytes()).toBeLessThan(4000);
		// Small updates still fit.
		await archive.apply(id, update((doc) => doc.getMap('m').set('k', 1)), 'peer');
	});

	it("holds every workspace together to the relay's bound: past it an update of any workspace is refused, nothing stored, logged once", async () => {
		const dataDir = await tempDir();
		const logged: string[] = [];
		const { relayDb, release } = useRelayDb(dataDir);
		try {
			const bound = new DiskBound(relayDb.db, new DiskBound(relayDb.db).used() + 600_000, (line) => logged.push(line));
			// Each workspace well within its own quota (1 GiB by default).
			const first = await openArchive(dataDir, newId(), { bound });
			const second = await openArchive(dataDir, newId(), { bound });
			const big = () => update((doc) => doc.getMap('m').set('bytes', new Uint8Array(randomBytes(400_000))));
			await first.apply(newId(), big(), 'peer');
			for (let n = 0; n < 3; n++) {
				await expect(second.apply(newId(), big(), 'peer')).rejects.toMatchObject({
					name: 'UpdateRejectedError',
					message: expect.stringMatching(/stores at most \d+ bytes in all/)
				});
			}
			expect(storedDocs(dataDir, second.workspaceId)).toEqual([]);
			expect(logged.filter((line) => line.includes('--relay-bytes'))).toHaveLength(1); // once, not per update
			expect(bound.used()).toBeLessThanOrEqual(bound.maxBytes);
			// What still fits is taken; a local edit that says what it adds is held to the bound too.
			const small = newId();
			await second.apply(small, update((doc) => doc.getMap('m').set('k', 1)), 'peer');
			expect(storedDocs(dataDir, second.workspaceId)).toEqual([small]);
			await expect(second.change(small, (doc) => doc.getMap('m').set('bytes', new Uint8Array(randomBytes(400_000))), 'seed', 400_000)).rejects.toMatchObject({ name: 'RelayFullError' });
			expect((await second.diff(small, new Uint8Array([0])))!.byteLength).toBeLessThan(1000);
		} finally {
			release();
		}
	});

	it('moves the logs of a relay from before the database in once, damaged records aside, and keeps the old files apart', async () => {
		const [dataDir, workspaceId, a, b] = [await tempDir(), newId(), newId(), newId()];
		const dir = join(dataDir, 'workspaces', workspaceId);
		await mkdir(dir, { recursive: true });
		const source = new Y.Doc();
		const records: Uint8Array[] = [];
		for (const word of ['one', 'two', 'three']) {
			const before = Y.encodeStateVector(source);
			source.getArray('words').push([word]);
			records.push(encodeRecord(Y.encodeStateAsUpdate(source, before)));
		}
		const damaged = Uint8Array.from(encodeRecord(update((doc) => doc.getMap('m').set('lost', true))));
		damaged[damaged.length - 1]! ^= 0xff;
		await writeFile(join(dir, `${a}.ylog`), Buffer.concat([records[0]!, damaged, records[1]!, records[2]!]));
		await writeFile(join(dir, `${b}.ylog`), encodeRecord(update((doc) => doc.getMap('m').set('b', true))));
		await writeFile(join(dir, `${a}.ylog.aside`), encodeRecord(update((doc) => doc.getMap('m').set('old', true))));

		const logged: string[] = [];
		const archive = await ArchiveDocs.open(dataDir, workspaceId, { log: (line) => logged.push(line) });
		expect(archive.list().sort()).toEqual([workspaceId, a, b].sort());
		const moved = new Y.Doc();
		Y.applyUpdate(moved, (await archive.diff(a, Y.encodeStateVector(moved)))!);
		expect(moved.getArray('words').toArray()).toEqual(['one', 'two', 'three']);
		expect(query<{ reason: string }>(dataDir, 'SELECT reason FROM aside WHERE doc = ? ORDER BY reason', a).map((r) => r.reason)).toEqual([
			'damaged in the log',
			'set aside before the database'
		]);
		expect(logged.join('\n')).toMatch(/Moved workspace .* 4 records \(\d+ damaged or torn bytes were not moved/);
		await archive.close();
		// The old directory is kept apart, never read again; a second start moves nothing.
		expect(existsSync(join(dataDir, 'workspaces'))).toBe(false);
		expect(await readdir(join(dataDir, 'workspaces.migrated', workspaceId))).toContain(`${a}.ylog`);
		const again = await openArchive(dataDir, workspaceId, { log: (line) => logged.push(line) });
		expect(logged.filter((line) => line.startsWith('Moved'))).toHaveLength(1);
		expect(await again.digest(a)).toBe(await docDigest(moved));
	});

	it('keeps every acknowledged update through 10 kill -9 at random moments while writing', async () => {
		const [dataDir, workspaceId, docId] = [await tempDir(), newId(), newId()];
		const figures = await killLoop(dataDir, workspaceId, docId, 10, mulberry32(9));
		console.info(`kill -9 × ${figures.kills}: ${figures.acknowledged} updates acknowledged, ${figures.found} found after the restarts`);
		expect(figures.acknowledged).toBeGreaterThan(10);
		expect(figures.missing).toEqual([]);
		expect(figures.found).toBe(figures.acknowledged);
	}, 120_000);
});
