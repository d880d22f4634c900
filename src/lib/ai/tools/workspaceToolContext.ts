/**
 * The workspace tools' context (workspaceTools.ts) over the app's services (app.ts): this
 * device's identity and clock, the workspace's team from the core, documents from the
 * document store (a document the UI holds is shared, not loaded twice), and the workspace's
 * full-text index.
 */
import type { Services } from '../../app.js';
import type { SearchHit } from '../../store/search/SearchIndex.js';
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

/** A search over the stored index of the workspace, opened for each query. */
function storedSearch(services: Services, workspaceId: string): WorkspaceSearch {
	return async (query, limit) => {
		// MiniSearch loads with the first search, not with the chat.
		const { SearchIndex } = await import('../../store/search/SearchIndex.js');
		const index = await SearchIndex.open({ db: services.db, workspaceId });
		try {
			return await index.search(query, limit);
		} finally {
			await index.close();
		}
	};
}
