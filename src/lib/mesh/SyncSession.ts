/**
 * One peer-to-peer sync of one workspace over a duplex of whole messages (a libp2p stream
 * with length-prefixed framing, or a loopback in tests). The session proves membership
 * both ways (membership.ts), exchanges digests, runs sync step 1 / step 2 only for the
 * documents that differ or that one side lacks, then forwards live updates both ways until
 * closed. Inbound bytes are hostile: any message that does not decode, is too large or comes
 * out of order ends the session with a named error, and nothing of that message is applied.
 * See PROTOCOL.md for the wire format.
 *
 * A responder that serves several workspaces decodes the stream's first message with
 * `decodeMessage` (wire.ts), picks the workspace named by its HELLO (or closes the stream),
 * then creates the session and hands it that same message through {@link SyncSession.receive}.
 */
import { SessionState } from './sessionState.js';
import * as Y from 'yjs';
import { DEFAULT_LIMITS, MessageType, type SyncLimits } from './constants.js';
import {
	MalformedMessageError,
	MembershipTimeoutError,
	SyncStalledError,
	MessageTooLargeError,
	SessionAbortedError,
	UnexpectedMessageError,
	UnlistedLimitError,
	UpdateRejectedError
} from './errors.js';
import { MembershipExchange } from './membership.js';
import type { AdmitVerdict } from './authority.js';
import { EMPTY_STATE_VECTOR, EMPTY_UPDATE, isDecodableStateVector, targetClocks, type SyncDocs } from './syncDocs.js';
import { applicablePart } from './updateCheck.js';
import { splitUpdate, yieldToEventLoop } from './updatePieces.js';
import { idsListedBy } from './listedIds.js';
import type { UnlistedGate } from './unlistedAllowance.js';
import { decodeMessage, encodeMessage, type Digest, type Message } from './wire.js';
import { fromHex, toHex, type WorkspaceKeys } from './workspaceKeys.js';
import { Listeners } from '../events.js';
import { teamRosterId } from '../doc/team/teamId.js';

export { SessionState };

/** Options of a {@link SyncSession}. */
export interface SyncSessionInit {
	/** 'opener' for the peer that opened the stream (it sends HELLO), 'responder' for the other. */
	role: 'opener' | 'responder';
	workspace: { id: string; keys: WorkspaceKeys };
	/** The libp2p peer ids of the authenticated connection. */
	localPeerId: string;
	remotePeerId: string;
	docs: SyncDocs;
	/** Sends one whole message to the remote peer. */
	send: (bytes: Uint8Array) => void;
	/**
	 * Resolves once what was sent and not yet taken by the transport is small enough (rejects
	 * if it will not be: the peer stopped reading). The session waits for it after each inbound
	 * message it answered and after each document it re-offers, so a peer is sent at most about
	 * one answer ahead of what it reads; none: never waits.
	 */
	drained?: () => Promise<void>;
	limits?: Partial<SyncLimits>;
	/** Aborting ends the session with a {@link SessionAbortedError}. */
	signal?: AbortSignal;
	/** Whether the remote peer may be served (not a current member device); default: yes. */
	isAllowed?: (peerId: string) => boolean | Promise<boolean>;
	/** This peer's admission, sent in HELLO (membership.ts). */
	admission?: Uint8Array;
	/** Checks an opener's admission (membership.ts). */
	admits?: (peerId: string, admission: Uint8Array) => AdmitVerdict | Promise<AdmitVerdict>;
	/** Whether document `docId` may go to the remote peer (a private space's only to its members); default: yes. */
	mayShare?: (docId: string) => boolean;
	/** Whether updates of `docId` are taken from the remote peer; default: yes. */
	mayAccept?: (docId: string) => boolean | Promise<boolean>;
	/**
	 * The unlisted-document allowance of the remote peer's member (unlistedAllowance.ts), asked
	 * as each update is applied; none: every document is taken.
	 */
	unlisted?: UnlistedGate;
	/**
	 * A store of sealed updates (a relay outside private spaces): SEALED_PUT
	 * and SEALED_WANT from the remote peer are served only where `mayUse(docId)` says this
	 * remote may store and fetch that document's sealed updates; otherwise they are refused.
	 */
	sealedStore?: SealedStore;
	/** Sealed updates the remote peer sent back for a SEALED_WANT (a member device's side). */
	onSealed?: (batch: { docId: string; from: number; more: boolean; envelopes: Uint8Array[] }) => void | Promise<void>;
}

