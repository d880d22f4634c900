/**
 * Live updates of one workspace on its gossipsub topic (PROTOCOL.md "Gossip envelope"):
 * every update made on this peer is sealed with the workspace's current gossip key (its
 * keyring's, keyring.ts) and published;
 * every envelope received is opened, checked like a session's UPDATE (updateCheck.ts) and
 * applied with {@link WorkspaceGossip.origin} as the transaction origin. What came from
 * gossip is never published again (gossipsub already floods it to every subscriber), nor
 * is what came from a sync session (the session's peer published it, or forwards it
 * itself). Envelopes that do not open (another workspace's, tampered, garbage) are
 * reported and dropped; they never reach a document. Awareness envelopes on the same topic
 * (their kind says so) are handed to `onAwareness` unopened (awareness.ts opens them), or
 * dropped when the workspace has no awareness.
 */
import type { GossipSub, Message } from '@libp2p/gossipsub';
import * as Y from 'yjs';
import { MAX_ENVELOPE_BYTES } from './constants.js';
import { GossipOverloadError, UnlistedLimitError, UpdateRejectedError } from './errors.js';
import { EnvelopeKind, envelopeKind, openEnvelope, sealEnvelope } from './gossipEnvelope.js';
import { targetClocks, type SyncDocs } from './syncDocs.js';
import { ReceiveQueue } from './receiveQueue.js';
import { applicablePart } from './updateCheck.js';
import type { UnlistedGate } from './unlistedAllowance.js';
import type { WorkspaceKeys } from './workspaceKeys.js';

/** The part of gossipsub this module uses. */
export type GossipPubSub = Pick<GossipSub, 'subscribe' | 'unsubscribe' | 'publish' | 'addEventListener' | 'removeEventListener'>;

/** Options of a {@link WorkspaceGossip}. */
export interface WorkspaceGossipInit {
	pubsub: GossipPubSub;
	keys: WorkspaceKeys;
	docs: SyncDocs;
	/** Whether an update with this transaction origin was made on this peer (and so is published). */
	isLocalOrigin: (origin: unknown) => boolean;
	/** Told about every envelope or update refused, and every failed publish. */
	onError: (error: Error) => void;
	/** Largest envelope sent or accepted; default {@link MAX_ENVELOPE_BYTES}. */
	maxEnvelopeBytes?: number;
	/**
	 * Milliseconds local updates wait to be merged into one envelope, asked at the first
	 * update of each envelope; default {@link GOSSIP_FLUSH_MS}.
	 */
	flushDelayMs?: number | (() => number);
	/**
	 * Receives every envelope of the awareness kind, still sealed, with its publisher (gossipsub
	 * signs each message, so it cannot be forged; undefined for an unsigned one, heard only
	 * without `isMember`). It must not throw. Without
	 * it, awareness envelopes are dropped silently: members may send them to a peer that shows
	 * no presence.
	 */
	onAwareness?: (envelope: Uint8Array, publisher: string | undefined) => void;
	/**
	 * Whether a publisher is a current member device (the team); envelopes of any other
	 * publisher (a removed member still holding a key) are dropped unopened. Gossipsub signs
	 * every message with its publisher's key, so `from` cannot be forged. Default: any.
	 */
	isMember?: (peerId: string) => boolean;
	/**
	 * Whether a live sync session with this publisher already carries its updates: a session
	 * forwards every update its peer makes, so the gossip copy of one is dropped before it is
	 * opened (it would be checked and applied only to change nothing). Default: none.
	 */
	hasSessionWith?: (peerId: string) => boolean;
	/** Whether local updates of `docId` are published (never a private space's: every member reads gossip). Default: yes. */
	mayGossip?: (docId: string) => boolean;
	/** Whether a gossip update of `docId` is taken. Default: yes. */
	acceptsGossip?: (docId: string) => boolean;
	/** The unlisted-document allowance of a publisher's member (unlistedAllowance.ts); none: every document is taken. */
	unlisted?: (publisher: string | undefined) => UnlistedGate;
}

