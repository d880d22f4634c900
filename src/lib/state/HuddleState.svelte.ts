/**
 * Runes state of huddles (audio calls in a channel) for the UI: who is in which channel's huddle
 * (from the workspace's awareness, a hint: each device publishes `huddle: { channel, muted }`
 * beside its presence), and this browser's own huddle: joining, muting, leaving, who is talking
 * and whose audio is connected. The calls themselves are CallMesh's (src/lib/huddle/), over the
 * signalling service the composition root starts (app.ts); the team's rule is checked there,
 * never from awareness.
 */
import type { Awareness } from 'y-protocols/awareness';
import { createSubscriber } from 'svelte/reactivity';
import type { CallMesh } from '../huddle/CallMesh.js';
import { fairOrder } from '../huddle/fairOrder.js';
import type { HuddleSignalling } from '../huddle/HuddleSignalling.js';
import { MAX_HUDDLE_PEOPLE } from '../huddle/huddleMessages.js';

/** Someone in a huddle, as awareness says. */
export interface HuddlePerson {
	peerId: string;
	muted: boolean;
}

/** Why joining failed. */
export const HuddleProblem = { full: 'full', microphone: 'microphone', unavailable: 'unavailable' } as const;
export type HuddleProblem = (typeof HuddleProblem)[keyof typeof HuddleProblem];

/** What the state needs from the mesh state. */
export interface HuddleStateInit {
	/** This device's peer id (its node's, in the tab that holds the device key). */
	me: string;
	/** The workspace's awareness, while it syncs. */
	awareness(workspaceId: string): Awareness | undefined;
	/** The workspace's team, to end calls with devices it no longer lets in. */
	team?(workspaceId: string): { onChange(handler: () => void): () => void; personOf?(peerId: string): string | undefined } | undefined;
}

/** The `huddle` field of an awareness state, read defensively (anyone in the workspace writes it). */
function readHuddle(state: unknown): { peerId: string; channel: string; muted: boolean } | undefined {
	if (typeof state !== 'object' || state === null) return undefined;
	const { peer, huddle } = state as Record<string, unknown>;
	if (typeof peer !== 'string' || peer.length > 100 || typeof huddle !== 'object' || huddle === null) return undefined;
	const { channel, muted } = huddle as Record<string, unknown>;
	if (typeof channel !== 'string' || channel.length > 64) return undefined;
	return { peerId: peer, channel, muted: muted === true };
}

/** See the module comment. */
export class HuddleState {
	/** The huddle this browser is in. */
	joined = $state.raw<{ workspaceId: string; channelId: string } | undefined>();
	/** Whether this browser's microphone is muted. */
	muted = $state(false);
	/** Why the last join failed ('' when it did not). */
	problem = $state<HuddleProblem | ''>('');
	/** The browser's error text, for {@link HuddleProblem.microphone}. */
	problemDetail = $state('');
	/** Peer ids talking now (this device's own id included). */
	talking = $state.raw<ReadonlySet<string>>(new Set());
	/** Peers whose audio is connected. */
	connected = $state.raw<ReadonlySet<string>>(new Set());

	private calls: CallMesh | undefined;
	private signalling: HuddleSignalling | undefined;
	private readonly subscribers = new WeakMap<Awareness, () => void>();
	private unwatch: (() => void) | undefined;

	constructor(private readonly init: HuddleStateInit) {}

	/** Whether huddles can start here (the mesh runs and the browser has WebRTC). */
	get available(): boolean {
		return this.calls !== undefined;
	}

	/** Takes the signalling service once the mesh runs (app.ts `startMesh`). */
	async attach(signalling: HuddleSignalling): Promise<void> {
		if (typeof RTCPeerConnection === 'undefined') return;
		const { CallMesh } = await import('../huddle/CallMesh.js');
		this.signalling = signalling;
		this.calls = new CallMesh({
			signalling,
			me: this.init.me,
			onChange: () => {
				this.talking = new Set(this.calls?.talking);
				this.connected = new Set(this.calls?.connected());
			},
			onError: (error) => console.info('huddle:', error.name, error.message)
		});
	}

