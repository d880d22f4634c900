/**
 * A device's storage budget for blobs. A browser fetches the images and voice notes of the
 * channels it reads as soon as they are referenced (the auto-fetch, up to the file policy's
 * size); without a budget, a member posting many images filled every member's browser storage
 * (found in review). So:
 *
 * - **Automatic fetches** are admitted (on the verified manifest's size, before any chunk is
 *   stored) only while every blob the device holds, plus this one, stays within the budget, and
 *   the files one sender's messages brought in automatically stay within {@link DEFAULT_SENDER_SHARE}
 *   of it. To make room, files fetched automatically that the user never opened are dropped,
 *   the sender's own oldest first, then anyone's oldest. Past that the fetch is refused with
 *   {@link BudgetReachedError}: the view shows the file as not downloaded, with Download.
 * - **Files the user opens** (Download, Load, Play, opened full size) are fetched whatever the
 *   budget, while the device's real storage has room (`navigator.storage.estimate`); files
 *   fetched automatically make room first. Past that: {@link DeviceFullError}.
 * - **Files this device sent, or the user opened, are never dropped.** Nor is one whose fetch
 *   may still be under way (not whole, admitted less than {@link STALE_MS} ago).
 *
 * The stores record, per blob, why it is held ({@link BlobLedger}); this module is the policy
 * above them, one per tab (core/deviceBlobs.ts). The tabs of one browser share its stores, so
 * an admission holds the Web Lock {@link BUDGET_LOCK} (`navigator.locks`) from its count to its
 * mark: two tabs admitting at once would each see the room the other takes. Where the browser
 * has no Web Locks, admissions are one at a time within the tab only.
 */
import { BlobRefusedError } from './blobErrors.js';
import type { BlobManifest } from './blobManifest.js';
import type { BlobStore } from './BlobStore.js';

/** Why a device holds a blob: it sent it, the user opened it, or it was fetched automatically. */
export const BlobOrigin = { sent: 'sent', opened: 'opened', auto: 'auto' } as const;
export type BlobOrigin = (typeof BlobOrigin)[keyof typeof BlobOrigin];

/** How much an origin keeps a blob: a blob's origin only rises (an opened file is never auto again). */
const RANK: Record<BlobOrigin, number> = { auto: 0, opened: 1, sent: 2 };

/** The higher of two origins. */
export function strongerOrigin(a: BlobOrigin | undefined, b: BlobOrigin): BlobOrigin {
	return a !== undefined && RANK[a] >= RANK[b] ? a : b;
}

/** One blob as the budget counts it. */
export interface LedgerEntry {
	id: string;
	/** Its whole size (counted from its admission, before its chunks arrive). */
	bytes: number;
	origin: BlobOrigin;
	/** When it was admitted (ms since the epoch). */
	at: number;
	/** Who posted the message that brought it in (automatic fetches), when known. */
	sender?: string;
}

/**
 * What a blob store tells the budget (IdbBlobStore, MemoryBlobStore). A blob held without a mark
 * (stored before the budget existed, or by an import) counts as sent: counted, never dropped.
 */
export interface BlobLedger extends BlobStore {
	/** Every blob held or admitted. */
	entries(): Promise<LedgerEntry[]>;
	/** Records why blob `id` (of `bytes`) is held; an origin already recorded only rises. */
	mark(id: string, bytes: number, origin: BlobOrigin, sender?: string): Promise<void>;
	/** Drops blob `id`: its manifest, its chunks and its mark. */
	drop(id: string): Promise<void>;
}

/** The budget refuses an automatic fetch: the file shows as not downloaded, with Download. */
export class BudgetReachedError extends BlobRefusedError {
	override name = 'BudgetReachedError';
}

/** The device's storage has no room for a file the user opened. */
export class DeviceFullError extends BlobRefusedError {
	override name = 'DeviceFullError';
}

const MiB = 1024 * 1024;
/** The budget at most: 1 GiB. */
export const MAX_BUDGET_BYTES = 1024 * MiB;
/** The share of the browser's quota the budget takes at most. */
export const QUOTA_SHARE = 0.2;
/** The budget when the browser does not tell its quota. */
export const FALLBACK_BUDGET_BYTES = 256 * MiB;
/** The share of the budget one sender's automatically fetched files may take. */
export const DEFAULT_SENDER_SHARE = 0.25;
/** An incomplete blob admitted this long ago is no longer taken for a fetch under way (the pins' fetch timeout). */
export const STALE_MS = 10 * 60_000;