/** What a session needs of a store of sealed updates (sealedMessages.ts). */
export interface SealedStore {
	/** Whether the remote peer of this session may store and fetch sealed updates of `docId`. */
	mayUse(docId: string): boolean | Promise<boolean>;
	/** Appends envelopes to the document's log (it may refuse over a quota by throwing). */
	put(docId: string, envelopes: Uint8Array[]): Promise<void>;
	/** Up to `maxBytes` of the log from index `from` on, and whether more follows. */
	get(docId: string, from: number, maxBytes: number): Promise<{ envelopes: Uint8Array[]; more: boolean }>;
}


/** Catch-up progress: documents asked for with SYNC_STEP1, and those not answered yet. */
export interface SyncProgress {
	pending: number;
	total: number;
}

/** Events of a session and their handlers. */
export interface SyncSessionEvents {
	/** Both sides received every document state they asked for; live updates flow. */
	synced: () => void;
	/** The remote proved membership: what this side holds for it may grow past the unproven budget. */
	trusted: () => void;
	progress: (progress: SyncProgress) => void;
	/** The session failed; 'closed' follows. */
	error: (error: Error) => void;
	closed: () => void;
	/** A SEALED_PUT or SEALED_WANT from the remote peer was refused (not allowed, or no store here). */
	sealedRefused: (docId: string) => void;
}

/** Drives one sync session; see the module comment. Call {@link start}, then feed {@link receive}. */
export class SyncSession {
	private readonly limits: SyncLimits;
	private readonly membership: MembershipExchange;
	private readonly listeners = new Listeners<SyncSessionEvents>('SyncSession');
	private queue: Promise<void> = Promise.resolve();
	private unsubscribe: (() => void) | undefined;
	private timer: ReturnType<typeof setTimeout> | undefined;
	private readonly remoteDigest = new Map<string, string>();
	private remoteDigestComplete = false;
	private remoteDone = false;
	private readonly pending = new Set<string>();
	/** Documents whose SYNC_STEP1 this session answered. */
	private readonly answered = new Set<string>();
	private requested = 0;
	/** Documents named to the peer in this session's digest or by {@link reoffer}. */
	private readonly offered = new Set<string>();
	/**
	 * Documents held here and not offered because the peer may not hold them (yet): most often
	 * one edited here before the root change that lists it arrived; also a private space's the
	 * peer is not in, a note this guest device keeps. Once the peer may hold one, its whole
	 * state goes (its later updates build on the withheld ones, and the peer would keep them
	 * pending until the next session's digest): when a root update lists it ({@link idsListedBy}:
	 * only the documents that update names are looked at), or when a team change's rescan
	 * ({@link reoffer}) finds it shared. Every document held is offered or withheld (at most
	 * `maxDocs` of each), so nothing else is ever rescanned.
	 */
	private readonly withheld = new Set<string>();
	/** While set, a rescan ran less than {@link REOFFER_GAP_MS} ago. */
	private reofferTimer: ReturnType<typeof setTimeout> | undefined;
	/** A team change came while {@link reofferTimer} ran: one more rescan is due. */
	private reofferDue = false;
	private currentState: SessionState = SessionState.membership;
	private trustedSent = false;
	private failure: Error | undefined;
	/** The workspace's roster document (team operations), whose updates that delete go whole. */
	private readonly rosterId: string;
	/** While set, a whole-roster send went out less than {@link WHOLE_ROSTER_GAP_MS} ago. */
	private wholeTimer: ReturnType<typeof setTimeout> | undefined;
	/** A roster update that deletes came while {@link wholeTimer} ran: one more whole send is due. */
	private wholeDue = false;

