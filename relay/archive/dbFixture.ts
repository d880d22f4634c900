/**
 * For tests: reads the relay database of a data directory through a second connection, as
 * another process would (WAL lets it read beside the relay's own).
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { DB_FILE } from './relayDb.ts';

/** The rows `sql` gives on the database of `dataDir`. */
export function query<T>(dataDir: string, sql: string, ...params: unknown[]): T[] {
	const db = new Database(join(dataDir, DB_FILE), { fileMustExist: true });
	try {
		return db.prepare(sql).all(...params) as T[];
	} finally {
		db.close();
	}
}

/** Documents of `workspaceId` with records in the database, sorted. */
export function storedDocs(dataDir: string, workspaceId: string): string[] {
	return query<{ doc: string }>(dataDir, 'SELECT DISTINCT doc FROM records WHERE workspace = ? ORDER BY doc', workspaceId).map((r) => r.doc);
}
