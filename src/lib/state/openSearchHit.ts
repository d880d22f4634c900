/**
 * Opens a search result where it was found: a channel message in its channel (a thread reply
 * with its thread panel open), an AI-chat message in its chat, each scrolled to, focused and
 * highlighted; a note with the cursor at the match.
 */
import type { SearchHit } from '../store/search/SearchIndex.js';
import { SearchKind } from '../store/search/rows.js';
import type { WorkspaceState } from './WorkspaceState.svelte.js';

/** Opens a result; returns false for a kind it does not know. */
export async function openSearchHit(ws: WorkspaceState, hit: SearchHit): Promise<boolean> {
	if (hit.kind === SearchKind.note) {
		await ws.openNote(hit.docId, hit.offset);
		return true;
	}
	if (hit.kind === SearchKind.message) {
		await openMessage(ws, hit.docId, hit.itemId, hit.parent);
		return true;
	}
	if (hit.kind === SearchKind.ai) {
		await ws.openAiThread(hit.docId);
		if (ws.chat?.id === hit.docId) ws.chat.reveal.show(hit.itemId);
		return true;
	}
	return false;
}

/**
 * Opens channel `channelId` at message `messageId` (a thread reply with its thread panel open,
 * when `parent` names the thread), scrolled to, focused and highlighted. Search results and
 * notifications open messages so.
 */
export async function openMessage(ws: WorkspaceState, channelId: string, messageId: string, parent?: string): Promise<void> {
	await ws.openChannel(channelId);
	const channel = ws.channel;
	if (channel?.id !== channelId) return;
	if (parent !== undefined) channel.threadParentId = parent;
	channel.reveal.show(messageId);
}

/** The name of where a result was found: its channel, AI chat or note title ('' when unknown). */
export function searchHitPlace(ws: WorkspaceState, hit: SearchHit): string {
	if (hit.kind === SearchKind.message) return ws.channelEntry(hit.docId)?.name ?? '';
	if (hit.kind === SearchKind.ai) return ws.aiThreads.find((t) => t.id === hit.docId)?.title ?? '';
	return hit.title ?? '';
}
