/**
 * The write policy of a workspace root document. Its channel index only grows: a channel's
 * entry is added once, with the settings its creator chose, and is never overwritten or
 * deleted, so no member renames, archives or flips a channel to writable by editing it. Later
 * changes are signed settings marks (`channelSettings`, set once each), which count only when
 * a current admin or the owner signed them (WorkspaceDoc.ts folds them, channelRights.ts says
 * which count). Its `meta` (name, colour, creator, roster id) is set once, when the workspace
 * is made, and never overwritten or deleted (found in review: any member renamed the workspace,
 * and its colour went into a style).
 *
 * The AI-chat index is kept as the channel index is. A note's listing is added once and never
 * replaced or deleted, while its plain fields (title, last edit) follow the note. One id is
 * listed under one index only: the store decides how to check a document from where the root
 * lists it (team/writePolicy.ts), so a second listing would have it checked as something else
 * (found in review: a guest listed a note's id as a channel, and every replica then refused the
 * note's edits; a note unlisted by any member stopped being shared).
 *
 * No index lists an id of the space form (team/teamId.ts `isSpaceId`): such an id is a private
 * space's or none, so a listing could only hand a space's document to every member or, once
 * the space is claimed, take a listed document away from them (found in review: a member
 * listed a channel under the id of a space she claimed later, and it left everyone's list).
 */
import * as Y from 'yjs';
import { inspectGrowth, type GrowthRule } from './growth.js';
import { settingsEntryFits } from './WorkspaceDoc.js';
import { heldMap } from './heldMap.js';
import { decodeForCheck } from './updateStructs.js';
import { isSpaceId } from './team/teamId.js';

const ROOTS: Record<string, GrowthRule> = {
	channels: 'index',
	aiThreads: 'index',
	notes: 'entries',
	channelSettings: 'once',
	meta: 'once'
};

/** The root's indexes, which say what a document is (team/writePolicy.ts asks them too). */
export const ROOT_INDEXES = ['channels', 'notes', 'aiThreads'] as const;

/** Why `update` would rewrite root document `doc`'s indexes, settings marks or meta, list one id twice or list a space's id; or undefined. */
export function checkRootUpdate(doc: Y.Doc, update: Uint8Array): string | undefined {
	const checked = decodeForCheck(doc, update);
	if (checked === undefined) return 'undecodable update';
	const growth = inspectGrowth(doc, update, ROOTS, 'allow', 'a workspace root', checked, { channelSettings: settingsEntryFits });
	if (growth !== undefined) return growth;
	/** Index entries the update adds: id → the index. */
	let added: Map<string, string> | undefined;
	for (const struct of checked.decoded.structs) {
		// A decoded top-level item names its root by a string (Yjs's types say otherwise).
		const index = struct instanceof Y.Item ? (struct.parent as unknown) : undefined;
		if (typeof index !== 'string' || !(ROOT_INDEXES as readonly string[]).includes(index)) continue;
		const id = (struct as Y.Item).parentSub;
		if (id === null) continue; // not a map entry: growth refused what it must
		if (isSpaceId(id)) return `"${id}" is a private space's id`;
		const before = (added ??= new Map()).get(id);
		if (before !== undefined && before !== index) return `"${id}" is listed as two kinds of document`;
		added.set(id, index);
		for (const other of ROOT_INDEXES) {
			if (other !== index && doc.share.has(other) && heldMap(doc, other).has(id)) return `"${id}" is listed as two kinds of document`;
		}
	}
	return undefined;
}
