/**
 * Model adverts: every peer tells the members of a workspace which models it serves, on
 * which engine, how fast and how busy, and whether it shares tools (PROTOCOL.md "Model
 * adverts"), and learns theirs, so the model picker can list every model in the mesh with
 * where it runs, and a chat can offer every peer's shared tools.
 *
 * - **On the wire.** One advert per peer, sealed as a gossip envelope of kind 3
 *   (gossipEnvelope.ts) on the workspace's topic: only members can read it, relays forward
 *   it blindly. The advert names its peer, and is accepted only in a gossipsub message
 *   signed by that peer, so a member cannot advertise (or withdraw) for another.
 * - **Out.** The local models (from `source`, e.g. {@link LlmHost.advertisedModels}) are
 *   published when they change (at most once per `minRepublishMs`), every `intervalMs`
 *   (default 15 s) as a renewal, and when a peer subscribes to the topic (a newcomer sees
 *   them at once). Stopping publishes an empty advert: a withdrawal.
 * - **In.** Envelopes are bounded, opened and decoded completely before use; failures are
 *   reported and dropped. An advert replaces the peer's previous one and expires `ttlMs`
 *   (default 45 s) after it arrived unless renewed; a peer that unsubscribes from the topic
 *   is dropped at once.
 */
import type { Message, SubscriptionChangeData } from '@libp2p/gossipsub';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { expectEnd, readBoundedBytes, readBoundedUint } from '../mesh/codec.js';
import { MalformedMessageError } from '../mesh/errors.js';
import type { GossipPubSub } from '../mesh/gossip.js';
import { EnvelopeKind, envelopeKind, openAdvertEnvelope, sealAdvertEnvelope } from '../mesh/gossipEnvelope.js';
import type { WorkspaceKeys } from '../mesh/workspaceKeys.js';
import type { EngineKind } from './engine.js';
import { Listeners } from '../events.js';

/** One model a peer serves, as advertised. */
export interface AdvertModel {
	id: string;
	/** The runtime it runs on at that peer. */
	engine: EngineKind;
	contextLength: number;
	/** Measured generation speed, when known. */
	tokensPerSecond?: number;
	/** Requests running or waiting for it now. */
	queueDepth: number;
	/** More requests the host would admit now. */
	freeSlots: number;
}

/** One peer's advert. */
export interface Advert {
	/** The advertising peer's id (must be the gossip message's signer). */
	peer: string;
	models: AdvertModel[];
	/** How many tools it shares (toolHost.ts; a relay's MCP servers); 0 or absent: none. */
	tools?: number;
}

/** A model somewhere in the mesh: an advertised model and where it runs. */
export interface MeshModel extends AdvertModel {
	/** The peer that runs it. */
	peer: string;
	/** True for this peer's own models. */
	local: boolean;
}

/** Bounds of an advert (PROTOCOL.md "Model adverts"). */
export const AdvertLimits = { maxPeerBytes: 128, maxModels: 64, maxModelBytes: 256, maxCount: 0xffff_ffff, maxTools: 4096 } as const;

/** Engine kinds on the wire, by code. */
const ENGINES = ['wllama', 'webllm', 'node-llama-cpp', 'openai', 'mesh'] as const satisfies readonly EngineKind[];

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function readString(decoder: decoding.Decoder, max: number, what: string): string {
	try {
		return strictUtf8.decode(readBoundedBytes(decoder, max, what));
	} catch (error) {
		throw error instanceof MalformedMessageError ? error : new MalformedMessageError(`${what}: not UTF-8`);
	}
}

function writeString(encoder: encoding.Encoder, value: string, max: number, what: string): void {
	const bytes = utf8.encode(value);
	if (bytes.length > max) throw new RangeError(`${what} of ${bytes.length} bytes exceeds ${max}`);
	encoding.writeVarUint8Array(encoder, bytes);
}

function count(value: number): number {
	return Math.min(AdvertLimits.maxCount, Math.max(0, Math.floor(Number.isFinite(value) ? value : 0)));
}

/**
 * Encodes an advert: varstring peer, varuint count, then per model varstring id, varuint
 * engine, varuint contextLength, varuint tokensPerSecond × 100 + 1 (0: unknown), varuint
 * queueDepth, varuint freeSlots; then varuint the number of tools it shares. Models beyond the
 * limit are left out.
 */
export function encodeAdvert(advert: Advert): Uint8Array {
	const encoder = encoding.createEncoder();
	writeString(encoder, advert.peer, AdvertLimits.maxPeerBytes, 'advert peer');
	const models = advert.models.slice(0, AdvertLimits.maxModels);
	encoding.writeVarUint(encoder, models.length);
	for (const m of models) {
		writeString(encoder, m.id, AdvertLimits.maxModelBytes, 'advert model id');
		encoding.writeVarUint(encoder, ENGINES.indexOf(m.engine));
		encoding.writeVarUint(encoder, count(m.contextLength));
		encoding.writeVarUint(encoder, m.tokensPerSecond === undefined ? 0 : count(m.tokensPerSecond * 100 + 1));
		encoding.writeVarUint(encoder, count(m.queueDepth));
		encoding.writeVarUint(encoder, count(m.freeSlots));
	}
	encoding.writeVarUint(encoder, Math.min(AdvertLimits.maxTools, count(advert.tools ?? 0)));
	return encoding.toUint8Array(encoder);
}

