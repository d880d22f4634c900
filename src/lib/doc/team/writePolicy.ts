/**
 * The write policy every replica applies to a remote update before it touches a document
 * (the browser's store, the relay's archive, the test stores alike):
 *
 * - the roster document's team operations only grow (TeamDoc.ts);
 * - the root's channel index only grows, its settings change by signed marks (rootPolicy.ts);
 * - a channel document's history only grows (channelPolicy.ts): nothing signed is removed or
 *   overwritten. Who may post (guests, read-only channels) the view decides (channelRights.ts);
 * - an AI chat's signed records only accumulate (aiThreadPolicy.ts).
 *
 * A document is a channel when the workspace root lists it as one, or when it already holds
 * what only channels hold (edits, deletion or reaction marks, live answers): a channel whose
 * root entry has not arrived yet is protected once it holds any of those.
 */
import type * as Y from 'yjs';
import { checkAiThreadUpdate } from '../aiThreadPolicy.js';
import { checkChannelUpdate } from '../channelPolicy.js';
import { checkRootUpdate } from '../rootPolicy.js';
import { checkTeamUpdate } from './TeamDoc.js';
import { teamRosterId } from './teamId.js';

/** Roster ids by workspace id: every remote update asks, and each is a hash. */
const rosters = new Map<string, string>();

function rosterOf(workspaceId: string): string {
	let id = rosters.get(workspaceId);
	if (id === undefined) {
		if (rosters.size > 1000) rosters.clear();
		rosters.set(workspaceId, (id = teamRosterId(workspaceId)));
	}
	return id;
}

/** Top-level names only a channel document has. */
const CHANNEL_ONLY = ['edits', 'deletions', 'reactions', 'moderation', 'answers', 'space'];

/** Whether the workspace root `root` lists `docId` as an AI chat. */
export function isListedAiThread(root: Y.Doc, docId: string): boolean {
	return root.getMap('aiThreads').has(docId);
}

/** Whether the workspace root `root` lists `docId` as a channel. */
export function isListedChannel(root: Y.Doc, docId: string): boolean {
	// getMap, not share.get: a type that only arrived in updates is a plain placeholder until asked for as a map.
	return root.getMap('channels').has(docId);
}

/** The root's indexes of documents named to every member. */
const INDEXES = ['channels', 'notes', 'aiThreads'];

/**
 * Whether workspace `workspaceId` names document `docId` to every member: its root, its
 * roster, or a document its root `root` lists (undefined: the root is not here yet).
 */
export function isListedDoc(workspaceId: string, root: Y.Doc | undefined, docId: string): boolean {
	if (docId === workspaceId || docId === rosterOf(workspaceId)) return true;
	return root !== undefined && INDEXES.some((name) => root.getMap(name).has(docId));
}

/**
 * Why `update` to document `docId` of workspace `workspaceId` is refused, or undefined when it
 * may be applied to `doc`. `listedChannel`: whether the workspace root lists the document as a
 * channel (the store asks its root: {@link isListedChannel}).
 */
export function checkRemoteUpdate(
	workspaceId: string,
	docId: string,
	doc: Y.Doc,
	update: Uint8Array,
	listedChannel = false,
	listedAiThread = false
): string | undefined {
	if (docId === rosterOf(workspaceId)) return checkTeamUpdate(doc, update);
	if (docId === workspaceId) return checkRootUpdate(doc, update);
	if (listedChannel || CHANNEL_ONLY.some((name) => doc.share.has(name))) return checkChannelUpdate(doc, update);
	if (listedAiThread || doc.share.has('records')) return checkAiThreadUpdate(doc, update);
	return undefined;
}