	/**
	 * Who is in the huddle of `channelId` (this device included when it is), as awareness says,
	 * less anyone the team keeps out of the channel (found in review: a member removed from a
	 * private channel who kept listing herself in its huddle still showed in the bar).
	 */
	people(workspaceId: string, channelId: string): HuddlePerson[] {
		const awareness = this.init.awareness(workspaceId);
		if (awareness === undefined) return [];
		this.subscribe(awareness)();
		const byPeer = new Map<string, HuddlePerson>();
		for (const [clientId, state] of awareness.getStates()) {
			// This device as this tab says, not a state its earlier session left behind.
			if (clientId !== awareness.clientID && (state as { peer?: unknown } | null)?.peer === this.init.me) continue;
			const h = readHuddle(state);
			if (h === undefined || h.channel !== channelId || byPeer.has(h.peerId)) continue;
			if (h.peerId !== this.init.me && this.signalling?.allows(workspaceId, channelId, h.peerId) === false) continue;
			byPeer.set(h.peerId, { peerId: h.peerId, muted: h.muted });
		}
		return [...byPeer.values()];
	}

	/** Starts or joins the huddle of `channelId` (leaving any other); see {@link problem}. */
	async join(workspaceId: string, channelId: string): Promise<void> {
		this.problem = '';
		const calls = this.calls;
		const awareness = this.init.awareness(workspaceId);
		if (calls === undefined || awareness === undefined) {
			this.problem = HuddleProblem.unavailable;
			return;
		}
		if (this.people(workspaceId, channelId).filter((p) => p.peerId !== this.init.me).length >= MAX_HUDDLE_PEOPLE) {
			this.problem = HuddleProblem.full;
			return;
		}
		this.leave();
		try {
			await calls.join(workspaceId, channelId);
		} catch (error) {
			this.problem = HuddleProblem.microphone;
			this.problemDetail = error instanceof Error ? error.message : String(error);
			return;
		}
		this.muted = false;
		this.joined = { workspaceId, channelId };
		this.publish(awareness, { channel: channelId, muted: false });
		// Each person once before anyone twice: one member's tabs do not take every place.
		const reach = () => {
			const team = this.init.team?.(workspaceId);
			calls.reach(fairOrder(this.people(workspaceId, channelId).map((p) => p.peerId), (peer) => team?.personOf?.(peer)));
		};
		awareness.on('change', reach);
		// A device removed from the team (or the private channel) loses its call at once.
		const stopTeam = this.init.team?.(workspaceId)?.onChange(() => this.signalling?.revisit());
		this.unwatch = () => {
			awareness.off('change', reach);
			stopTeam?.();
		};
		reach();
	}

	/** Leaves this browser's huddle. */
	leave(): void {
		const joined = this.joined;
		this.unwatch?.();
		this.unwatch = undefined;
		this.calls?.leave();
		this.joined = undefined;
		this.muted = false;
		const awareness = joined && this.init.awareness(joined.workspaceId);
		if (awareness) this.publish(awareness, undefined);
	}

	/** Mutes or unmutes the microphone (and says so in awareness). */
	setMuted(muted: boolean): void {
		const joined = this.joined;
		if (joined === undefined) return;
		this.muted = muted;
		this.calls?.setMuted(muted);
		const awareness = this.init.awareness(joined.workspaceId);
		if (awareness) this.publish(awareness, { channel: joined.channelId, muted });
	}

	/** Sets (or with `undefined` removes) the `huddle` field, keeping the other fields of the local state. */
	private publish(awareness: Awareness, huddle: { channel: string; muted: boolean } | undefined): void {
		const { huddle: _old, ...rest } = (awareness.getLocalState() ?? { peer: this.init.me }) as Record<string, unknown>;
		awareness.setLocalState(huddle === undefined ? rest : { ...rest, huddle });
	}

	/** A subscriber that makes reads of `awareness` reactive. */
	private subscribe(awareness: Awareness): () => void {
		let subscriber = this.subscribers.get(awareness);
		if (subscriber === undefined) {
			subscriber = createSubscriber((update) => {
				awareness.on('change', update);
				return () => awareness.off('change', update);
			});
			this.subscribers.set(awareness, subscriber);
		}
		return subscriber;
	}
}
