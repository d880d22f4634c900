/**
 * The documents of one workspace as the sync protocol sees them ({@link SyncDocs}), over a
 * {@link DocStore}. The workspace root stays open while this object lives: it lists the
 * roster, channels, notes and AI threads. Other documents are opened only when their bytes
 * are needed (state vector, diff, apply) and released after a short idle period.
 *
 * Digests cost no document load: each document's {@link docDigest} is kept in Dexie's
 * `digests` table with the key of its newest stored update. A row whose key still matches
 * the document's database is trusted; otherwise the document is loaded once, digested and
 * released. Changes to open documents (local edits and applied updates alike) refresh the
 * row after {@link DIGEST_DELAY_MS}, and a digest asked for before then is computed at once.
 *
 * Documents that arrive for ids the root does not list (yet: an update can overtake the root
 * change that lists it) are accepted, at most {@link MAX_UNKNOWN_PER_ORIGIN} per peer (the
 * peer the update came from: a session's, or gossip's signed publisher; the origin for an
 * update without one) and {@link MAX_UNKNOWN_DOCS} in all, then refused with an
 * {@link UnknownDocLimitError}. Found in review: counted per origin, that is per session, a
 * member got a fresh allowance with every session it opened. The mesh also counts them per
 * member, whichever of its devices sends (mesh/unlistedAllowance.ts). A document stops counting
 * once the root lists it. Unlisted ones are listed while this object lives; after that only
 * once the root lists them.
 *
 * Membership of a document is decided by the root alone: a member who knows the id of a
 * document of another workspace on this device could list it in this root and be served it.
 * Ids are random 128-bit values, so this needs a leaked id; recording each document's
 * workspace in its digest row would close it.
 */
import * as Y from 'yjs';
import { isId } from '../doc/ids.js';
import { isSpaceId } from '../doc/team/teamId.js';
import { checkRemoteUpdate, isListedNote, NO_TEAM, settledFor, updateContext, type DocsTeam } from '../doc/team/writePolicy.js';
import { applyRemoteUpdate, clocksOfDoc } from '../mesh/updateCheck.js';
import { WorkspaceDoc } from '../doc/WorkspaceDoc.js';
import { docDigest, type SyncDocs, type UpdateListener } from '../mesh/syncDocs.js';
import type { OutpostDb } from './db.js';
import type { DocHandle, DocStore } from './DocStore.js';
import { DocsClosedError, UnknownDocLimitError, UpdateRejectedError } from './errors.js';

/** How long a document opened for sync stays loaded after its last use. */
export const IDLE_RELEASE_MS = 10_000;
/** How long after a change a document's stored digest is refreshed. */
export const DIGEST_DELAY_MS = 500;
/** Documents not listed by the root that one peer (or origin, for an update from none) may create. */
export const MAX_UNKNOWN_PER_ORIGIN = 100;
/** Stored digest rows checked at once when {@link WorkspaceSyncDocs.list} warms them up. */
const WARM_CONCURRENCY = 8;
/** Documents not listed by the root accepted in all while this object lives. */
export const MAX_UNKNOWN_DOCS = 1000;

/** Options of {@link WorkspaceSyncDocs.open}. */
export interface WorkspaceSyncDocsInit {
	/** The workspace id, which is also its root document's id. */
	workspaceId: string;
	/** The roster's id when known before the root arrives (from the invite or the workspace row). */
	rosterId?: string;
	docs: DocStore;
	db: OutpostDb;
	idleReleaseMs?: number;
	digestDelayMs?: number;
	maxUnknownPerOrigin?: number;
	maxUnknownDocs?: number;
}

interface Held {
	handle: DocHandle;
	/** Operations (and pending digest refreshes) using the document now. */
	busy: number;
	timer?: ReturnType<typeof setTimeout>;
}

interface CachedDigest {
	digest: string | undefined;
	/** The document's change count when the digest was taken. */
	version: number;
}

