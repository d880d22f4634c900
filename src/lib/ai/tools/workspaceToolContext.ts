/**
 * The workspace tools' context (workspaceTools.ts) over the app's services (app.ts): this
 * device's identity and clock, the workspace's team from the core, documents from the
 * document store (a document the UI holds is shared, not loaded twice), and the workspace's
 * full-text index.
 */
import type { Services } from '../../app.js';
import { ChannelDoc } from '../../doc/ChannelDoc.js';
import { unseenMessages } from '../../doc/channelRights.js';
import { WorkspaceDoc } from '../../doc/WorkspaceDoc.js';
import type { SearchHit } from '../../store/search/SearchIndex.js';
import { SearchKind } from '../../store/search/rows.js';
import { postingRules, readableChannelIds, type ToolTeam } from './workspaceToolAccess.js';
import type { WorkspaceToolContext } from './workspaceTools.js';

/** Searches a workspace's full-text index: hits best first, rights not yet checked. */
export type WorkspaceSearch = (query: string, limit: number) => Promise<SearchHit[]>;

/** Options of {@link workspaceToolContext}. */
export interface WorkspaceToolContextInit {
	/** Origin of the tools' transactions: pass state's `LOCAL_ORIGIN`, so the app treats them as this device's edits. */
	origin: unknown;
	/**
	 * The workspace's live index, when the caller has it (the open workspace's search). By
	 * default each search opens the stored index (its snapshot, or rebuilt from its entries)
	 * and closes it again.
	 */
	search?: WorkspaceSearch;
	/** The document where the answer shows: the channel of `@model`, or the AI chat (WorkspaceToolContext.audience). */
	audience?: string;
}

/** The tools' context for workspace `workspaceId` of `services`; the workspace must be open in the core to use it. */
export function workspaceToolContext(services: Services, workspaceId: string, init: WorkspaceToolContextInit): WorkspaceToolContext {
	const { identity, docs, core, clock } = services;
	return {
		workspaceId,
		device: { peerId: identity.peerId, privateKey: identity.privateKey },
		clock,
		origin: init.origin,
		team: () => core.get(workspaceId)?.authority,
		open: async (docId) => {
			const handle = docs.open(docId);
			await handle.ready; // never rejects: damage is set aside
			return { doc: handle.doc, release: () => docs.release(handle) };
		},
		search: init.search ?? storedSearch(services, workspaceId),
		...(init.audience !== undefined ? { audience: init.audience } : {})
	};
}

/**
 * A search over the stored index of the workspace, opened for each query. Like the live
 * search (SearchState `hits`), it leaves out messages the member is not shown page by page
 * (SearchIndex.search's `keep`), so a flood of withheld posts, which the index keeps, cannot
 * crowd out the hits the tools would show (found in review: a guest's many posts filled the
 * page read back, and the model was told nothing matched).
 */
function storedSearch(services: Services, workspaceId: string): WorkspaceSearch {
	return async (query, limit) => {
		// MiniSearch loads with the first search, not with the chat.
		const { SearchIndex } = await import('../../store/search/SearchIndex.js');
		const index = await SearchIndex.open({ db: services.db, workspaceId });
		const root = services.docs.open(workspaceId);
		try {
			await root.ready;
			return await index.search(query, limit, shownFilter(services, workspaceId, new WorkspaceDoc(root.doc)));
		} finally {
			services.docs.release(root);
			await index.close();
		}
	};
}

/**
 * A filter of search results, page by page: messages in channels the member may not read
 * (workspaceToolAccess.ts `readableChannels`), and those nobody is shown (hidden by a
 * moderator, withheld by the channel's posting rules: channelRights.ts `unseenMessages`), by
 * the team as it is now. Each channel among the results is read once. The tools check every
 * hit they keep again.
 */
function shownFilter(services: Services, workspaceId: string, root: WorkspaceDoc): (page: SearchHit[]) => Promise<SearchHit[]> {
	const hidden = new Map<string, ReadonlySet<string>>();
	return async (page) => {
		const team: ToolTeam | undefined = services.core.get(workspaceId)?.authority;
		if (team === undefined) return page.filter((h) => h.kind !== SearchKind.message);
		const readable = readableChannelIds(root, team, services.identity.peerId);
		const hits = page.filter((h) => h.kind !== SearchKind.message || readable.has(h.docId));
		for (const docId of new Set(hits.filter((h) => h.kind === SearchKind.message).map((h) => h.docId))) {
			if (hidden.has(docId)) continue;
			const handle = services.docs.open(docId);
			try {
				await handle.ready;
				hidden.set(docId, await unseenMessages(new ChannelDoc(handle.doc), postingRules(root, team, docId)));
			} finally {
				services.docs.release(handle);
			}
		}
		return hits.filter((h) => h.kind !== SearchKind.message || !hidden.get(h.docId)?.has(h.itemId));
	};
}

