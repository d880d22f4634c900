/**
 * This device's mirrors of relays' sealed logs (core/sealedSync.ts), kept in the settings
 * table so a restart reads each relay's log from where it stopped. One row per workspace,
 * relay and space document; what a row holds is checked when it is read (a damaged row is
 * treated as none: the log is read again from its start).
 */
import { MAX_WAITING_GENERATIONS, type SealedMirrorStore, type StoredMirror } from '../core/sealedSync.js';
import type { OutpostDb } from './db.js';

/** The settings key prefix of the mirrors. */
export const MIRROR_KEY_PREFIX = 'sealed-mirror\n';

/** The mirrors of workspace `workspaceId` in `db`'s settings. */
export function settingsMirrors(db: Pick<OutpostDb, 'settings'>, workspaceId: string): SealedMirrorStore {
	const row = (key: string) => `${MIRROR_KEY_PREFIX}${workspaceId}\n${key}`;
	return {
		load: async (key) => {
			const found = await db.settings.get(row(key));
			return isStoredMirror(found?.value) ? found.value : undefined;
		},
		save: async (key, mirror) => {
			await db.settings.put({ key: row(key), value: mirror });
		}
	};
}

function isStoredMirror(value: unknown): value is StoredMirror {
	if (typeof value !== 'object' || value === null) return false;
	const { read, state, last, waiting } = value as Record<string, unknown>;
	return (
		Number.isSafeInteger(read) &&
		(read as number) >= 0 &&
		state instanceof Uint8Array &&
		(last === undefined || (last instanceof Uint8Array && last.length === 32)) &&
		(waiting === undefined || isWaiting(waiting, read as number))
	);
}

/** Generation id → index of an envelope already read, at most {@link MAX_WAITING_GENERATIONS} of them. */
function isWaiting(value: unknown, read: number): boolean {
	if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
	const entries = Object.entries(value);
	return entries.length <= MAX_WAITING_GENERATIONS && entries.every(([, at]) => Number.isSafeInteger(at) && (at as number) >= 0 && (at as number) < read);
}