/** {@link SyncDocs} of one workspace over a DocStore; see the module comment. */
export class WorkspaceSyncDocs implements SyncDocs {
	private readonly root: WorkspaceDoc;
	private readonly held = new Map<string, Held>();
	private readonly listeners = new Set<UpdateListener>();
	/** Changes seen per document this session; a cached digest is fresh when its version matches. */
	private readonly versions = new Map<string, number>();
	private readonly cache = new Map<string, CachedDigest>();
	/** Checks of stored digest rows, once per document. */
	private readonly rowChecks = new Map<string, Promise<void>>();
	/** Digests being computed, with the change count they were started at. */
	private readonly refreshing = new Map<string, { version: number; digest: Promise<string | undefined> }>();
	/** Changed documents held until their digest is refreshed. */
	private readonly changed = new Set<string>();
	private flushTimer: ReturnType<typeof setTimeout> | undefined;
	/** Documents the root did not list when they arrived, with the peer (or origin) that created them. */
	private readonly unknown = new Map<string, unknown>();
	private readonly stopWatching: () => void;
	private closed = false;

	private constructor(
		private readonly init: WorkspaceSyncDocsInit,
		private readonly rootHandle: DocHandle
	) {
		this.root = new WorkspaceDoc(rootHandle.doc);
		this.held.set(init.workspaceId, { handle: rootHandle, busy: 1 });
		this.stopWatching = init.docs.onUpdate((id, update, origin) => this.onUpdate(id, update, origin));
	}

	/** Opens the workspace root (creating it empty for a joiner) and starts watching changes. */
	static async open(init: WorkspaceSyncDocsInit): Promise<WorkspaceSyncDocs> {
		const handle = init.docs.open(init.workspaceId);
		await handle.ready;
		return new WorkspaceSyncDocs(init, handle);
	}

	/** The roster's id as the root names it: undefined until the root has arrived. */
	get rootRosterId(): string | undefined {
		const fromRoot = this.root.rosterId;
		return isId(fromRoot) ? fromRoot : undefined;
	}

	/**
	 * The roster's id: the one given at open (the device's row: derived from the workspace id,
	 * `teamRosterId`), else the root's. Never the root's over the row's: any member (a guest
	 * too) can rewrite the root's `meta`, and a roster id taken from it would drop the team's
	 * document from this device's sync (found in review).
	 */
	get rosterId(): string | undefined {
		return this.init.rosterId ?? this.rootRosterId;
	}

	/** The team's answers (the core tells: OutpostCore `useTeam`). */
	private team: DocsTeam = NO_TEAM;

	useTeam(team: DocsTeam): void {
		this.team = team;
	}

	/** Whether the root names `docId` to every member (or it is a space this device is in). */
	isListed(docId: string): boolean {
		return docId === this.init.workspaceId || docId === this.rosterId || this.isIndexed(docId) || this.team.spaces().has(docId);
	}

	/** Whether the root lists `docId` as a note. */
	isNote(docId: string): boolean {
		return isListedNote(this.rootHandle.doc, docId);
	}

	/** Also starts checking the stored digests of the listed documents, as digest() follows. */
	list(): string[] {
		const ids = new Set<string>([this.init.workspaceId]);
		const roster = this.rosterId;
		if (roster) ids.add(roster);
		for (const index of [this.root.channels, this.root.notes, this.root.aiThreads]) {
			for (const id of index.keys()) if (isId(id) && !isSpaceId(id)) ids.add(id);
		}
		for (const id of this.team.spaces()) ids.add(id);
		for (const id of this.unknown.keys()) ids.add(id);
		const list = [...ids];
		this.warm(list);
		return list;
	}