	/** Throws a TypeError when `workspace.id` and `workspace.keys` belong to different workspaces. */
	constructor(private readonly init: SyncSessionInit) {
		if (init.workspace.id !== init.workspace.keys.workspaceId) {
			throw new TypeError('workspace.keys were derived for another workspace');
		}
		this.limits = { ...DEFAULT_LIMITS, ...init.limits };
		this.rosterId = teamRosterId(init.workspace.id);
		this.membership = new MembershipExchange({
			role: init.role,
			keys: init.workspace.keys,
			localPeerId: init.localPeerId,
			remotePeerId: init.remotePeerId,
			isAllowed: init.isAllowed,
			...(init.admission !== undefined ? { admission: init.admission } : {}),
			...(init.admits !== undefined ? { admits: init.admits } : {}),
			send: (m) => this.send(m)
		});
	}

	/** The current stage. */
	get state(): SessionState {
		return this.currentState;
	}

	/** Documents requested from the remote peer and not received yet. */
	get progress(): SyncProgress {
		return { pending: this.pending.size, total: this.requested };
	}

	/** The error that ended the session, if one did. */
	get error(): Error | undefined {
		return this.failure;
	}

	/** Adds an event handler; returns a function that removes it. */
	on<E extends keyof SyncSessionEvents>(event: E, handler: SyncSessionEvents[E]): () => void {
		return this.listeners.on(event, handler);
	}

	/** Starts the session: the opener sends HELLO; both sides start the membership timer. */
	start(): void {
		if (this.currentState !== SessionState.membership || this.timer) return;
		const { signal } = this.init;
		if (signal?.aborted) return this.fail(new SessionAbortedError('aborted before start'));
		signal?.addEventListener('abort', this.onAbort, { once: true });
		const timeout = () => this.fail(new MembershipTimeoutError('membership not proven in time'));
		this.timer = setTimeout(timeout, this.limits.membershipTimeoutMs);
		this.membership.start();
	}

	/**
	 * Handles one whole inbound message, after every earlier one. The promise resolves once
	 * it is handled and never rejects: failures end the session through the 'error' event.
	 */
	receive(bytes: Uint8Array): Promise<void> {
		this.queue = this.queue
			.then(() => this.handle(bytes))
			.then(() => this.drained())
			.catch((error: unknown) => this.fail(asError(error)));
		return this.queue;
	}

	/** Waits until the transport has taken what this session sent (backpressure; see SyncSessionInit.drained). */
	private async drained(): Promise<void> {
		if (this.currentState === SessionState.closed || this.init.drained === undefined) return;
		// While this side waits for the peer to take its answer it reads nothing, so the
		// peer's silence is not a stall: the drain's own timeout judges the peer then.
		const syncing = this.currentState === SessionState.syncing;
		if (syncing) clearTimeout(this.timer);
		await this.init.drained();
		if (syncing && this.currentState === SessionState.syncing) this.armStallTimer();
	}

	/**
	 * After a change of the team (a member added to or removed from a private space): forgets
	 * the offered documents the peer may no longer hold (withheld now, offered again if it may
	 * again) and sends the whole state of each withheld one it may hold now, as a live update.
	 * A member can change the team often (each signed operation does), so rescans are coalesced:
	 * at most one per {@link REOFFER_GAP_MS} per session, each reading the team as it is then.
	 */
	reoffer(): Promise<void> {
		if (this.currentState !== SessionState.syncing && this.currentState !== SessionState.live) return this.queue;
		this.reofferDue = true;
		if (this.reofferTimer === undefined) this.rescan();
		return this.queue;
	}

	private rescan(): void {
		this.reofferDue = false;
		this.reofferTimer = setTimeout(() => {
			this.reofferTimer = undefined;
			if (this.reofferDue && this.currentState !== SessionState.closed) this.rescan();
		}, REOFFER_GAP_MS);
		this.queue = this.queue
			.then(async () => {
				for (const docId of this.offered) {
					if (this.shares(docId)) continue;
					this.offered.delete(docId);
					this.withhold(docId);
				}
				await this.offerWhole([...this.withheld]);
			})
			.catch((error: unknown) => this.fail(asError(error)));
	}

