/**
 * The write policy every replica applies to a remote update before it touches a document
 * (the browser's store, the relay's archive, the test stores alike):
 *
 * - the roster document's team operations only grow (TeamDoc.ts);
 * - the root's channel index only grows, its settings change by signed marks (rootPolicy.ts);
 * - a channel document's history only grows (channelPolicy.ts): nothing signed is removed or
 *   overwritten. Who may post (guests, read-only channels) the view decides (channelRights.ts);
 * - an AI chat's signed records only accumulate (aiThreadPolicy.ts);
 * - a note takes content only from a peer that may write notes or the team's relay, and, once
 *   it holds client bindings, items only from clients bound to devices that may write (notePolicy.ts).
 *
 * A document is a channel when the workspace root lists it as one, or when it already holds
 * what only channels hold (edits, deletion or reaction marks, live answers): a channel whose
 * root entry has not arrived yet is protected once it holds any of those. A document nothing
 * classifies yet takes no content from a peer that does not carry notes (it may be a note).
 */
import type * as Y from 'yjs';
import { inspectGrowth, type GrowthRule } from '../growth.js';
import { heldMap } from '../heldMap.js';
import { checkAiThreadUpdate } from '../aiThreadPolicy.js';
import { checkChannelUpdate } from '../channelPolicy.js';
import { checkNoteUpdate, setsBindings, type IsWriter } from '../notePolicy.js';
import { checkRootUpdate, ROOT_INDEXES } from '../rootPolicy.js';
import { checkTeamUpdate } from './TeamDoc.js';
import { isSpaceId, teamRosterId } from './teamId.js';

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

/** Whether `doc` has any of the top-level names `names` (a loop: this runs for every remote update). */
function holdsAnyOf(doc: Y.Doc, names: readonly string[]): boolean {
	for (const name of names) if (doc.share.has(name)) return true;
	return false;
}

/** Whether the workspace root `root` lists `docId` as a note. */
export function isListedNote(root: Y.Doc, docId: string): boolean {
	return !isSpaceId(docId) && heldMap(root, 'notes').has(docId);
}



/**
 * Whether workspace `workspaceId` names document `docId` to every member: its root, its
 * roster, or a document its root `root` lists (undefined: the root is not here yet).
 */
export function isListedDoc(workspaceId: string, root: Y.Doc | undefined, docId: string): boolean {
	if (docId === workspaceId || docId === rosterOf(workspaceId)) return true;
	if (root === undefined || isSpaceId(docId)) return false; // the root lists no space's id (rootPolicy.ts)
	for (const name of ROOT_INDEXES) if (heldMap(root, name).has(docId)) return true;
	return false;
}

/**
 * Why `update` to document `docId` of workspace `workspaceId` is refused, or undefined when it
 * may be applied to `doc`. `listedChannel`: whether the workspace root lists the document as a
 * channel (the store asks its root: {@link updateContext}).
 */
export function checkRemoteUpdate(workspaceId: string, docId: string, doc: Y.Doc, update: Uint8Array, context: UpdateContext = {}): string | undefined {
	if (docId === rosterOf(workspaceId)) return checkTeamUpdate(doc, update);
	if (docId === workspaceId) return checkRootUpdate(doc, update);
	// Where the root lists it decides first (one index per id: rootPolicy.ts); what it holds only
	// when it is not listed yet, so names a member slips into a listed document change nothing
	// (found in review: a note given a "records" entry was then checked as an AI chat).
	if (context.channel === true) return checkChannelUpdate(doc, update);
	if (context.aiThread === true) return checkAiThreadUpdate(doc, update);
	if (context.note === true) return checkNoteUpdate(doc, docId, update, context.isWriter, context.fromCarrier);
	if (holdsAnyOf(doc, CHANNEL_ONLY)) return checkChannelUpdate(doc, update);
	if (doc.share.has('records')) return checkAiThreadUpdate(doc, update);
	if (doc.share.has('bindings')) return checkNoteUpdate(doc, docId, update, context.isWriter, context.fromCarrier);
	// Nothing here says what it is yet (its root entry has not come): from a peer that does
	// not carry notes, it may be a note, so it brings nothing. An honest such peer offers only
	// what its root lists, which reaches this replica first on the same session.
	if (context.fromCarrier === false) return checkNoteUpdate(doc, docId, update, context.isWriter, false);
	// From a carrier, what binds a writer is checked as a note's would be: bindings are set once,
	// so one let through unchecked would keep that writer's note out of this replica for good.
	if (setsBindings(update)) return checkNoteUpdate(doc, docId, update, context.isWriter, true);
	// What a channel's or an AI chat's policy would refuse once listed: a record deleted or
	// overwritten (found in review: a member sent one replica a message and its deletion before
	// listing the channel, another only after, and the two then refused each other's sessions
	// for good). Honest records are never deleted; sessions send the root first, and
	// anti-entropy repairs a gossip race.
	return inspectGrowth(doc, update, UNLISTED, 'allow', 'a document not listed yet');
}

