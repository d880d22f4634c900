/**
 * Lets a relay forward the gossip of workspaces it is not a member of. gossipsub only
 * forwards topics a node subscribes to, and a workspace's topic name is derived from its
 * secret, so a relay cannot know it in advance: it follows the Outpost topics its peers
 * subscribe to, and leaves a topic when no peer wants it any more. It learns nothing else:
 * envelopes stay sealed (gossipEnvelope.ts) and the topic name does not reveal the workspace.
 */
import type { GossipSub, SubscriptionChangeData } from '@libp2p/gossipsub';
import { GOSSIP_TOPIC_PREFIX } from './constants.js';

/** Options of {@link followTopics}. */
export interface FollowTopicsInit {
	/** Most topics followed at once (a bound against peers announcing endless topics); default 1,024. */
	maxTopics?: number;
	/**
	 * Most topics one peer's subscriptions may make this node follow; default 16 (a member of
	 * several workspaces on a few devices). Strangers announcing made-up topics take at most
	 * this many slots each, and cannot push out the topics of real workspaces.
	 */
	maxTopicsPerPeer?: number;
	/** Told once per peer when it first passes `maxTopicsPerPeer`. */
	onRefused?: (peerId: string, limit: number) => void;
}

/** The part of gossipsub this module uses. */
export type FollowedPubSub = Pick<
	GossipSub,
	'subscribe' | 'unsubscribe' | 'getTopics' | 'getSubscribers' | 'addEventListener' | 'removeEventListener'
>;

const TOPIC = new RegExp(`^${GOSSIP_TOPIC_PREFIX.replace(/[/]/g, '\\/')}[0-9a-f]{32}$`);

/** True for a well-formed Outpost workspace topic. */
export function isWorkspaceTopic(topic: string): boolean {
	return TOPIC.test(topic);
}

/**
 * Subscribes to every workspace topic a peer subscribes to (up to `maxTopics` in all and
 * `maxTopicsPerPeer` brought by any one peer) and leaves it once no peer is subscribed.
 * Returns a function that stops following (topics stay joined).
 */
export function followTopics(pubsub: FollowedPubSub, init: FollowTopicsInit = {}): () => void {
	const maxTopics = init.maxTopics ?? 1024;
	const maxPerPeer = init.maxTopicsPerPeer ?? 16;
	const followed = new Set<string>();
	/** The followed topics each peer brought (a topic is charged to the peer that brought it). */
	const broughtBy = new Map<string, Set<string>>();
	const told = new Set<string>();
	/** The topics `peer` brought that it still subscribes to (a peer that left frees its slots). */
	const brought = (peer: string): Set<string> => {
		const topics = broughtBy.get(peer) ?? new Set<string>();
		for (const topic of topics) {
			if (!followed.has(topic) || !pubsub.getSubscribers(topic).some((p) => p.toString() === peer)) topics.delete(topic);
		}
		if (topics.size === 0) broughtBy.delete(peer);
		return topics;
	};
	const onChange = (event: CustomEvent<SubscriptionChangeData>) => {
		const peer = event.detail.peerId.toString();
		for (const { topic, subscribe } of event.detail.subscriptions) {
			if (!isWorkspaceTopic(topic)) continue;
			if (subscribe && !followed.has(topic) && followed.size < maxTopics) {
				if (pubsub.getTopics().includes(topic)) continue; // joined by this node itself
				const mine = brought(peer);
				if (mine.size >= maxPerPeer) {
					if (!told.has(peer)) init.onRefused?.(peer, maxPerPeer);
					told.add(peer);
					continue;
				}
				mine.add(topic);
				broughtBy.set(peer, mine);
				followed.add(topic);
				pubsub.subscribe(topic);
			} else if (!subscribe && followed.has(topic) && pubsub.getSubscribers(topic).length === 0) {
				followed.delete(topic);
				pubsub.unsubscribe(topic);
			}
		}
	};
	pubsub.addEventListener('subscription-change', onChange);
	return () => pubsub.removeEventListener('subscription-change', onChange);
}
