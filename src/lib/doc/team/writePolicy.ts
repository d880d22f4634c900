/**
 * The write policy every replica applies to a remote update before it touches a document
 * (the browser's store, the relay's archive, the test stores alike). Today it guards the
 * team: the roster document's operations only grow (TeamDoc.ts). Channel and AI-chat
 * policies join it here.
 */
import type * as Y from 'yjs';
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

/** Why `update` to document `docId` of workspace `workspaceId` is refused, or undefined when it may be applied to `doc`. */
export function checkRemoteUpdate(workspaceId: string, docId: string, doc: Y.Doc, update: Uint8Array): string | undefined {
	if (docId === rosterOf(workspaceId)) return checkTeamUpdate(doc, update);
	return undefined;
}
