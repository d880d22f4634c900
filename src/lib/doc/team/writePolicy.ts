/**
 * The write policy every replica applies to a remote update before it touches a document
 * (the browser's store, the relay's archive, the test stores alike). Today it guards the
 * team: the roster document's operations only grow (TeamDoc.ts). Channel and AI-chat
 * policies join it here.
 */
import type * as Y from 'yjs';
import { checkTeamUpdate } from './TeamDoc.js';
import { teamRosterId } from './teamId.js';

/** Why `update` to document `docId` of workspace `workspaceId` is refused, or undefined when it may be applied to `doc`. */
export function checkRemoteUpdate(workspaceId: string, docId: string, doc: Y.Doc, update: Uint8Array): string | undefined {
	if (docId === teamRosterId(workspaceId)) return checkTeamUpdate(doc, update);
	return undefined;
}
