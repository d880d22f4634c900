/**
 * Presence of one workspace on its gossip topic (PROTOCOL.md "Awareness envelope"): the
 * app's y-protocols `Awareness` (one per workspace; only its clientID matters) is shared
 * with every member through sealed envelopes of the awareness kind.
 *
 * - **Out.** Every change of this peer's own state made here (any origin but
 *   {@link WorkspaceAwareness.origin}: `setLocalState`, the 15 s renewal) is sealed and
 *   published, coalesced per microtask. Only the local client's entry is sent: a peer
 *   speaks for itself, never for others (a remote state that timed out here is not
 *   announced as gone; each peer times it out itself).
 * - **In.** Envelopes are opened, bounded in size, decoded completely (each state a JSON
 *   object or null) and only then applied with {@link WorkspaceAwareness.origin}; entries
 *   claiming this peer's own client id are dropped. A publisher speaks for itself only: one
 *   entry per envelope, for a client id no other publisher was heard for, whose `peer` is the
 *   publisher (or the device it is a tab of); at most {@link MAX_CLIENTS_PER_PUBLISHER} client
 *   ids per publisher. Failures are reported and dropped.
 * - **Newcomers.** {@link WorkspaceAwareness.republish} renews and sends the local state again,
 *   at most once per `minRepublishMs` (the last call inside that window is sent when it
 *   ends). It runs when a sync session reaches synced (MeshService), when a peer subscribes
 *   to the topic, and when a client this peer shows no state of arrives (a newcomer, or one
 *   back after a timeout), so a peer joining through a relay, with no session to any member,
 *   sees the others within about a second.
 * - **Leaving.** {@link WorkspaceAwareness.stop} publishes the removal of the local state
 *   (best effort) without changing what the app holds; a later start announces it anew.
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import type { SubscriptionChangeData } from '@libp2p/gossipsub';
import { applyAwarenessUpdate, encodeAwarenessUpdate, removeAwarenessStates, type Awareness } from 'y-protocols/awareness';
import { expectEnd, readBoundedUint } from './codec.js';
import { MAX_AWARENESS_ENVELOPE_BYTES } from './constants.js';
import { AwarenessRejectedError, GossipOverloadError, MessageTooLargeError } from './errors.js';
import type { GossipPubSub } from './gossip.js';
import { openAwarenessEnvelope, sealAwarenessEnvelope } from './gossipEnvelope.js';
import { ReceiveQueue } from './receiveQueue.js';
import type { WorkspaceKeys } from './workspaceKeys.js';

/** Options of a {@link WorkspaceAwareness}. */
export interface WorkspaceAwarenessInit {
	pubsub: GossipPubSub;
	keys: WorkspaceKeys;
	/** The app's awareness of this workspace. */
	awareness: Awareness;
	/** Told about every envelope or update refused, and every failed publish. */
	onError: (error: Error) => void;
	/** Largest envelope sent or accepted; default {@link MAX_AWARENESS_ENVELOPE_BYTES}. */
	maxEnvelopeBytes?: number;
	/** Shortest time between two full re-publishes, in ms; default 1,000. */
	minRepublishMs?: number;
	/**
	 * Whether gossip publisher `publisher` may show a state naming peer `peer` (its `peer`
	 * field): a device itself, or a tab of it. Default: only the publisher itself.
	 */
	speaksFor?: (publisher: string, peer: string) => boolean;
}

/** What may wait to be opened: 256 envelopes, 2 MiB, 16 of one publisher (receiveQueue.ts; found in review: unbounded). */
export const AWARENESS_RECEIVE_LIMITS = { maxItems: 256, maxBytes: 2 * 1024 * 1024, maxPerPublisher: 16 };

/**
 * Client ids whose publisher is remembered. At the limit, the oldest whose state is gone is
 * forgotten; while every one is present, a new client id is refused (never one of another
 * peer that is here: forgetting it would let anyone take it over).
 */
export const MAX_AWARENESS_OWNERS = 4096;
/** Client ids one publisher may hold (a page reloaded draws a new one): its oldest goes first, with its state. */
export const MAX_CLIENTS_PER_PUBLISHER = 4;