/** Decodes an advert completely; throws only {@link MalformedMessageError}. */
export function decodeAdvert(bytes: Uint8Array): Advert {
	try {
		const decoder = decoding.createDecoder(bytes);
		const peer = readString(decoder, AdvertLimits.maxPeerBytes, 'advert peer');
		const n = readBoundedUint(decoder, AdvertLimits.maxModels, 'advert models');
		const models: AdvertModel[] = [];
		const ids = new Set<string>();
		for (let i = 0; i < n; i++) {
			const id = readString(decoder, AdvertLimits.maxModelBytes, 'advert model id');
			if (id === '' || ids.has(id)) throw new MalformedMessageError('advert model id empty or repeated');
			ids.add(id);
			const engine = ENGINES[readBoundedUint(decoder, ENGINES.length - 1, 'advert engine')]!;
			const contextLength = readBoundedUint(decoder, AdvertLimits.maxCount, 'advert context length');
			const speed = readBoundedUint(decoder, AdvertLimits.maxCount, 'advert tokens per second');
			const queueDepth = readBoundedUint(decoder, AdvertLimits.maxCount, 'advert queue depth');
			const freeSlots = readBoundedUint(decoder, AdvertLimits.maxCount, 'advert free slots');
			models.push({ id, engine, contextLength, ...(speed > 0 ? { tokensPerSecond: (speed - 1) / 100 } : {}), queueDepth, freeSlots });
		}
		const tools = readBoundedUint(decoder, AdvertLimits.maxTools, 'advert tools');
		expectEnd(decoder, 'advert');
		return { peer, models, ...(tools > 0 ? { tools } : {}) };
	} catch (error) {
		if (error instanceof MalformedMessageError) throw error;
		throw new MalformedMessageError(`undecodable advert (${error instanceof Error ? error.message : String(error)})`);
	}
}

/** Options of {@link ModelAdverts}. */
export interface ModelAdvertsInit {
	pubsub: GossipPubSub;
	/** The workspace's keys (`MeshService.workspaceKeys`); the workspace must be added (its topic joined). */
	keys: WorkspaceKeys;
	/** This peer's id. */
	localPeerId: string;
	/** This peer's models (and the number of tools it shares) to advertise; none when absent (a peer that only asks). */
	source?: { advertisedModels(): AdvertModel[]; advertisedTools?(): number; on(event: 'change', handler: () => void): () => void };
	/** Milliseconds between renewals; default 15,000. */
	intervalMs?: number;
	/** Milliseconds an advert lives without renewal; default 45,000. */
	ttlMs?: number;
	/** Shortest time between two publishes on change, in ms; default 1,000. */
	minRepublishMs?: number;
	/** Most peers remembered; default 256. */
	maxPeers?: number;
	/** Told about every advert refused and every failed publish. */
	onError?: (error: Error) => void;
	/** Whether a peer is a current member device (the team); adverts of others are dropped. Default: any. */
	isMember?: (peerId: string) => boolean;
}

/** The adverts of one workspace; see the module comment. */
export class ModelAdverts {
	private readonly remote = new Map<string, { advert: Advert; expires: number }>();
	private readonly listeners = new Listeners<{ change: () => void }>('ModelAdverts');
	private running = false;
	private renewTimer: ReturnType<typeof setInterval> | undefined;
	private sweepTimer: ReturnType<typeof setInterval> | undefined;
	private publishTimer: ReturnType<typeof setTimeout> | undefined;
	private lastPublish = Number.NEGATIVE_INFINITY;
	private unsubscribeSource: (() => void) | undefined;
	private queue: Promise<void> = Promise.resolve();

	constructor(private readonly init: ModelAdvertsInit) {}

	private get ttlMs(): number {
		return this.init.ttlMs ?? 45_000;
	}

	/** Listens for adverts and publishes this peer's. */
	start(): void {
		if (this.running) return;
		this.running = true;
		const { pubsub, source } = this.init;
		pubsub.addEventListener('message', this.onMessage);
		pubsub.addEventListener('subscription-change', this.onSubscriptionChange);
		this.unsubscribeSource = source?.on('change', () => this.changed());
		this.renewTimer = setInterval(() => this.publishNow(), this.init.intervalMs ?? 15_000);
		this.sweepTimer = setInterval(() => this.sweep(), Math.max(50, Math.min(1000, this.ttlMs / 4)));
		this.publishNow();
	}

	/** Withdraws this peer's advert (best effort) and stops; remote adverts are forgotten. */
	async stop(): Promise<void> {
		if (!this.running) return;
		this.running = false;
		const { pubsub } = this.init;
		pubsub.removeEventListener('message', this.onMessage);
		pubsub.removeEventListener('subscription-change', this.onSubscriptionChange);
		this.unsubscribeSource?.();
		clearInterval(this.renewTimer);
		clearInterval(this.sweepTimer);
		clearTimeout(this.publishTimer);
		this.publishTimer = undefined;
		if (this.init.source !== undefined) await this.publish({ peer: this.init.localPeerId, models: [] }, true);
		this.remote.clear();
		this.emit();
	}

