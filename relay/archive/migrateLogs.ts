/**
 * Moves the document logs of a relay from before its database (`<data>/workspaces/<id>/
 * <doc>.ylog`, with `.ylog.aside` files of records set aside) into the database, once. Each
 * workspace moves in one transaction: its intact records in order, its damaged spans and
 * aside files into `aside`. When every workspace has moved, the directory is renamed to
 * `<data>/workspaces.migrated` (kept, never read again: the old files stay for whoever wants
 * them). A crash before the rename leaves the database without the unfinished workspace's
 * rows (its transaction never committed) and the directory in place, so the next start
 * moves it again: workspaces already in the database are skipped.
 */
import type Database from 'better-sqlite3';
import { existsSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { isId } from '../../src/lib/doc/ids.ts';
import { crc32, decodeLog } from './updateLog.ts';

const LOG = '.ylog';
const ASIDE = '.ylog.aside';

/** Where the logs were, and where they go once moved. */
export const LEGACY_DIR = 'workspaces';
export const MIGRATED_DIR = 'workspaces.migrated';

/** Moves every legacy log under `dataDir` into `db`; see the module comment. */
export function migrateLogs(db: Database.Database, dataDir: string, log: (line: string) => void): void {
	const legacy = join(dataDir, LEGACY_DIR);
	if (!existsSync(legacy)) return;
	const insert = db.prepare('INSERT INTO records (workspace, doc, seq, bytes, crc) VALUES (?, ?, ?, ?, ?)');
	const aside = db.prepare('INSERT INTO aside (workspace, doc, bytes, reason, at) VALUES (?, ?, ?, ?, ?)');
	const has = db.prepare<[string], { one: number }>('SELECT 1 AS one FROM records WHERE workspace = ? LIMIT 1');
	let moved = 0;
	for (const workspace of readdirSync(legacy)) {
		if (!isId(workspace) || has.get(workspace) !== undefined) continue;
		const dir = join(legacy, workspace);
		let records = 0;
		let damagedBytes = 0;
		db.transaction(() => {
			for (const name of readdirSync(dir)) {
				const now = Date.now();
				if (name.endsWith(ASIDE)) {
					const docId = name.slice(0, -ASIDE.length);
					for (const update of decodeLog(readFileSync(join(dir, name))).updates) aside.run(workspace, docId, update, 'set aside before the database', now);
					continue;
				}
				const docId = name.slice(0, -LOG.length);
				if (!name.endsWith(LOG) || !isId(docId)) continue;
				const contents = decodeLog(readFileSync(join(dir, name)));
				contents.updates.forEach((update, seq) => insert.run(workspace, docId, seq, update, crc32(update)));
				for (const span of contents.damaged) aside.run(workspace, docId, span, 'damaged in the log', now);
				records += contents.updates.length;
				damagedBytes += contents.droppedBytes + contents.damaged.reduce((n, span) => n + span.length, 0);
			}
		})();
		moved++;
		log(
			`Moved workspace ${workspace}'s document logs into the relay's database: ${records} records` +
				(damagedBytes > 0 ? ` (${damagedBytes} damaged or torn bytes were not moved; damaged records are kept aside)` : '')
		);
	}
	// A second set of old logs (restored by hand) does not overwrite the first one kept.
	let kept = join(dataDir, MIGRATED_DIR);
	if (existsSync(kept)) kept += `-${Date.now()}`;
	renameSync(legacy, kept);
	if (moved > 0) log(`The old logs are kept in ${kept}; the relay no longer reads them.`);
}