	async digest(docId: string): Promise<string | undefined> {
		if (this.closed || !this.belongs(docId)) return undefined;
		const cached = this.cache.get(docId);
		const version = this.versionOf(docId);
		if (cached && cached.version === version) return cached.digest;
		if (!cached && version === 0) {
			await this.checkRow(docId);
			const checked = this.cache.get(docId);
			if (checked && checked.version === this.versionOf(docId)) return checked.digest;
		}
		const running = this.refreshing.get(docId);
		if (running && running.version === this.versionOf(docId)) return running.digest;
		return this.refreshDigest(docId);
	}

	async stateVector(docId: string): Promise<Uint8Array | undefined> {
		return this.read(docId, (doc) => Y.encodeStateVector(doc));
	}

	async clocks(docId: string): Promise<((client: number) => number) | undefined> {
		return this.read(docId, clocksOfDoc);
	}

	async diff(docId: string, stateVector: Uint8Array): Promise<Uint8Array | undefined> {
		return this.read(docId, (doc) => Y.encodeStateAsUpdate(doc, stateVector));
	}

	/**
	 * Applies a remote update through {@link DocStore.applyUpdate}. Throws an
	 * {@link UpdateRejectedError} when the update is unreadable (nothing is stored) and an
	 * {@link UnknownDocLimitError} when peer `from` (else `origin`) created too many unlisted documents.
	 */
	async apply(docId: string, update: Uint8Array, origin: unknown, from?: string): Promise<void> {
		if (this.closed) throw new DocsClosedError(`workspace ${this.init.workspaceId} is closed`);
		if (!isId(docId)) throw new UpdateRejectedError(docId, new Error('not a document id'));
		const admitted = !this.belongs(docId) && this.admitUnknown(docId, from ?? origin);
		if (admitted && !this.held.has(docId) && !this.init.docs.isOpen(docId)) {
			const check = this.precheck(docId, update, from);
			this.prechecks.set(docId, check);
			try {
				await check;
			} catch (error) {
				this.unknown.delete(docId);
				throw error;
			} finally {
				if (this.prechecks.get(docId) === check) this.prechecks.delete(docId);
			}
		} else {
			// Another update of the same unlisted document is being checked: wait for it, and start
			// over if it was refused (found in review: this one opened the database meanwhile).
			const running = this.prechecks.get(docId);
			if (running !== undefined) {
				await running.catch(() => undefined);
				if (!this.belongs(docId)) return this.apply(docId, update, origin, from);
			}
		}
		const handle = this.claim(docId);
		try {
			await handle.ready;
			const settling = settledFor(this.team, from);
			if (settling !== undefined) await settling;
			const refused = checkRemoteUpdate(this.init.workspaceId, docId, handle.doc, update, updateContext(this.rootHandle.doc, docId, this.team, from));
			if (refused !== undefined) throw new UpdateRejectedError(docId, new Error(refused));
			if (!this.init.docs.applyUpdate(handle, update, origin)) {
				throw new UpdateRejectedError(docId, new Error('the update could not be read'));
			}
		} catch (error) {
			if (admitted) this.unknown.delete(docId);
			throw error;
		} finally {
			this.unclaim(docId);
		}
	}

	/** Checks running for documents the root does not list (see {@link precheck}). */
	private readonly prechecks = new Map<string, Promise<void>>();

	/**
	 * Checks an update for a document the root does not list against an empty document, before
	 * anything is opened: a refused one leaves no database behind (found in review: each refused
	 * update for a new id left an IndexedDB database, without bound). One the policy would take
	 * there is checked again against what is stored.
	 */
	private async precheck(docId: string, update: Uint8Array, from: string | undefined): Promise<void> {
		const settling = settledFor(this.team, from);
		if (settling !== undefined) await settling;
		const scratch = new Y.Doc({ guid: docId });
		try {
			const refused = checkRemoteUpdate(this.init.workspaceId, docId, scratch, update, updateContext(this.rootHandle.doc, docId, this.team, from));
			if (refused !== undefined) throw new UpdateRejectedError(docId, new Error(refused));
			try {
				applyRemoteUpdate(scratch, update, null);
			} catch (cause) {
				throw new UpdateRejectedError(docId, cause);
			}
		} finally {
			scratch.destroy();
		}
	}

