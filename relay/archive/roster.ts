/**
 * What the relay's archive copy of a workspace says about a member: the roster document
 * (RosterDoc.ts), found through the root document's `rosterId`, read afresh from the archive
 * on every call (the roster is small and changes rarely; reading it never keeps it held).
 * The relay uses it to refuse revoked members (model host, `/v1` keys they made) and to let
 * only the owner manage API keys (keysApi.ts).
 */
import * as Y from 'yjs';
import { isId } from '../../src/lib/doc/ids.ts';
import { RosterDoc } from '../../src/lib/doc/RosterDoc.ts';
import { WorkspaceDoc } from '../../src/lib/doc/WorkspaceDoc.ts';
import type { Role } from '../../src/lib/doc/schema.ts';
import type { ArchiveDocs } from './ArchiveDocs.ts';

/** A peer's standing in a workspace, as the archived roster has it. */
export type Standing =
	/** The relay does not archive the workspace. */
	| { kind: 'not-archived' }
	/** The archive has no roster yet (the workspace has not synced to the relay yet). */
	| { kind: 'no-roster' }
	/** The peer is not in the roster. */
	| { kind: 'stranger' }
	| { kind: 'revoked' }
	| { kind: 'member'; role: Role; name: string };

/** The archives by workspace id (ArchivePeer.archives). */
export type Archives = ReadonlyMap<string, Pick<ArchiveDocs, 'diff'>>;

const EMPTY_STATE_VECTOR = Y.encodeStateVector(new Y.Doc());

/** The archived document `docId` of one workspace, or undefined when it is not stored. */
async function readDoc(docs: Pick<ArchiveDocs, 'diff'>, docId: string): Promise<Y.Doc | undefined> {
	const update = await docs.diff(docId, EMPTY_STATE_VECTOR);
	if (update === undefined) return undefined;
	const doc = new Y.Doc({ guid: docId });
	Y.applyUpdate(doc, update);
	return doc;
}

/**
 * Roster ids by workspace id, once read: a workspace's roster id is set when it is created
 * and never changes, and the root document (with every channel's index entry) can be large.
 */
const rosterIds = new Map<string, string>();

/** The archived roster of `workspaceId`; `undefined` when there is none yet, `null` when not archived. */
export async function archivedRoster(archives: Archives, workspaceId: string): Promise<RosterDoc | undefined | null> {
	const docs = archives.get(workspaceId);
	if (docs === undefined) return null;
	let rosterId = rosterIds.get(workspaceId);
	if (rosterId === undefined) {
		const root = await readDoc(docs, workspaceId);
		rosterId = root === undefined ? '' : new WorkspaceDoc(root).rosterId;
		if (!isId(rosterId)) return undefined;
		if (rosterIds.size >= 10_000) rosterIds.clear();
		rosterIds.set(workspaceId, rosterId);
	}
	const roster = await readDoc(docs, rosterId);
	return roster === undefined ? undefined : new RosterDoc(roster);
}

/** Where `peerId` stands in the archived roster of `workspaceId`. */
export async function standingOf(archives: Archives, workspaceId: string, peerId: string): Promise<Standing> {
	const roster = await archivedRoster(archives, workspaceId);
	if (roster === null) return { kind: 'not-archived' };
	if (roster === undefined) return { kind: 'no-roster' };
	if (roster.revoked.has(peerId)) return { kind: 'revoked' };
	const member = roster.member(peerId);
	return member === undefined ? { kind: 'stranger' } : { kind: 'member', role: member.role, name: member.name };
}

/**
 * Whether a peer that proved it knows the workspace secret may still be served: anyone but
 * a member revoked in the archived roster (a roster not synced yet revokes no one).
 */
export async function notRevoked(archives: Archives, workspaceId: string, peerId: string): Promise<boolean> {
	return (await standingOf(archives, workspaceId, peerId)).kind !== 'revoked';
}
