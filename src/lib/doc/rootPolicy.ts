/**
 * The write policy of a workspace root document. Its channel index only grows: a channel's
 * entry is added once, with the settings its creator chose, and is never overwritten or
 * deleted, so no member renames, archives or flips a channel to writable by editing it. Later
 * changes are signed settings marks (`channelSettings`, set once each), which count only when
 * a current admin or the owner signed them (WorkspaceDoc.ts folds them, channelRights.ts says
 * which count). Its `meta` (name, colour, creator, roster id) is set once, when the workspace
 * is made, and never overwritten or deleted (found in review: any member renamed the workspace,
 * and its colour went into a style). The note and AI-chat indexes are not guarded yet.
 */
import type * as Y from 'yjs';
import { inspectGrowth, type GrowthRule } from './growth.js';

const ROOTS: Record<string, GrowthRule> = {
	channels: 'index',
	channelSettings: 'once',
	meta: 'once'
};

/** Why `update` would rewrite root document `doc`'s channel index or settings marks, or undefined. */
export function checkRootUpdate(doc: Y.Doc, update: Uint8Array): string | undefined {
	return inspectGrowth(doc, update, ROOTS, 'allow', 'a workspace root');
}
