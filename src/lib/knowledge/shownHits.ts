/**
 * Knowledge hits an AI chat may quote: message chunks of messages nobody is shown (hidden by a
 * moderator, a guest's post the channel's rules withhold: channelRights.ts `unseenMessages`)
 * left out, as search (SearchState `visible`) and the workspace tools (`ShownMessages`) leave
 * them out. The index keeps what was written and answers by document; the team and the marks
 * decide per message, now (found in review: a message an admin hid, and a guest's post
 * planted as a prompt, were quoted to the model in a chat every member reads).
 */
import type { KnowledgeHit } from './types.js';

/**
 * The first `limit` of `hits` (best first) that are not messages in `unseenIn(docId)`; each
 * channel among the hits is asked once.
 */
export async function shownHits(hits: readonly KnowledgeHit[], limit: number, unseenIn: (docId: string) => Promise<ReadonlySet<string>>): Promise<KnowledgeHit[]> {
	const unseen = new Map<string, ReadonlySet<string>>();
	const shown: KnowledgeHit[] = [];
	for (const hit of hits) {
		if (shown.length >= limit) break;
		if (hit.kind === 'message' && hit.itemId !== undefined) {
			let hidden = unseen.get(hit.docId);
			if (hidden === undefined) unseen.set(hit.docId, (hidden = await unseenIn(hit.docId)));
			if (hidden.has(hit.itemId)) continue;
		}
		shown.push(hit);
	}
	return shown;
}