	/**
	 * Whether an advert held counts now: not expired, and its peer still one the team takes
	 * adverts from (asked at every read, so a removed or demoted peer's advert stops counting at
	 * once, not when it expires 45 s later).
	 */
	private live(entry: { advert: Advert; expires: number }, now: number): boolean {
		return entry.expires > now && (this.init.isMember === undefined || this.init.isMember(entry.advert.peer));
	}

	/** Every model in the mesh that is advertised now, this peer's first, with where it runs. */
	models(): MeshModel[] {
		const now = Date.now();
		const local = (this.init.source?.advertisedModels() ?? []).map((m) => ({ ...m, peer: this.init.localPeerId, local: true }));
		const remote = [...this.remote.values()]
			.filter((entry) => this.live(entry, now))
			.flatMap(({ advert }) => advert.models.map((m) => ({ ...m, peer: advert.peer, local: false })));
		return [...local, ...remote];
	}

	/** The other peers that share tools now (toolHost.ts), by peer id. */
	toolHosts(): string[] {
		const now = Date.now();
		return [...this.remote.values()].filter((entry) => this.live(entry, now) && (entry.advert.tools ?? 0) > 0).map(({ advert }) => advert.peer);
	}

	/** Adds a handler called when the list of models may have changed; returns its remover. */
	on(_event: 'change', handler: () => void): () => void {
		return this.listeners.on('change', handler);
	}

	/** The local models changed: publish now, or when `minRepublishMs` since the last is up. */
	changed(): void {
		if (!this.running || this.init.source === undefined || this.publishTimer !== undefined) return;
		const wait = this.lastPublish + (this.init.minRepublishMs ?? 1000) - Date.now();
		if (wait <= 0) return this.publishNow();
		this.publishTimer = setTimeout(() => {
			this.publishTimer = undefined;
			this.publishNow();
		}, wait);
	}

	private publishNow(): void {
		if (!this.running || this.init.source === undefined) return;
		this.lastPublish = Date.now();
		const tools = this.init.source.advertisedTools?.() ?? 0;
		void this.publish({ peer: this.init.localPeerId, models: this.init.source.advertisedModels(), ...(tools > 0 ? { tools } : {}) });
	}

	private async publish(advert: Advert, leaving = false): Promise<void> {
		try {
			const envelope = await sealAdvertEnvelope(this.init.keys, encodeAdvert(advert));
			if (this.running || leaving) await this.init.pubsub.publish(this.init.keys.topic, envelope);
		} catch (error) {
			if (this.running || leaving) this.report(error);
		}
	}

	private readonly onMessage = (event: CustomEvent<Message>): void => {
		const message = event.detail;
		if (!this.running || message.topic !== this.init.keys.topic || envelopeKind(message.data) !== EnvelopeKind.advert) return;
		this.queue = this.queue.then(() => this.receive(message)).catch((error: unknown) => this.report(error));
	};

	private async receive(message: Message): Promise<void> {
		const advert = decodeAdvert(await openAdvertEnvelope(this.init.keys, message.data));
		if (!this.running) return;
		if (message.type !== 'signed' || message.from.toString() !== advert.peer) {
			throw new MalformedMessageError('an advert not signed by the peer it names');
		}
		if (advert.peer === this.init.localPeerId) return;
		if (this.init.isMember !== undefined && !this.init.isMember(advert.peer)) {
			if (this.remote.has(advert.peer)) this.drop(advert.peer);
			throw new MalformedMessageError('an advert from a peer the team does not count');
		}
		const known = this.remote.has(advert.peer);
		if (advert.models.length === 0 && advert.tools === undefined) {
			if (known) this.drop(advert.peer);
			return;
		}
		if (!known && this.remote.size >= (this.init.maxPeers ?? 256)) {
			throw new MalformedMessageError('too many advertising peers; advert dropped');
		}
		this.remote.set(advert.peer, { advert, expires: Date.now() + this.ttlMs });
		this.emit();
	}

	private readonly onSubscriptionChange = (event: CustomEvent<SubscriptionChangeData>): void => {
		const { peerId, subscriptions } = event.detail;
		for (const s of subscriptions) {
			if (s.topic !== this.init.keys.topic) continue;
			if (s.subscribe) this.changed(); // a newcomer: let it see our models now
			else this.drop(peerId.toString());
		}
	};

	private drop(peer: string): void {
		if (this.remote.delete(peer)) this.emit();
	}

	private sweep(): void {
		const now = Date.now();
		let expired = false;
		for (const [peer, entry] of this.remote) {
			if (entry.expires > now) continue;
			this.remote.delete(peer);
			expired = true;
		}
		if (expired) this.emit();
	}

	private emit(): void {
		this.listeners.emit('change');
	}

	private report(error: unknown): void {
		const e = error instanceof Error ? error : new Error(String(error));
		if (this.init.onError) this.init.onError(e);
		else console.warn('model adverts:', e);
	}
}