	/**
	 * Subscribes to every change of every document of this workspace while it is open in the
	 * DocStore: this device's edits and applied remote updates, each with its transaction
	 * origin (a sync session skips its own). Changes made before a document finished loading
	 * are not reported; the next digest exchange repairs them.
	 */
	onLocalUpdate(listener: UpdateListener): () => void {
		this.listeners.add(listener);
		return () => this.listeners.delete(listener);
	}

	/**
	 * Loads document `docId` and keeps it loaded until {@link close} (the roster a TeamAuthority
	 * watches). Its changes are reported like any other.
	 */
	async hold(docId: string): Promise<Y.Doc> {
		if (this.closed) throw new DocsClosedError();
		const handle = this.claim(docId); // never unclaimed: close releases it
		await handle.ready;
		return handle.doc;
	}

	/** Stores pending digests, stops watching and releases every document it holds. */
	async close(): Promise<void> {
		if (this.closed) return;
		this.closed = true;
		this.stopWatching();
		this.listeners.clear();
		await this.flush();
		for (const held of this.held.values()) {
			clearTimeout(held.timer);
			this.init.docs.release(held.handle);
		}
		this.held.clear();
	}

	/** Whether a document is part of this workspace as far as this peer knows. */
	private belongs(id: string): boolean {
		return id === this.init.workspaceId || id === this.rosterId || this.unknown.has(id) || this.isIndexed(id) || this.team.spaces().has(id);
	}

	/** Whether the root's channel, note or AI-thread index lists `id` (never an id of the space form: rootPolicy.ts). */
	private isIndexed(id: string): boolean {
		return isId(id) && !isSpaceId(id) && (this.root.channels.has(id) || this.root.notes.has(id) || this.root.aiThreads.has(id));
	}

	private onUpdate(id: string, update: Uint8Array, origin: unknown): void {
		if (this.closed || !this.belongs(id)) return;
		this.versions.set(id, this.versionOf(id) + 1);
		if (!this.changed.has(id)) {
			this.changed.add(id);
			this.claim(id); // keeps it loaded until its digest is stored
		}
		this.flushTimer ??= setTimeout(() => void this.flush(), this.init.digestDelayMs ?? DIGEST_DELAY_MS);
		for (const listener of [...this.listeners]) listener(id, update, origin);
	}

	/** Stores the digest of every changed document and lets them go. */
	private async flush(): Promise<void> {
		clearTimeout(this.flushTimer);
		this.flushTimer = undefined;
		const ids = [...this.changed];
		this.changed.clear();
		await Promise.all(
			ids.map(async (id) => {
				try {
					if (this.cache.get(id)?.version !== this.versionOf(id)) await this.refreshDigest(id);
				} catch (error) {
					this.init.docs.onError(error instanceof Error ? error : new Error(String(error)));
				} finally {
					this.unclaim(id);
				}
			})
		);
	}

	/** Trusts a document's stored digest row when its stored-update key still matches (checked once). */
	private checkRow(id: string): Promise<void> {
		let check = this.rowChecks.get(id);
		if (!check) {
			check = Promise.all([this.init.db.digests.get(id), this.init.docs.lastStoredKey(id)]).then(
				([row, storedKey]) => {
					if (!row || row.storedKey !== storedKey || this.versionOf(id) !== 0 || this.cache.has(id)) return;
					this.cache.set(id, { digest: row.svHash || undefined, version: 0 });
				},
				() => undefined // unreadable: the digest is computed from the document instead
			);
			this.rowChecks.set(id, check);
		}
		return check;
	}

