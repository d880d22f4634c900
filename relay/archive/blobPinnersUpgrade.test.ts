/**
 * A relay database made by the code before pinners were recorded (schema 4) opened by this
 * code (schema 5, `blob_pinners`): its records, sealed logs, blobs and sealed-blob index stay.
 * Found in review: a sealed (blob, document) kept before the upgrade had no pinner recorded, so
 * a member of the space who never pinned it sent PIN (recorded as its one pinner) and then
 * UNPIN, and the relay dropped the file; such a file is now dropped by an admin's UNPIN only.
 * The real database file and the relay's own classes over it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { DB_FILE, openRelayDb } from './relayDb.ts';
import { SqliteBlobStore, SqliteSealedBlobIndex } from './SqliteBlobStore.ts';

/** The schema the previous code created (relay/archive/relayDb.ts at version 4). */
const SCHEMA_4 = `
CREATE TABLE records (workspace TEXT NOT NULL, doc TEXT NOT NULL, seq INTEGER NOT NULL, bytes BLOB NOT NULL, crc INTEGER NOT NULL, PRIMARY KEY (workspace, doc, seq));
CREATE TABLE aside (workspace TEXT NOT NULL, doc TEXT NOT NULL, bytes BLOB NOT NULL, reason TEXT NOT NULL, at INTEGER NOT NULL);
CREATE TABLE sealed (workspace TEXT NOT NULL, doc TEXT NOT NULL, idx INTEGER NOT NULL, bytes BLOB NOT NULL, PRIMARY KEY (workspace, doc, idx));
CREATE TABLE blob_manifests (workspace TEXT NOT NULL, id TEXT NOT NULL, manifest BLOB NOT NULL, PRIMARY KEY (workspace, id));
CREATE TABLE blob_spaces (workspace TEXT NOT NULL, blob TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (workspace, blob, doc));
CREATE TABLE blob_chunks (workspace TEXT NOT NULL, id TEXT NOT NULL, idx INTEGER NOT NULL, bytes BLOB NOT NULL, PRIMARY KEY (workspace, id, idx));
CREATE TABLE digests (workspace TEXT NOT NULL, doc TEXT NOT NULL, digest TEXT NOT NULL, PRIMARY KEY (workspace, doc));
PRAGMA user_version = 4;
`;

const ws = 'ws-upgrade';
const space = 'space-1';
const blob = 'ab'.repeat(32);
let dir: string;

beforeEach(async () => {
	dir = await mkdtemp(join(tmpdir(), 'outpost-pinners-upgrade-'));
	const db = new Database(join(dir, DB_FILE));
	db.exec(SCHEMA_4);
	db.prepare('INSERT INTO records VALUES (?, ?, 0, ?, 7)').run(ws, 'doc-a', Buffer.from([1, 2, 3]));
	db.prepare('INSERT INTO sealed VALUES (?, ?, 0, ?)').run(ws, space, Buffer.from([4, 5]));
	db.prepare('INSERT INTO blob_manifests VALUES (?, ?, ?)').run(ws, blob, Buffer.from([9, 9, 9, 9]));
	db.prepare('INSERT INTO blob_chunks VALUES (?, ?, 0, ?)').run(ws, blob, Buffer.alloc(1000, 1));
	db.prepare('INSERT INTO blob_spaces VALUES (?, ?, ?)').run(ws, blob, space);
	db.close();
});

afterEach(async () => {
	await rm(dir, { recursive: true, force: true });
});

it('keeps a schema 4 database’s data when this code opens it', () => {
	const relayDb = openRelayDb(dir);
	try {
		const { db } = relayDb;
		expect(db.pragma('user_version', { simple: true })).toBe(5);
		expect(db.prepare('SELECT bytes FROM records WHERE workspace = ?').all(ws)).toEqual([{ bytes: Buffer.from([1, 2, 3]) }]);
		expect(db.prepare('SELECT bytes FROM sealed WHERE workspace = ?').all(ws)).toEqual([{ bytes: Buffer.from([4, 5]) }]);
		expect(new SqliteBlobStore(relayDb, ws).bytes).toBe(1004);
		expect(new SqliteSealedBlobIndex(relayDb).has(ws, blob, space)).toBe(true);
	} finally {
		relayDb.db.close();
	}
});

it('lets no device but an admin’s drop a sealed file kept before pinners were recorded', () => {
	const relayDb = openRelayDb(dir);
	try {
		const index = new SqliteSealedBlobIndex(relayDb);
		// A member who never pinned it pins it (recorded: it is kept for the space already), then unpins.
		index.add(ws, blob, space, 'mallory');
		expect(index.forget(ws, blob, space, 'mallory')).toBe(true);
		expect(index.has(ws, blob, space)).toBe(true);
		// An admin's UNPIN forgets every pin of the document.
		expect(index.forget(ws, blob, space, undefined)).toBe(false);
		expect(index.has(ws, blob, space)).toBe(false);
	} finally {
		relayDb.db.close();
	}
});

it('opens a schema 4 database again after the upgrade without changing it', () => {
	openRelayDb(dir).db.close();
	const relayDb = openRelayDb(dir);
	try {
		expect(relayDb.db.prepare('SELECT COUNT(*) AS n FROM blob_spaces').get()).toEqual({ n: 1 });
		expect(new SqliteSealedBlobIndex(relayDb).has(ws, blob, space)).toBe(true);
	} finally {
		relayDb.db.close();
	}
});