/**
 * Most updates merged into one envelope: Y.mergeUpdates grows faster than linearly with the
 * number of updates (10,000 small text edits: ~1 s in one merge, ~16 ms in groups of 100).
 */
const MERGE_GROUP = 100;

/**
 * How long local updates gather before they are sealed and published. Directly connected
 * members get every update at once from their sync session; gossip is the path for members
 * behind a relay, where a few tens of milliseconds do not show. Gathering a typing burst into
 * one envelope saves each receiver a signature check, a decryption and an update check per
 * keystroke, CPU that otherwise competes with the direct path (bench/sync-latency.ts: p95
 * 3.3 ms with an envelope per update).
 */
export const GOSSIP_FLUSH_MS = 30;

/**
 * What may wait to be opened and applied: 256 envelopes, 16 MiB, 64 of one publisher (so one
 * member's flood leaves room for the others'; receiveQueue.ts).
 */
export const GOSSIP_RECEIVE_LIMITS = { maxItems: 256, maxBytes: 16 * 1024 * 1024, maxPerPublisher: 64 };

/** Envelope overhead over the update: kind, key id, IV, lengths, doc id and the GCM tag (90 bytes). */
const ENVELOPE_OVERHEAD = 128;

/** Publishes and applies one workspace's live updates on its topic; see the module comment. */
export class WorkspaceGossip {
	/** Transaction origin of every update applied from gossip. */
	readonly origin: { readonly gossip: string };
	private readonly maxEnvelopeBytes: number;
	private unsubscribeDocs: (() => void) | undefined;
	/** Envelopes are opened and applied one at a time, in arrival order. */
	/** Envelopes waiting to be opened and applied (bounded: receiveQueue.ts). */
	readonly received = new ReceiveQueue(GOSSIP_RECEIVE_LIMITS);
	private running = false;
	/** Local updates not published yet, per document. */
	private readonly outbox = new Map<string, Uint8Array[]>();
	private flushTimer: ReturnType<typeof setTimeout> | undefined;

	constructor(private readonly init: WorkspaceGossipInit) {
		this.origin = { gossip: init.keys.workspaceId };
		this.maxEnvelopeBytes = init.maxEnvelopeBytes ?? MAX_ENVELOPE_BYTES;
	}

	/** The workspace's topic (derived from the secret; reveals nothing about the workspace). */
	get topic(): string {
		return this.init.keys.topic;
	}

	/** Subscribes to the topic and starts publishing local updates. */
	start(): void {
		if (this.running) return;
		this.running = true;
		this.init.pubsub.addEventListener('message', this.onMessage);
		this.init.pubsub.subscribe(this.topic);
		this.unsubscribeDocs = this.init.docs.onLocalUpdate((docId, update, origin) => {
			if (!this.running || origin === this.origin || !this.init.isLocalOrigin(origin)) return;
			// Too large for an envelope: sessions forward it, anti-entropy repairs the rest.
			if (update.length + ENVELOPE_OVERHEAD > this.maxEnvelopeBytes) return;
			this.enqueue(docId, update);
		});
	}

	/** Unsubscribes; updates still queued are dropped. */
	stop(): void {
		if (!this.running) return;
		this.running = false;
		this.unsubscribeDocs?.();
		this.unsubscribeDocs = undefined;
		clearTimeout(this.flushTimer);
		this.flushTimer = undefined;
		this.outbox.clear();
		this.init.pubsub.removeEventListener('message', this.onMessage);
		this.init.pubsub.unsubscribe(this.topic);
	}

	/**
	 * Collects the updates of {@link GOSSIP_FLUSH_MS} (a typing burst, an import, a paste) and
	 * publishes them merged into envelopes of up to {@link MERGE_GROUP} updates, instead of
	 * signing and sealing one gossip message per update.
	 */
	private enqueue(docId: string, update: Uint8Array): void {
		const queued = this.outbox.get(docId);
		if (queued !== undefined) queued.push(update);
		else this.outbox.set(docId, [update]);
		if (this.flushTimer === undefined) {
			const setting = this.init.flushDelayMs ?? GOSSIP_FLUSH_MS;
			const delay = typeof setting === 'function' ? setting() : setting;
			this.flushTimer = setTimeout(() => this.flush(), delay);
		}
	}

