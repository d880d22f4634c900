/**
 * The relay's one embedded database: `<data>/relay.db`, SQLite through better-sqlite3, in WAL
 * mode with full synchronous commits (a statement that returned is on disk, and a crash loses
 * no committed transaction). It holds the archive's documents (records of Yjs updates, the
 * records set aside, digests) and the sealed logs of private spaces it is not in
 * (SealedLog.ts) and the blobs of the workspaces it archives (SqliteBlobStore.ts), and is opened
 * once per data directory per process: every archive of the
 * relay shares it ({@link useRelayDb}, reference-counted), and another process
 * (a `join` while the relay runs) shares the file through SQLite's own locking.
 *
 * Records carry a CRC-32 of their bytes: SQLite checks its pages' structure (`quick_check` at
 * open, reported), the CRC catches a flipped bit inside a record, which is then set aside and
 * reported with the rest of the document still served (SqliteDocStorage.ts).
 *
 * Logs of the relay before this database (`<data>/workspaces/<id>/<doc>.ylog`) are moved in on
 * first open (migrateLogs.ts).
 */
import Database from 'better-sqlite3';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { migrateLogs } from './migrateLogs.ts';

/** File name of the relay's database in its data directory. */
export const DB_FILE = 'relay.db';

/** The schema's version (`PRAGMA user_version`). */
const SCHEMA_VERSION = 5;

/** The pinner recorded for a sealed blob kept before pinners were (schema 4): no device's id. */
const PINNED_BEFORE_RECORDS = '';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS records (
	workspace TEXT NOT NULL,
	doc TEXT NOT NULL,
	seq INTEGER NOT NULL,
	bytes BLOB NOT NULL,
	crc INTEGER NOT NULL,
	PRIMARY KEY (workspace, doc, seq)
);
CREATE TABLE IF NOT EXISTS aside (
	workspace TEXT NOT NULL,
	doc TEXT NOT NULL,
	bytes BLOB NOT NULL,
	reason TEXT NOT NULL,
	at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sealed (
	workspace TEXT NOT NULL,
	doc TEXT NOT NULL,
	idx INTEGER NOT NULL,
	bytes BLOB NOT NULL,
	PRIMARY KEY (workspace, doc, idx)
);
CREATE TABLE IF NOT EXISTS blob_manifests (
	workspace TEXT NOT NULL,
	id TEXT NOT NULL,
	manifest BLOB NOT NULL,
	PRIMARY KEY (workspace, id)
);
CREATE TABLE IF NOT EXISTS blob_spaces (
	workspace TEXT NOT NULL,
	blob TEXT NOT NULL,
	doc TEXT NOT NULL,
	PRIMARY KEY (workspace, blob, doc)
);
CREATE TABLE IF NOT EXISTS blob_pinners (
	workspace TEXT NOT NULL,
	blob TEXT NOT NULL,
	doc TEXT NOT NULL,
	device TEXT NOT NULL,
	PRIMARY KEY (workspace, blob, doc, device)
);
CREATE TABLE IF NOT EXISTS blob_chunks (
	workspace TEXT NOT NULL,
	id TEXT NOT NULL,
	idx INTEGER NOT NULL,
	bytes BLOB NOT NULL,
	PRIMARY KEY (workspace, id, idx)
);
CREATE TABLE IF NOT EXISTS digests (
	workspace TEXT NOT NULL,
	doc TEXT NOT NULL,
	digest TEXT NOT NULL,
	PRIMARY KEY (workspace, doc)
);
`;

/** An open relay database. */
export interface RelayDb {
	readonly db: Database.Database;
	readonly path: string;
	/** What `quick_check` found wrong when it opened (empty: nothing). */
	readonly damage: readonly string[];
}

/** Opens (creating when missing) the database of `dataDir`; see the module comment. */
export function openRelayDb(dataDir: string, log: (line: string) => void = () => {}): RelayDb {
	mkdirSync(dataDir, { recursive: true, mode: 0o700 });
	const path = join(dataDir, DB_FILE);
	// Readable by this user only (it holds the archive and key hashes); SQLite gives its -wal
	// and -shm files the same mode. An empty file is a new database to SQLite.
	closeSync(openSync(path, 'a', 0o600));
	const db = new Database(path);
	try {
		db.pragma('journal_mode = WAL');
		db.pragma('synchronous = FULL');
		// Another process holding the write lock (a join while the relay runs) is waited for.
		db.pragma('busy_timeout = 5000');
		const damage = (db.pragma('quick_check', { simple: false }) as Array<{ quick_check: string }>)
			.map((row) => row.quick_check)
			.filter((line) => line !== 'ok');
		for (const line of damage) log(`The relay's database ${path} is damaged: ${line} (what can be read is still served)`);
		const version = db.pragma('user_version', { simple: true }) as number;
		if (version < SCHEMA_VERSION) {
			db.transaction(() => {
				db.exec(SCHEMA);
				// Sealed blobs kept before pinners were recorded (schema 4): a pinner no device is, so
				// that only an admin's UNPIN drops them (found in review: a member who never pinned
				// one had itself recorded by a PIN, then unpinned it, and the file was dropped).
				if (version < 5) db.exec(`INSERT OR IGNORE INTO blob_pinners (workspace, blob, doc, device) SELECT workspace, blob, doc, '${PINNED_BEFORE_RECORDS}' FROM blob_spaces`);
				db.pragma(`user_version = ${SCHEMA_VERSION}`);
			})();
		}
		migrateLogs(db, dataDir, log);
		return { db, path, damage };
	} catch (error) {
		db.close();
		throw error;
	}
}

/** Open databases of this process by path, with how many users each has. */
const shared = new Map<string, { relayDb: RelayDb; users: number }>();

/**
 * The database of `dataDir`, opened on first use in this process and shared; call the
 * returned `release` when done (the last release closes it).
 */
export function useRelayDb(dataDir: string, log?: (line: string) => void): { relayDb: RelayDb; release: () => void } {
	const path = join(dataDir, DB_FILE);
	let entry = shared.get(path);
	if (entry === undefined) {
		entry = { relayDb: openRelayDb(dataDir, log), users: 0 };
		shared.set(path, entry);
	}
	entry.users++;
	const used = entry;
	let released = false;
	return {
		relayDb: used.relayDb,
		release: () => {
			if (released) return;
			released = true;
			if (--used.users > 0) return;
			shared.delete(path);
			used.relayDb.db.close();
		}
	};
}