	/** Queues sending the whole state of those of `ids` that are withheld and that the peer may hold now. */
	private queueOffer(ids: Iterable<string>): void {
		const due = [...ids].filter((docId) => this.withheld.has(docId));
		if (due.length === 0) return;
		this.queue = this.queue.then(() => this.offerWhole(due)).catch((error: unknown) => this.fail(asError(error)));
	}

	/** Sends the whole state of each withheld document of `ids` the peer may hold now, one in flight at a time. */
	private async offerWhole(ids: string[]): Promise<void> {
		for (const docId of ids) {
			if (this.currentState === SessionState.closed) return;
			if (!this.withheld.has(docId) || !this.shares(docId)) continue;
			this.withheld.delete(docId);
			this.offered.add(docId);
			const update = await this.init.docs.diff(docId, EMPTY_STATE_VECTOR);
			if (update === undefined || update.length > this.limits.maxUpdateBytes) continue;
			this.send({ type: MessageType.update, docId, update });
			await this.drained(); // one document's state in flight at a time
		}
	}

	/** Remembers that `docId` was not offered (see {@link withheld}). */
	private withhold(docId: string): void {
		if (this.withheld.size < this.limits.maxDocs) this.withheld.add(docId);
	}

	/** Ends the session without an error (the outer layer closes the stream). */
	close(): void {
		if (this.currentState === SessionState.closed) return;
		this.stop();
		this.emit('closed');
	}

	private readonly onAbort = (): void => this.fail(new SessionAbortedError('aborted'));

	/** (Re)starts the catch-up stall timer: every message from the peer resets it. */
	private armStallTimer(): void {
		clearTimeout(this.timer);
		const ms = this.limits.syncStallTimeoutMs;
		this.timer = setTimeout(() => this.fail(new SyncStalledError(`no message from the peer for ${ms} ms while catching up`)), ms);
	}

	private async handle(bytes: Uint8Array): Promise<void> {
		if (this.currentState === SessionState.closed) return;
		if (this.currentState === SessionState.syncing) this.armStallTimer();
		if (!this.membership.proven && bytes.length > this.limits.maxControlBytes) {
			throw new MessageTooLargeError(bytes.length, this.limits.maxControlBytes);
		}
		const m = decodeMessage(bytes, this.limits);
		if (!this.membership.proven) {
			const proven = await this.membership.handle(m);
			if (this.membership.remoteProven && !this.trustedSent) {
				this.trustedSent = true;
				this.emit('trusted');
			}
			if (proven) await this.begin();
			return;
		}
		switch (m.type) {
			case MessageType.digest:
				return this.onDigest(m);
			case MessageType.syncStep1: {
				// One answer per document and session: an honest peer asks once (found in review: each
				// repeat of a 31-byte request drew the whole document again).
				if (!this.remoteDigestComplete || this.remoteDone || this.answered.has(m.docId)) throw unexpected(m);
				this.answered.add(m.docId);
				if (!isDecodableStateVector(m.stateVector)) {
					throw new MalformedMessageError('SYNC_STEP1: undecodable state vector');
				}
				const update = this.shares(m.docId) ? await this.init.docs.diff(m.docId, m.stateVector) : undefined;
				return this.send({ type: MessageType.syncStep2, docId: m.docId, update: update ?? EMPTY_UPDATE });
			}
			case MessageType.syncStep2: {
				if (!this.pending.has(m.docId)) throw unexpected(m);
				await this.apply(m.docId, m.update);
				this.pending.delete(m.docId);
				this.emit('progress', this.progress);
				return this.checkDone();
			}
			case MessageType.update:
				return this.apply(m.docId, m.update);
			case MessageType.done: {
				if (!this.remoteDigestComplete || this.remoteDone) throw unexpected(m);
				this.remoteDone = true;
				return this.checkSynced();
			}
			case MessageType.sealedPut: {
				const store = await this.sealedStoreFor(m.docId);
				if (store) await store.put(m.docId, m.envelopes);
				return;
			}
			case MessageType.sealedWant: {
				const store = await this.sealedStoreFor(m.docId);
				if (!store) return;
				const { envelopes, more } = await store.get(m.docId, m.from, this.limits.maxUpdateBytes);
				return this.send({ type: MessageType.sealedBatch, docId: m.docId, from: m.from, more, envelopes });
			}
			case MessageType.sealedBatch: {
				// One answer per request: a request asked again (its caller stopped waiting) gets two.
				const key = `${m.docId}\n${m.from}`;
				const waiting = this.wanted.get(key);
				if (waiting === undefined) throw unexpected(m);
				if (waiting > 1) this.wanted.set(key, waiting - 1);
				else this.wanted.delete(key);
				return this.init.onSealed?.(m);
			}
			default:
				throw unexpected(m);
		}
	}