/** The changes of an awareness 'update' event. */
interface AwarenessChanges {
	added: number[];
	updated: number[];
	removed: number[];
}

/** Envelope overhead over the awareness update: kind, key id, IV, lengths and the GCM tag (61 bytes). */
const ENVELOPE_OVERHEAD = 80;
/** Yjs client ids are 32-bit. */
const MAX_CLIENT_ID = 0xffff_ffff;

/** Shares one workspace's awareness on its topic; see the module comment. */
export class WorkspaceAwareness {
	/** Origin of every awareness update applied from the mesh. */
	readonly origin: { readonly awareness: string };
	private readonly maxEnvelopeBytes: number;
	private readonly minRepublishMs: number;
	private running = false;
	private publishQueued = false;
	private lastRepublish = Number.NEGATIVE_INFINITY;
	private republishTimer: ReturnType<typeof setTimeout> | undefined;
	/** Envelopes are opened and applied one at a time, in arrival order; what may wait is bounded (receiveQueue.ts). */
	readonly received = new ReceiveQueue(AWARENESS_RECEIVE_LIMITS);
	/** The publisher each client id was first heard from: nobody else may speak for it. */
	private readonly owners = new Map<number, string>();
	/** Each publisher's client ids, oldest first (at most {@link MAX_CLIENTS_PER_PUBLISHER}). */
	private readonly clientsOf = new Map<string, number[]>();

	constructor(private readonly init: WorkspaceAwarenessInit) {
		this.origin = { awareness: init.keys.workspaceId };
		this.maxEnvelopeBytes = init.maxEnvelopeBytes ?? MAX_AWARENESS_ENVELOPE_BYTES;
		this.minRepublishMs = init.minRepublishMs ?? 1000;
	}

	/** Starts publishing local changes and announces the local state (the topic is joined by gossip.ts). */
	start(): void {
		if (this.running) return;
		this.running = true;
		const { awareness, pubsub } = this.init;
		awareness.on('update', this.onUpdate);
		pubsub.addEventListener('subscription-change', this.onSubscriptionChange);
		// Announce with a new clock (emits 'update', published): receivers ignore a clock they
		// have seen, such as that of a removal published by stop(), and a new client's clock 0.
		if (awareness.getLocalState() !== null) awareness.setLocalState(awareness.getLocalState());
	}

	/** Publishes the removal of the local state (best effort), then stops; the app's awareness keeps its state. */
	async stop(): Promise<void> {
		if (!this.running) return;
		this.running = false;
		const { awareness, pubsub } = this.init;
		awareness.off('update', this.onUpdate);
		pubsub.removeEventListener('subscription-change', this.onSubscriptionChange);
		clearTimeout(this.republishTimer);
		this.republishTimer = undefined;
		const meta = awareness.meta.get(awareness.clientID);
		if (awareness.getLocalState() === null || meta === undefined) return;
		// What removeAwarenessStates does to the local client, without taking the state from the app.
		awareness.meta.set(awareness.clientID, { clock: meta.clock + 1, lastUpdated: meta.lastUpdated });
		await this.publish(encodeAwarenessUpdate(awareness, [awareness.clientID], new Map()), true);
	}

	/**
	 * Renews the local state and so sends it again, for peers that just appeared: at once when
	 * the last re-publish is `minRepublishMs` old, else when that time is up (one send for all
	 * calls in between).
	 */
	republish(): void {
		if (!this.running || this.republishTimer !== undefined) return;
		const wait = this.lastRepublish + this.minRepublishMs - Date.now();
		if (wait > 0) {
			this.republishTimer = setTimeout(() => {
				this.republishTimer = undefined;
				this.republish();
			}, wait);
			return;
		}
		this.lastRepublish = Date.now();
		// Renewed as awareness renews itself every 15 s (a new clock; 'update' publishes it): a
		// receiver that dropped our state ignores the clock it last saw.
		const { awareness } = this.init;
		if (awareness.getLocalState() !== null) awareness.setLocalState(awareness.getLocalState());
	}

