/**
 * The relay's bound on what it stores in all: every workspace's records, sealed logs and
 * blobs together, beside each workspace's own quotas (found in review: disk was bounded per
 * workspace only, and anyone on the LAN may have the relay archive a few workspaces of their
 * own, each with gigabytes of quota, which a small box's disk cannot hold).
 *
 * It counts the pages in use of the relay's database (relayDb.ts): the file's pages less its
 * free list, so what compactions and drops free counts as room again, and indexes, records set
 * aside and digests count too. Reading it is two pragmas, so every write may ask. A write is
 * refused ({@link RelayFullError}) when its bytes would take the database past the bound;
 * the first refusal is logged, not every one, and again only after the relay had room (a
 * twentieth of the bound free) since.
 */
import type Database from 'better-sqlite3';

/** Default of the bytes the relay's database may hold in all: 16 GiB, room beside the system and models on a 64 GB card. */
export const MAX_RELAY_BYTES = 16 * 1024 ** 3;

/** A write would take the relay past what it stores in all; nothing was stored. */
export class RelayFullError extends Error {
	override name = 'RelayFullError';
	constructor(readonly limit: number) {
		super(`this relay stores at most ${limit} bytes in all and has no room left: its operator frees room or raises --relay-bytes`);
	}
}

/** See the module comment. */
export class DiskBound {
	/** Whether the current run of refusals was logged (again once there is room). */
	private told = false;

	constructor(
		private readonly db: Database.Database,
		/** Most bytes the database may hold. */
		readonly maxBytes: number = MAX_RELAY_BYTES,
		private readonly log: (line: string) => void = () => {}
	) {}

	/** Bytes of the database in use now (its pages less the free ones). */
	used(): number {
		const pages = this.db.pragma('page_count', { simple: true }) as number;
		const free = this.db.pragma('freelist_count', { simple: true }) as number;
		const size = this.db.pragma('page_size', { simple: true }) as number;
		return (pages - free) * size;
	}

	/** Whether `bytes` more fit; the first refusal of a run is logged, with `what` was refused. */
	fits(bytes: number, what: string): boolean {
		const used = this.used();
		if (used + bytes <= this.maxBytes) {
			// Told again only once a twentieth is free: small writes that fit between large ones refused do not fill the log.
			if (used <= this.maxBytes * 0.95) this.told = false;
			return true;
		}
		if (!this.told) {
			this.told = true;
			this.log(`The relay holds as much as it stores in all (${this.maxBytes} bytes, --relay-bytes): refusing ${what} and everything more until there is room`);
		}
		return false;
	}

	/** @throws {RelayFullError} unless `bytes` more fit ({@link fits}). */
	check(bytes: number, what: string): void {
		if (!this.fits(bytes, what)) throw new RelayFullError(this.maxBytes);
	}
}