	/** Membership is proven: listen for live updates, then send this peer's digest. */
	private async begin(): Promise<void> {
		this.currentState = SessionState.syncing;
		this.armStallTimer();
		this.unsubscribe = this.init.docs.onLocalUpdate((docId, update, origin) => {
			if (this.currentState === SessionState.closed) return;
			// A root change (from any side) may list what was withheld: only what it names is looked at.
			if (docId === this.init.workspace.id && this.withheld.size > 0) this.queueOffer(idsListedBy(update));
			if (origin === this) {
				// The peer holds what it sent: not to be sent back to it on a rescan (found in review:
				// each team change echoed every document the peer had brought in this session).
				if (this.withheld.has(docId)) this.queueOffer([docId]);
				else if (this.shares(docId)) this.offered.add(docId);
				return;
			}
			// The peer would refuse an oversized update; the next session's digest repairs it.
			if (update.length > this.limits.maxUpdateBytes) return;
			if (!this.shares(docId)) return this.withhold(docId);
			// Its earlier updates were withheld: this one would build on them, so the whole state goes.
			if (this.withheld.has(docId)) return this.queueOffer([docId]);
			this.offered.add(docId);
			if (docId === this.rosterId && deletesAnything(update)) return this.queueWhole(docId);
			this.send({ type: MessageType.update, docId, update });
		});
		const { docs } = this.init;
		const held = await docs.list();
		const ids = held.filter((docId) => this.shares(docId)).slice(0, this.limits.maxDocs);
		for (const docId of held) if (!this.shares(docId)) this.withhold(docId);
		const entries: Digest['entries'] = [];
		for (const docId of ids) {
			this.offered.add(docId);
			const hex = await docs.digest(docId);
			if (hex !== undefined) entries.push({ docId, digest: fromHex(hex) });
		}
		const size = this.limits.maxDigestEntries;
		for (let i = 0; i === 0 || i < entries.length; i += size) {
			const part = entries.slice(i, i + size);
			this.send({ type: MessageType.digest, more: i + size < entries.length, entries: part });
		}
	}

	private async onDigest(m: Digest): Promise<void> {
		if (this.remoteDigestComplete) throw unexpected(m);
		for (const { docId, digest } of m.entries) {
			if (this.remoteDigest.has(docId)) throw new MalformedMessageError(`DIGEST: ${docId} listed twice`);
			this.remoteDigest.set(docId, toHex(digest));
		}
		if (this.remoteDigest.size > this.limits.maxDocs) throw new MalformedMessageError('DIGEST: too many documents');
		if (m.more) return;
		this.remoteDigestComplete = true;
		const { docs } = this.init;
		// The roster first, then the root: who may write what (and what each document is)
		// is known before the documents it decides about arrive, as answers come in order.
		const first = [this.rosterId, this.init.workspace.id].filter((id) => this.remoteDigest.has(id));
		const ordered = [...first, ...[...this.remoteDigest.keys()].filter((id) => !first.includes(id))];
		for (const docId of ordered) {
			const remote = this.remoteDigest.get(docId)!;
			if (!(await this.accepts(docId)) || (await docs.digest(docId)) === remote) continue;
			this.pending.add(docId);
		}
		this.requested = this.pending.size;
		this.emit('progress', this.progress);
		for (const docId of this.pending) {
			const stateVector = (await docs.stateVector(docId)) ?? EMPTY_STATE_VECTOR;
			this.send({ type: MessageType.syncStep1, docId, stateVector });
		}
		this.checkDone();
	}