/** The budget for a browser quota of `quota` bytes: 20 % of it, at most 1 GiB (unknown quota: 256 MiB). */
export function budgetForQuota(quota: number | undefined): number {
	return quota === undefined || !Number.isFinite(quota) || quota <= 0 ? FALLBACK_BUDGET_BYTES : Math.min(MAX_BUDGET_BYTES, Math.floor(quota * QUOTA_SHARE));
}

/** The origin's storage use and quota (`navigator.storage.estimate`), when the platform tells them. */
export async function storageEstimate(): Promise<{ usage: number; quota: number } | undefined> {
	// Typed here: the relay, which builds this module too, has no DOM types.
	const storage = (globalThis as { navigator?: { storage?: { estimate?(): Promise<{ usage?: number; quota?: number }> } } }).navigator?.storage;
	if (storage?.estimate === undefined) return undefined;
	try {
		const { usage, quota } = await storage.estimate();
		return usage === undefined || quota === undefined ? undefined : { usage, quota };
	} catch {
		return undefined;
	}
}

/** The Web Lock an admission holds, in every tab of the origin. */
export const BUDGET_LOCK = 'outpost-blob-budget';

/** What the budget uses of the Web Locks API (`navigator.locks`; typed here: the relay, which builds this module too, has no DOM types). */
export interface AdmissionLocks {
	/** Runs `run` holding the exclusive lock `name` (waiting for it), and resolves with what `run` resolves with. */
	request<T>(name: string, run: () => Promise<T>): Promise<T>;
}

/** The browser's Web Locks, when it has them. */
export function browserLocks(): AdmissionLocks | undefined {
	const locks = (globalThis as { navigator?: { locks?: Partial<AdmissionLocks> } }).navigator?.locks;
	return typeof locks?.request === 'function' ? (locks as AdmissionLocks) : undefined;
}

/** Options of {@link BlobBudget}. */
export interface BlobBudgetInit {
	/** The device's ledgers (one per workspace store). */
	ledgers(): Iterable<BlobLedger>;
	/** Bytes the device's blobs may take in all; default {@link budgetForQuota} of the estimate. */
	limit?(): number | Promise<number>;
	/** Share of the limit one sender's automatic fetches may take; default {@link DEFAULT_SENDER_SHARE}. */
	senderShare?: number;
	/** The device's storage use and quota; default {@link storageEstimate}. */
	estimate?(): Promise<{ usage: number; quota: number } | undefined>;
	now?(): number;
	/** Locks shared by the tabs of the origin; default {@link browserLocks} (none: admissions are serial within this tab only). */
	locks?: AdmissionLocks;
}

interface Held extends LedgerEntry {
	ledger: BlobLedger;
}

/** See the module comment. */
export class BlobBudget {
	/** Admissions one at a time: two at once would each see the room the other takes. */
	private queue: Promise<unknown> = Promise.resolve();
	private readonly locks: AdmissionLocks | undefined;

	constructor(private readonly init: BlobBudgetInit) {
		this.locks = init.locks ?? browserLocks();
	}

	/** The budget now. */
	async limit(): Promise<number> {
		return this.init.limit !== undefined ? this.init.limit() : budgetForQuota((await this.estimate())?.quota);
	}