/** The records every listed kind keeps, as a document not listed yet must keep them too. */
const UNLISTED: Record<string, GrowthRule> = {
	messages: 'array',
	edits: 'array',
	records: 'array',
	deletions: 'once',
	reactions: 'once',
	moderation: 'once'
};

/** What a store needs of the team (the core tells it: OutpostCore `useTeam`). */
export interface DocsTeam {
	/** The private spaces this device is in. */
	spaces(): ReadonlySet<string>;
	isWriter: IsWriter;
	/** Whether a note update from peer `peerId` may bring content (TeamAuthority `carries`). */
	carries(peerId: string): boolean;
	/**
	 * Resolves once the team changes received so far are folded: a store asks again after it
	 * before it takes a peer for no carrier (the roster change that names it may have just come).
	 */
	settled?(): Promise<void>;
}

/**
 * What to wait for before checking an update from `from`: the team settling, when `from` is no
 * carrier by it yet (see {@link DocsTeam.settled}); undefined when nothing (most updates, so
 * the hot path takes no extra turn).
 */
export function settledFor(team: DocsTeam, from: string | undefined): Promise<void> | undefined {
	return from !== undefined && team.settled !== undefined && !team.carries(from) ? team.settled() : undefined;
}

/** A store's team before the core tells it one: no spaces, any device writes. */
const NO_SPACES: ReadonlySet<string> = new Set();
export const NO_TEAM: DocsTeam = { spaces: () => NO_SPACES, isWriter: () => true, carries: () => true };

/**
 * What a store knows of document `docId` when it checks an update: how the workspace root
 * `root` lists it (undefined: the root is not here), whether it is a space this device is
 * in (a channel), the team's writers, and whether the peer the update came from (`from`;
 * undefined: this device's own, an import) may pass on note content.
 */
export function updateContext(root: Y.Doc | undefined, docId: string, team: DocsTeam, from?: string): UpdateContext {
	// The root lists no space's id (rootPolicy.ts); asked once here, not once per index (a regex on every live update).
	const listing = root !== undefined && !isSpaceId(docId) ? root : undefined;
	return {
		channel: team.spaces().has(docId) || (listing !== undefined && heldMap(listing, 'channels').has(docId)),
		aiThread: listing !== undefined && heldMap(listing, 'aiThreads').has(docId),
		note: listing !== undefined && heldMap(listing, 'notes').has(docId),
		isWriter: team.isWriter,
		fromCarrier: from === undefined || team.carries(from)
	};
}

/** What the store knows of a document when it checks an update (from its root and its team). */
export interface UpdateContext {
	/** The root lists it as a channel (or it is a private space's). */
	channel?: boolean;
	/** The root lists it as an AI chat. */
	aiThread?: boolean;
	/** The root lists it as a note. */
	note?: boolean;
	/** Whether a member device may write notes, by this replica's team. */
	isWriter?: IsWriter;
	/** Whether the peer the update came from may pass on note content (default: yes). */
	fromCarrier?: boolean;
}