	/**
	 * Sends the roster's whole state in place of `update`, which deletes something. In the
	 * roster that is a losing duplicate: two replicas wrote one team operation under its id, Yjs
	 * kept one copy and deleted the other, and this replica integrated the loser after the
	 * winner. A peer holding only the loser would see that update delete an operation and refuse
	 * it (TeamDoc.ts), ending the session; with the whole state the winner travels along, and
	 * the peer applies what it lacks.
	 *
	 * A member can write duplicates as often as it likes, so whole sends are coalesced: at most
	 * one per {@link WHOLE_ROSTER_GAP_MS} per session, each reading the roster as it is then
	 * (it covers every update that came before). A roster too large for one message is not sent:
	 * what it would carry is deletions of duplicates, which the next catch-up repairs.
	 */
	private queueWhole(docId: string): void {
		this.wholeDue = true;
		if (this.wholeTimer === undefined) void this.sendWhole(docId);
	}

	private async sendWhole(docId: string): Promise<void> {
		this.wholeDue = false;
		this.wholeTimer = setTimeout(() => {
			this.wholeTimer = undefined;
			if (this.wholeDue && this.currentState !== SessionState.closed) void this.sendWhole(docId);
		}, WHOLE_ROSTER_GAP_MS);
		let whole: Uint8Array | undefined;
		try {
			whole = await this.init.docs.diff(docId, EMPTY_STATE_VECTOR);
		} catch {
			whole = undefined;
		}
		if (this.currentState === SessionState.closed || whole === undefined || whole.length > this.limits.maxUpdateBytes) return;
		this.send({ type: MessageType.update, docId, update: whole });
	}

	private shares(docId: string): boolean {
		return this.init.mayShare?.(docId) ?? true;
	}

	private async accepts(docId: string): Promise<boolean> {
		return (await this.init.mayAccept?.(docId)) ?? true;
	}

	private async apply(docId: string, update: Uint8Array): Promise<void> {
		if (!(await this.accepts(docId))) {
			throw new UpdateRejectedError(docId, new Error('a private space the peer (or this device) is not in'));
		}
		const verdict = this.init.unlisted?.admit(docId) ?? 'known';
		if (verdict === 'refused') throw new UpdateRejectedError(docId, new UnlistedLimitError(docId));
		let landed = false;
		try {
			await this.applyWhole(docId, update, () => (landed = true));
		} catch (error) {
			if (verdict === 'new' && !landed) this.init.unlisted?.release(docId);
			throw error;
		}
	}

	/** Applies `update` at once or in pieces; `onLanded` after the first piece is applied. */
	private async applyWhole(docId: string, update: Uint8Array, onLanded: () => void): Promise<void> {
		if (update.byteLength <= this.limits.pieceBytes) {
			await this.applyPiece(docId, update);
			return onLanded();
		}
		// A large update goes in pieces, each checked and applied like any update, with the
		// event loop given back in between: other sessions, documents and workspaces go on.
		let pieces: Uint8Array[];
		try {
			pieces = await splitUpdate(update, this.limits.pieceBytes);
		} catch (cause) {
			throw new UpdateRejectedError(docId, cause);
		}
		for (const [i, piece] of pieces.entries()) {
			if (this.currentState === SessionState.closed) return;
			if (i > 0) await yieldToEventLoop();
			// Progress, not a stall: the peer's next message waits for this one.
			if (this.currentState === SessionState.syncing) this.armStallTimer();
			await this.applyPiece(docId, piece);
			onLanded();
		}
	}

	/** Checks and applies one update (or one piece of a large one). */
	private async applyPiece(docId: string, update: Uint8Array): Promise<void> {
		// Only the checked part (what the target lacks) is applied.
		const part = applicablePart(update, await targetClocks(this.init.docs, docId));
		if (part === undefined) {
			throw new UpdateRejectedError(docId, new Error('the update does not decode or does not apply cleanly'));
		}
		try {
			await this.init.docs.apply(docId, part, this, this.init.remotePeerId);
		} catch (cause) {
			throw new UpdateRejectedError(docId, cause);
		}
	}