	/**
	 * Admits an automatic fetch of blob `blobId` (`bytes`) into `ledger`, brought by `sender`'s
	 * message; true, or why not. `manifest`: the blob's, stored with the mark before the lock is
	 * given back (see {@link keep}).
	 */
	admitAuto(ledger: BlobLedger, blobId: string, bytes: number, sender?: string, manifest?: BlobManifest): Promise<true | BudgetReachedError> {
		return this.serial(async () => {
			const held = await this.held();
			if (held.some((e) => e.ledger === ledger && e.id === blobId)) return true; // admitted before: a fetch resumes
			const limit = await this.limit();
			const share = Math.floor(limit * (this.init.senderShare ?? DEFAULT_SENDER_SHARE));
			const from = sender ?? '';
			const refuse = (why: string) => new BudgetReachedError(blobId, `${bytes} bytes do not fit ${why}`);
			if (bytes > share) return refuse(`one sender's share (${share} bytes) of this device's ${limit}-byte blob budget`);
			let total = sum(held);
			let senders = sum(held.filter((e) => e.origin === 'auto' && (e.sender ?? '') === from));
			// The sender's own oldest first, then anyone's.
			const theirs = held.filter((e) => (e.sender ?? '') === from);
			await this.drop(theirs, () => senders + bytes > share, (freed) => ((senders -= freed), (total -= freed)));
			if (senders + bytes > share) return refuse(`one sender's share (${share} bytes) of this device's blob budget`);
			await this.drop(held, () => total + bytes > limit, (freed) => (total -= freed));
			if (total + bytes > limit) return refuse(`this device's ${limit}-byte blob budget (${total} bytes held)`);
			await ledger.mark(blobId, bytes, 'auto', sender);
			await keep(ledger, manifest);
			return true;
		});
	}

	/** Admits a fetch the user asked for; true, or why not (the device's storage is full even without files fetched automatically). `manifest`: as for {@link admitAuto}. */
	admitOpened(ledger: BlobLedger, blobId: string, bytes: number, manifest?: BlobManifest): Promise<true | DeviceFullError> {
		return this.serial(async () => {
			const held = await this.held();
			const known = held.find((e) => e.ledger === ledger && e.id === blobId);
			if (known === undefined) {
				const estimate = await this.estimate();
				if (estimate !== undefined) {
					let free = estimate.quota - estimate.usage;
					await this.drop(held, () => free < bytes, (freed) => (free += freed));
					if (free < bytes) return new DeviceFullError(blobId, `${bytes} bytes do not fit this device's free storage (${Math.max(0, free)} bytes)`);
				}
			}
			await ledger.mark(blobId, bytes, 'opened');
			await keep(ledger, manifest);
			return true;
		});
	}

	/** Every blob held, over every ledger. */
	private async held(): Promise<Held[]> {
		const out: Held[] = [];
		for (const ledger of this.init.ledgers()) for (const entry of await ledger.entries()) out.push({ ...entry, ledger });
		return out;
	}

	/**
	 * Drops files fetched automatically of `among`, oldest first, while `more()` says room is
	 * still wanted, telling `freed` each one's bytes. One whose fetch may be under way is left.
	 */
	private async drop(among: readonly Held[], more: () => boolean, freed: (bytes: number) => void): Promise<void> {
		const now = this.init.now?.() ?? Date.now();
		for (const e of among.filter((e) => e.origin === 'auto').sort((a, b) => a.at - b.at)) {
			if (!more()) return;
			const whole = (await e.ledger.missing(e.id))?.length === 0;
			if (!whole && now - e.at < STALE_MS) continue;
			await e.ledger.drop(e.id);
			freed(e.bytes);
			// Gone: a later pass over the same entries neither drops nor counts it again.
			e.origin = 'sent';
			e.bytes = 0;
		}
	}

	private estimate(): Promise<{ usage: number; quota: number } | undefined> {
		return this.init.estimate !== undefined ? this.init.estimate() : storageEstimate();
	}

	/** Runs `run` after this tab's admissions under way, holding the origin's lock while it runs. */
	private serial<T>(run: () => Promise<T>): Promise<T> {
		const locks = this.locks;
		const locked = () => (locks === undefined ? run() : locks.request(BUDGET_LOCK, run));
		const next = this.queue.then(locked, locked);
		this.queue = next.catch(() => undefined);
		return next;
	}
}

/**
 * Stores an admitted blob's manifest (a no-op when held), so that its mark is in the store for
 * every tab before the admission's lock is given back: a store keeps the mark of a blob without
 * a manifest in the tab's memory (IdbBlobStore), where another tab's admission cannot count it.
 */
async function keep(ledger: BlobLedger, manifest: BlobManifest | undefined): Promise<void> {
	if (manifest !== undefined) await ledger.putManifest(manifest);
}

function sum(entries: readonly LedgerEntry[]): number {
	return entries.reduce((n, e) => n + e.bytes, 0);
}
