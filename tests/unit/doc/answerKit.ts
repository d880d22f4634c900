/** The set-up of the answer-proof tests: an owner, a member and a relay device, role-based posting rules, a channel. */
import * as Y from 'yjs';
import { ChannelDoc } from '../../../src/lib/doc/ChannelDoc.js';
import type { PostingRules } from '../../../src/lib/doc/channelRights.js';
import { identity } from './helpers.js';

/** A channel `doc` read-only from clock `readOnlyFrom` on ('' for from its creation); `writable`: the same rules without it. */
export function answerTeam(doc: string, readOnlyFrom: string) {
	const owner = identity();
	const member = identity();
	const relay = identity();
	const roles: Record<string, string> = { [owner.id]: 'owner', [member.id]: 'member', [relay.id]: 'relay' };
	const rules: PostingRules = { roleOf: (peer) => roles[peer], readOnly: [{ from: readOnlyFrom, to: undefined }] };
	const writable: PostingRules = { roleOf: (peer) => roles[peer], readOnly: [] };
	const channel = new ChannelDoc(new Y.Doc({ guid: doc }));
	return { owner, member, relay, rules, writable, channel };
}