	private checkDone(): void {
		if (this.pending.size > 0 || !this.remoteDigestComplete) return;
		this.send({ type: MessageType.done, received: this.requested });
		this.checkSynced();
	}

	private checkSynced(): void {
		if (this.currentState !== SessionState.syncing) return;
		if (!this.remoteDone || !this.remoteDigestComplete || this.pending.size > 0) return;
		this.currentState = SessionState.live;
		clearTimeout(this.timer);
		this.emit('synced');
	}

	/** Sealed updates this side asked for and has not received yet: requests by document and index. */
	private readonly wanted = new Map<string, number>();

	/** The store, when the remote peer may use it for `docId`; else the refusal is reported. */
	private async sealedStoreFor(docId: string): Promise<SealedStore | undefined> {
		const store = this.init.sealedStore;
		if (store !== undefined && (await store.mayUse(docId))) return store;
		this.emit('sealedRefused', docId);
		return undefined;
	}

	/** Stores sealed updates of `docId` on the remote peer (a relay outside its space). */
	putSealed(docId: string, envelopes: Uint8Array[]): void {
		if (this.currentState === SessionState.membership) throw new Error('membership is not proven yet');
		this.send({ type: MessageType.sealedPut, docId, envelopes });
	}

	/** Asks the remote peer for the sealed updates of `docId` it stores from index `from` on ({@link SyncSessionInit.onSealed}). */
	wantSealed(docId: string, from: number): void {
		if (this.currentState === SessionState.membership) throw new Error('membership is not proven yet');
		if (this.wanted.size >= MAX_SEALED_WANTS) throw new Error(`more than ${MAX_SEALED_WANTS} sealed reads unanswered`);
		const key = `${docId}\n${from}`;
		this.wanted.set(key, (this.wanted.get(key) ?? 0) + 1);
		this.send({ type: MessageType.sealedWant, docId, from });
	}

	/** Sends unless closed; a failing transport ends the session instead of throwing into a caller (or a Yjs transaction). */
	private send(m: Message): void {
		if (this.currentState === SessionState.closed) return;
		try {
			this.init.send(encodeMessage(m));
		} catch (error) {
			this.fail(asError(error));
		}
	}

	private fail(error: Error): void {
		if (this.currentState === SessionState.closed) return;
		this.failure = error;
		this.stop();
		this.emit('error', error);
		this.emit('closed');
	}

	private stop(): void {
		this.currentState = SessionState.closed;
		clearTimeout(this.timer);
		clearTimeout(this.wholeTimer);
		clearTimeout(this.reofferTimer);
		this.unsubscribe?.();
		this.unsubscribe = undefined;
		this.init.signal?.removeEventListener('abort', this.onAbort);
	}

	private emit<E extends keyof SyncSessionEvents>(event: E, ...args: Parameters<SyncSessionEvents[E]>): void {
		this.listeners.emit(event, ...args);
	}
}

function unexpected(m: Message): UnexpectedMessageError {
	return new UnexpectedMessageError(`message type ${m.type} not expected now`);
}

function asError(error: unknown): Error {
	return error instanceof Error ? error : new Error(String(error));
}

/** Most distinct sealed reads (document and index) one session keeps waiting for an answer. */
export const MAX_SEALED_WANTS = 1024;

/** Least time between two rescans of what a session may offer after team changes (see `SyncSession.reoffer`). */
export const REOFFER_GAP_MS = 1000;

/** Least time between two whole-roster sends of one session (see `SyncSession.queueWhole`). */
export const WHOLE_ROSTER_GAP_MS = 1000;

/** Whether a Yjs update deletes anything (its delete set is not empty); false when it does not decode. */
function deletesAnything(update: Uint8Array): boolean {
	try {
		return Y.decodeUpdate(update).ds.clients.size > 0;
	} catch {
		return false;
	}
}