	/**
	 * Opens, checks and applies one awareness envelope from the topic, published by `publisher`
	 * (gossipsub's signed sender; undefined only where senders are not checked); never throws.
	 */
	receive(envelope: Uint8Array, publisher?: string): void {
		if (!this.running) return;
		this.received.push(
			envelope.byteLength,
			publisher,
			() => this.apply(envelope, publisher),
			(error) => {
				if (this.running) this.init.onError(asError(error));
			},
			() => this.init.onError(new GossipOverloadError(`presence arrives faster than it is applied; what is past ${AWARENESS_RECEIVE_LIMITS.maxItems} waiting is dropped`))
		);
	}

	private async apply(envelope: Uint8Array, publisher: string | undefined): Promise<void> {
		if (!this.running) return;
		const update = await openAwarenessEnvelope(this.init.keys, envelope, this.maxEnvelopeBytes);
		const { awareness } = this.init;
		const checked = checkAwarenessUpdate(update, awareness.clientID);
		if (!this.running || checked === undefined) return;
		if (publisher !== undefined) this.checkSpeaker(checked, publisher);
		const absent = checked.present.filter((clientId) => !awareness.states.has(clientId));
		try {
			applyAwarenessUpdate(awareness, checked.update, this.origin);
		} catch (cause) {
			throw new AwarenessRejectedError(`awareness update not applied (${asError(cause).message})`);
		}
		// Someone (back) here who may not know us: let them see us now, not at our next renewal.
		if (absent.some((clientId) => awareness.states.has(clientId))) this.republish();
	}

	/**
	 * A peer speaks for itself only (see the module comment): one entry, for a client id first
	 * heard from this publisher, naming the publisher (or the device it is a tab of) as its peer.
	 * Throws {@link AwarenessRejectedError}.
	 */
	private checkSpeaker(checked: CheckedAwarenessUpdate, publisher: string): void {
		const [entry, ...more] = checked.entries;
		if (entry === undefined || more.length > 0) throw new AwarenessRejectedError(`${publisher} sent ${checked.entries.length} awareness entries; a peer sends its own only`);
		const owner = this.owners.get(entry.clientId);
		if (owner !== undefined && owner !== publisher) throw new AwarenessRejectedError(`${publisher} sent the awareness entry of another peer's client`);
		if (entry.peer !== undefined) {
			const speaksFor = this.init.speaksFor ?? ((from: string, peer: string) => from === peer);
			if (typeof entry.peer !== 'string' || !speaksFor(publisher, entry.peer)) throw new AwarenessRejectedError(`${publisher} sent an awareness state in another peer's name`);
		}
		if (owner === undefined) this.own(entry.clientId, publisher);
	}

	/** Records `publisher` as the owner of `clientId`, within the bounds above. Throws {@link AwarenessRejectedError}. */
	private own(clientId: number, publisher: string): void {
		const { awareness } = this.init;
		if (this.owners.size >= MAX_AWARENESS_OWNERS) {
			let gone: number | undefined;
			for (const id of this.owners.keys()) {
				if (!awareness.states.has(id)) {
					gone = id;
					break;
				}
			}
			if (gone === undefined) throw new AwarenessRejectedError(`${MAX_AWARENESS_OWNERS} awareness clients are present; ${publisher}'s new one is refused`);
			this.forget(gone);
		}
		const mine = this.clientsOf.get(publisher) ?? [];
		if (mine.length >= MAX_CLIENTS_PER_PUBLISHER) {
			const oldest = mine[0]!;
			this.forget(oldest);
			if (awareness.states.has(oldest)) removeAwarenessStates(awareness, [oldest], this.origin);
		}
		this.owners.set(clientId, publisher);
		this.clientsOf.set(publisher, [...(this.clientsOf.get(publisher) ?? []), clientId]);
	}

	/**
	 * Forgets who owns `clientId`, and, when it has no state, y-protocols' record of its clock,
	 * which y-protocols keeps for ever (found in review: one member's envelopes, each a new client
	 * id saying "left", added a record on every replica each, and its timer walks them all).
	 */
	private forget(clientId: number): void {
		const publisher = this.owners.get(clientId);
		this.owners.delete(clientId);
		const { awareness } = this.init;
		if (!awareness.states.has(clientId)) awareness.meta.delete(clientId);
		if (publisher === undefined) return;
		const left = (this.clientsOf.get(publisher) ?? []).filter((id) => id !== clientId);
		if (left.length > 0) this.clientsOf.set(publisher, left);
		else this.clientsOf.delete(publisher);
	}