	/** Checks the stored digest rows of `ids` in the background, a few at a time. */
	private warm(ids: string[]): void {
		const todo = ids.filter((id) => !this.cache.has(id) && !this.rowChecks.has(id));
		let next = 0;
		const worker = async () => {
			while (next < todo.length && !this.closed) await this.checkRow(todo[next++]);
		};
		for (let i = 0; i < Math.min(WARM_CONCURRENCY, todo.length); i++) void worker();
	}

	/** Digests a document (loading or sharing it); one computation per document and change count at a time. */
	private refreshDigest(id: string): Promise<string | undefined> {
		const version = this.versionOf(id);
		const digest = this.computeDigest(id).finally(() => {
			if (this.refreshing.get(id)?.digest === digest) this.refreshing.delete(id);
		});
		this.refreshing.set(id, { version, digest });
		return digest;
	}

	/** Loads (or shares) a document, digests it and stores the digest with its stored-update key. */
	private async computeDigest(id: string): Promise<string | undefined> {
		const handle = this.claim(id);
		try {
			await handle.ready;
			// The key is read first: every update stored under it is already in the document,
			// so the row never claims changes it does not include.
			const storedKey = await this.init.docs.lastStoredKey(id);
			const version = this.versionOf(id);
			const digest = isEmpty(handle.doc) ? undefined : await docDigest(handle.doc); // snapshot taken synchronously
			const newest = this.cache.get(id);
			if (!newest || newest.version <= version) {
				this.cache.set(id, { digest, version });
				await this.init.db.digests.put({ docId: id, svHash: digest ?? '', updatedAt: Date.now(), storedKey });
			}
			return digest;
		} finally {
			this.unclaim(id);
		}
	}

	/** Runs `read` over a document of this workspace, undefined when it is not here or empty. */
	private async read<T>(docId: string, read: (doc: Y.Doc) => T): Promise<T | undefined> {
		if (this.closed || !this.belongs(docId)) return undefined;
		const cached = this.cache.get(docId);
		if (cached && cached.version === this.versionOf(docId) && cached.digest === undefined) return undefined;
		const handle = this.claim(docId);
		try {
			await handle.ready;
			return isEmpty(handle.doc) ? undefined : read(handle.doc);
		} finally {
			this.unclaim(docId);
		}
	}

	private versionOf(id: string): number {
		return this.versions.get(id) ?? 0;
	}

	/** Opens (or shares) a document for one use; pair with {@link unclaim}. */
	private claim(id: string): DocHandle {
		let held = this.held.get(id);
		if (!held) {
			held = { handle: this.init.docs.open(id), busy: 0 };
			this.held.set(id, held);
		}
		clearTimeout(held.timer);
		held.busy++;
		return held.handle;
	}

	/** Ends one use; the document is released after the idle period unless used again. */
	private unclaim(id: string): void {
		const held = this.held.get(id);
		if (!held || --held.busy > 0) return;
		held.timer = setTimeout(() => {
			if (held.busy > 0 || this.held.get(id) !== held) return;
			this.held.delete(id);
			this.init.docs.release(held.handle);
		}, this.init.idleReleaseMs ?? IDLE_RELEASE_MS);
	}

	/** Counts a document the root does not list against `creator`'s allowance; throws past the limits. */
	private admitUnknown(docId: string, creator: unknown): boolean {
		const perOrigin = this.init.maxUnknownPerOrigin ?? MAX_UNKNOWN_PER_ORIGIN;
		const total = this.init.maxUnknownDocs ?? MAX_UNKNOWN_DOCS;
		let count = 0;
		for (const [id, known] of this.unknown) {
			if (this.isIndexed(id)) this.unknown.delete(id); // listed by now: no longer counted
			else if (known === creator) count++;
		}
		if (count >= perOrigin) throw new UnknownDocLimitError(docId, perOrigin);
		if (this.unknown.size >= total) throw new UnknownDocLimitError(docId, total);
		this.unknown.set(docId, creator);
		return true;
	}
}

function isEmpty(doc: Y.Doc): boolean {
	return doc.store.clients.size === 0;
}
