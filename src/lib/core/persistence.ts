/**
 * The one persistence policy of every replica: how a Y.Doc is kept in a {@link StoredDoc}
 * (storage.ts), whichever platform stores the bytes.
 *
 * - **Load**: the stored records are applied in one transaction; records of more than
 *   {@link PIECE_BYTES} in all are applied in pieces (updatePieces.ts) with the event loop given
 *   back between them, so loading a large document stalls nothing else (edits made meanwhile
 *   are stored as they come, and nothing is compacted until the load is done). When that throws (a damaged
 *   record), each record is tried in order on a scratch document; the ones that throw are set
 *   aside (kept, never loaded again), the others are applied, and the log is compacted so it
 *   holds only what loaded. Nothing readable is lost to one bad record.
 * - **Edits made before loading finished** are stored once it has (as one record).
 * - **Every later update** is stored: the updates of one burst (those emitted before the
 *   microtasks queued at its first one have run) are appended as one record, merged.
 *   {@link PersistedDoc.written} resolves once the newest update is durable (the relay
 *   acknowledges a remote update only then): that of the burst it belongs to.
 * - **Compaction**: once the log holds {@link COMPACT_AFTER_RECORDS} records, it is rewritten as
 *   one (the document's state) {@link COMPACT_DELAY_MS} later, so a burst of edits compacts once.
 *   A single burst of that many updates (a long synchronous replay, where no timer can fire)
 *   is stored as that compaction straight away, not merged: the state costs no more to write,
 *   and the log never holds the burst's records.
 *
 * The persistence's own transactions (the load) carry the {@link PersistedDoc} as origin.
 */
import * as Y from 'yjs';
import { PIECE_BYTES, splitUpdate, yieldToEventLoop } from '../mesh/updatePieces.js';
import type { StoredDoc } from './storage.js';

/** Records after which a log is rewritten as one. */
export const COMPACT_AFTER_RECORDS = 500;
/** How long after a log reaches {@link COMPACT_AFTER_RECORDS} it is compacted. */
export const COMPACT_DELAY_MS = 1000;

/** How loading went. */
export interface LoadReport {
	/** Stored records that did not apply and were set aside. */
	setAside: number;
	/** Bytes of a torn tail the storage dropped. */
	droppedBytes: number;
}

/** Options of {@link persistDoc}. */
export interface PersistOptions {
	compactAfterRecords?: number;
	compactDelayMs?: number;
	/** Told about writes and compactions that failed (the update stays in memory). */
	onError?: (error: Error) => void;
}

/** A document kept in storage; see the module comment. */
export interface PersistedDoc {
	/** Resolves once the stored state is in the document; rejects when the storage cannot be opened. */
	readonly loaded: Promise<LoadReport>;
	/** The open log, once loaded. */
	readonly stored: StoredDoc | undefined;
	/** Resolves once the newest update handed to storage is durable; rejects when that write failed. */
	written(): Promise<void>;
	/** Stops storing updates, waits for pending writes and closes the log. */
	stop(): Promise<void>;
}