	private flush(): void {
		this.flushTimer = undefined;
		const outbox = [...this.outbox];
		this.outbox.clear();
		const limit = this.maxEnvelopeBytes - ENVELOPE_OVERHEAD;
		for (const [docId, updates] of outbox) {
			// Asked at flush time: a new document's root entry is written just after its first update.
			if (this.init.mayGossip?.(docId) === false) continue;
			let group: Uint8Array[] = [];
			let size = 0;
			for (const update of updates) {
				// A merge is about the size of its parts or smaller; publish() drops one that is not.
				if ((size + update.length > limit || group.length === MERGE_GROUP) && group.length > 0) {
					void this.publish(docId, mergeAll(group));
					group = [];
					size = 0;
				}
				group.push(update);
				size += update.length;
			}
			if (group.length > 0) void this.publish(docId, mergeAll(group));
		}
	}

	private async publish(docId: string, update: Uint8Array): Promise<void> {
		if (update.length + ENVELOPE_OVERHEAD > this.maxEnvelopeBytes) return;
		try {
			const envelope = await sealEnvelope(this.init.keys, docId, update);
			if (this.running) await this.init.pubsub.publish(this.topic, envelope);
		} catch (error) {
			if (this.running) this.init.onError(asError(error));
		}
	}

	private readonly onMessage = (event: CustomEvent<Message>): void => {
		const message = event.detail;
		const { topic, data } = message;
		if (topic !== this.topic || !this.running) return;
		const { isMember } = this.init;
		if (isMember !== undefined && (message.type !== 'signed' || !isMember(message.from.toString()))) return;
		if (envelopeKind(data) === EnvelopeKind.awareness) {
			this.init.onAwareness?.(data, message.type === 'signed' ? message.from.toString() : undefined);
			return;
		}
		// Model adverts are opened by whoever follows them (src/lib/ai/adverts.ts), not here.
		if (envelopeKind(data) === EnvelopeKind.advert) return;
		if (message.type === 'signed' && this.init.hasSessionWith?.(message.from.toString()) === true) return;
		const publisher = message.type === 'signed' ? message.from.toString() : undefined;
		this.received.push(
			data.byteLength,
			publisher,
			() => this.receive(data, publisher),
			(error) => this.init.onError(asError(error)),
			() => this.init.onError(new GossipOverloadError(`updates arrive on ${this.topic} faster than they are applied; those past ${GOSSIP_RECEIVE_LIMITS.maxItems} waiting are dropped (sync repairs them)`))
		);
	};

	private async receive(envelope: Uint8Array, publisher: string | undefined): Promise<void> {
		if (!this.running) return;
		const { docId, update } = await openEnvelope(this.init.keys, envelope, this.maxEnvelopeBytes);
		if (this.init.acceptsGossip?.(docId) === false) {
			throw new UpdateRejectedError(docId, new Error('a private space\'s update on gossip'));
		}
		const { docs } = this.init;
		// Only the checked part (what the target lacks) is applied.
		const part = applicablePart(update, await targetClocks(docs, docId));
		if (part === undefined) {
			throw new UpdateRejectedError(docId, new Error('gossip update does not decode or does not apply cleanly'));
		}
		if (!this.running) return;
		const unlisted = this.init.unlisted?.(publisher);
		const verdict = unlisted?.admit(docId) ?? 'known';
		if (verdict === 'refused') throw new UpdateRejectedError(docId, new UnlistedLimitError(docId));
		try {
			await docs.apply(docId, part, this.origin, publisher);
		} catch (cause) {
			if (verdict === 'new') unlisted?.release(docId);
			throw new UpdateRejectedError(docId, cause);
		}
	}
}

function mergeAll(updates: Uint8Array[]): Uint8Array {
	return updates.length === 1 ? updates[0]! : Y.mergeUpdates(updates);
}

function asError(error: unknown): Error {
	return error instanceof Error ? error : new Error(String(error));
}
