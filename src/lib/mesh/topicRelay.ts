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
	/** Most topics followed at once (a bound against peers announcing endless topics). */
	maxTopics?: number;
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
 * Subscribes to every workspace topic a peer subscribes to (up to `maxTopics`) and leaves it
 * once no peer is subscribed. Returns a function that stops following (topics stay joined).
 */
export function followTopics(pubsub: FollowedPubSub, init: FollowTopicsInit = {}): () => void {
	const maxTopics = init.maxTopics ?? 1024;
	const followed = new Set<string>();
	const onChange = (event: CustomEvent<SubscriptionChangeData>) => {
		for (const { topic, subscribe } of event.detail.subscriptions) {
			if (!isWorkspaceTopic(topic)) continue;
			if (subscribe && !followed.has(topic) && followed.size < maxTopics) {
				if (!pubsub.getTopics().includes(topic)) {
					followed.add(topic);
					pubsub.subscribe(topic);
				}
			} else if (!subscribe && followed.has(topic) && pubsub.getSubscribers(topic).length === 0) {
				followed.delete(topic);
				pubsub.unsubscribe(topic);
			}
		}
	};
	pubsub.addEventListener('subscription-change', onChange);
	return () => pubsub.removeEventListener('subscription-change', onChange);
}