/** Loads `doc` from the log `open` gives and stores every later update of it there. */
export function persistDoc(doc: Y.Doc, open: () => Promise<StoredDoc>, options: PersistOptions = {}): PersistedDoc {
	const compactAfter = options.compactAfterRecords ?? COMPACT_AFTER_RECORDS;
	const compactDelay = options.compactDelayMs ?? COMPACT_DELAY_MS;
	const report = options.onError ?? (() => {});
	let stored: StoredDoc | undefined;
	let stopped = false;
	/** While a large document loads in pieces: the log is open but holds more than the document. */
	let loading = false;
	let lastWrite: Promise<void> = Promise.resolve();
	let compactTimer: ReturnType<typeof setTimeout> | undefined;
	let compacting: Promise<void> | undefined;
	/** The burst not yet handed to storage: its updates (none once it is stored as the state). */
	let burst: Uint8Array[] = [];
	/** Whether the burst reached `compactAfter` updates: it is then stored as the document's state. */
	let burstAsState = false;
	/** Settles {@link lastWrite} (the burst's promise) once the burst is durable; undefined between bursts. */
	let settleBurst: ((write: Promise<void>) => void) | undefined;

	/** Rewrites the log as the document's state; the caller reports a failure. */
	const compact = (): Promise<void> => {
		const log = stored;
		// The document's state is not yet what the log holds: writing it as the log would lose the rest.
		if (log === undefined || loading) return Promise.resolve();
		const write = log.compact(() => Y.encodeStateAsUpdate(doc));
		compacting = write.then(
			() => (compacting = undefined),
			() => (compacting = undefined)
		);
		return write;
	};
	const compactReporting = (): Promise<void> => compact().catch((error: unknown) => report(asError(error)));

	const scheduleCompaction = (log: StoredDoc): void => {
		if (!loading && log.count + 1 >= compactAfter && compactTimer === undefined && compacting === undefined) {
			compactTimer = setTimeout(() => {
				compactTimer = undefined;
				if (!stopped) void compactReporting();
			}, compactDelay);
		}
	};

	/** Hands the burst to storage (a no-op between bursts). */
	const flush = (): void => {
		const settle = settleBurst;
		const log = stored;
		if (settle === undefined || log === undefined) return;
		const updates = burst;
		const asState = burstAsState;
		settleBurst = undefined;
		burst = [];
		burstAsState = false;
		if (asState) {
			clearTimeout(compactTimer);
			compactTimer = undefined;
			settle(compact());
			return;
		}
		let merged: Uint8Array;
		try {
			merged = updates.length === 1 ? updates[0]! : Y.mergeUpdates(updates);
		} catch {
			// Updates a Y.Doc emitted always merge; should one not, its state holds them all.
			settle(compact());
			return;
		}
		settle(log.append(merged));
		scheduleCompaction(log);
	};

	const write = (update: Uint8Array): void => {
		if (stored === undefined) return;
		if (settleBurst === undefined) {
			// A new burst: one promise for all of it, settled once what stores it is durable.
			lastWrite = new Promise<void>((resolve, reject) => {
				settleBurst = (done) => done.then(resolve, reject);
			});
			lastWrite.catch((error: unknown) => report(asError(error)));
			queueMicrotask(flush);
		}
		if (burstAsState) return;
		burst.push(update);
		if (burst.length >= compactAfter && !loading) {
			burstAsState = true;
			burst = [];
		}
	};

	const persisted: PersistedDoc = {
		loaded: load(),
		get stored() {
			return stored;
		},
		written: () => lastWrite,
		async stop() {
			stopped = true;
			clearTimeout(compactTimer);
			doc.off('update', onUpdate);
			flush();
			await persisted.loaded.catch(() => undefined);
			await lastWrite.catch(() => undefined);
			await compacting;
			await stored?.close();
		}
	};

	function onUpdate(update: Uint8Array, origin: unknown): void {
		if (origin !== persisted && !stopped) write(update);
	}

	async function load(): Promise<LoadReport> {
		const log = await open();
		if (stopped) {
			await log.close();
			return { setAside: 0, droppedBytes: log.droppedBytes };
		}
		// From here to following the document nothing awaits: no edit slips between.
		const early = doc.store.clients.size > 0 ? Y.encodeStateAsUpdate(doc) : undefined;
		let damaged: number[];
		if (log.records.reduce((n, record) => n + record.byteLength, 0) <= PIECE_BYTES) {
			damaged = applyRecords(doc, log.records, persisted);
			stored = log;
			doc.on('update', onUpdate);
			if (early !== undefined) write(early);
		} else {
			// In pieces: the document is followed first, so edits made between pieces are stored.
			stored = log;
			loading = true;
			doc.on('update', onUpdate);
			if (early !== undefined) write(early);
			try {
				damaged = await applyInPieces(doc, log.records, persisted);
			} finally {
				loading = false;
			}
			scheduleCompaction(log);
		}
		if (damaged.length > 0) {
			await log.setAside(damaged).catch((error: unknown) => report(asError(error)));
			await compactReporting();
		}
		return { setAside: damaged.length, droppedBytes: log.droppedBytes };
	}

	return persisted;
}

/**
 * Applies `records` to `doc` in pieces, giving the event loop back between them; when a piece
 * does not scan or apply, falls back to {@link applyRecords} (Yjs updates are idempotent: what
 * the pieces integrated is not applied twice). Returns what that returns.
 */
async function applyInPieces(doc: Y.Doc, records: readonly Uint8Array[], origin: unknown): Promise<number[]> {
	try {
		for (const record of records) {
			for (const piece of await splitUpdate(record, PIECE_BYTES)) {
				Y.applyUpdate(doc, piece, origin);
				await yieldToEventLoop();
			}
		}
		return [];
	} catch {
		return applyRecords(doc, records, origin);
	}
}

/** Applies `records` to `doc`; returns the indexes of those that did not apply (and were skipped). */
function applyRecords(doc: Y.Doc, records: readonly Uint8Array[], origin: unknown): number[] {
	try {
		doc.transact(() => records.forEach((record) => Y.applyUpdate(doc, record)), origin);
		return [];
	} catch {
		// Which ones throw, tried in order on a document of their own.
		const scratch = new Y.Doc();
		const damaged: number[] = [];
		records.forEach((record, index) => {
			try {
				Y.applyUpdate(scratch, record);
			} catch {
				damaged.push(index);
			}
		});
		scratch.destroy();
		// Yjs updates are idempotent: what the failed attempt integrated is not applied twice.
		records.forEach((record, index) => {
			if (damaged.includes(index)) return;
			try {
				Y.applyUpdate(doc, record, origin);
			} catch {
				damaged.push(index);
			}
		});
		return damaged.sort((a, b) => a - b);
	}
}

function asError(error: unknown): Error {
	return error instanceof Error ? error : new Error(String(error));
}