	private readonly onUpdate = ({ added, updated, removed }: AwarenessChanges, origin: unknown): void => {
		if (!this.running || origin === this.origin) return;
		const own = this.init.awareness.clientID;
		if (added.includes(own) || updated.includes(own) || removed.includes(own)) this.queuePublish();
	};

	private readonly onSubscriptionChange = (event: CustomEvent<SubscriptionChangeData>): void => {
		if (event.detail.subscriptions.some((s) => s.subscribe && s.topic === this.init.keys.topic)) this.republish();
	};

	/** Publishes the local client's current entry once the current synchronous run ends. */
	private queuePublish(): void {
		if (this.publishQueued) return;
		this.publishQueued = true;
		queueMicrotask(() => {
			this.publishQueued = false;
			if (!this.running) return;
			const { awareness } = this.init;
			void this.publish(encodeAwarenessUpdate(awareness, [awareness.clientID]));
		});
	}

	private async publish(update: Uint8Array, leaving = false): Promise<void> {
		try {
			if (update.length + ENVELOPE_OVERHEAD > this.maxEnvelopeBytes) {
				throw new MessageTooLargeError(update.length + ENVELOPE_OVERHEAD, this.maxEnvelopeBytes);
			}
			const envelope = await sealAwarenessEnvelope(this.init.keys, update);
			if (this.running || leaving) await this.init.pubsub.publish(this.init.keys.topic, envelope);
		} catch (error) {
			if (this.running || leaving) this.init.onError(asError(error));
		}
	}
}

/** An awareness update that passed {@link checkAwarenessUpdate}. */
export interface CheckedAwarenessUpdate {
	/** The update, re-encoded without the receiver's own client. */
	update: Uint8Array;
	/** The clients it gives a state (not null) to. */
	present: number[];
	/** Each entry's client and the `peer` field of its state (undefined when it has none, or none at all). */
	entries: Array<{ clientId: number; peer: unknown }>;
}

/**
 * Decodes an awareness update completely (`varuint count`, then per entry `varuint
 * clientID, varuint clock, varstring JSON state`, nothing after) and re-encodes the entries
 * that are not about `ownClientId`; undefined when none is left. Each state must be a JSON
 * object or null. Throws {@link AwarenessRejectedError}.
 */
export function checkAwarenessUpdate(update: Uint8Array, ownClientId: number): CheckedAwarenessUpdate | undefined {
	const entries: Array<{ clientId: number; clock: number; json: string; peer: unknown }> = [];
	const present: number[] = [];
	try {
		const decoder = decoding.createDecoder(update);
		const count = readBoundedUint(decoder, update.length, 'awareness entries');
		for (let i = 0; i < count; i++) {
			const clientId = readBoundedUint(decoder, MAX_CLIENT_ID, 'awareness client id');
			const clock = readBoundedUint(decoder, Number.MAX_SAFE_INTEGER, 'awareness clock');
			const json = decoding.readVarString(decoder);
			const state: unknown = JSON.parse(json);
			if (state !== null && (typeof state !== 'object' || Array.isArray(state))) throw new Error('a state is not an object');
			if (clientId === ownClientId) continue;
			entries.push({ clientId, clock, json, peer: state === null ? undefined : (state as Record<string, unknown>).peer });
			if (state !== null) present.push(clientId);
		}
		expectEnd(decoder, 'awareness update');
	} catch (error) {
		throw new AwarenessRejectedError(`malformed awareness update (${asError(error).message})`);
	}
	if (entries.length === 0) return undefined;
	const encoder = encoding.createEncoder();
	encoding.writeVarUint(encoder, entries.length);
	for (const { clientId, clock, json } of entries) {
		encoding.writeVarUint(encoder, clientId);
		encoding.writeVarUint(encoder, clock);
		encoding.writeVarString(encoder, json);
	}
	return { update: encoding.toUint8Array(encoder), present, entries: entries.map(({ clientId, peer }) => ({ clientId, peer })) };
}

function asError(error: unknown): Error {
	return error instanceof Error ? error : new Error(String(error));
}
