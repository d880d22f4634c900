/**
 * The names of places as every view shows them: a channel's, a private channel's and a
 * workspace's name is any member's (an admin's, a space member's, an inviter's) to choose, and
 * the sidebar, the header, the switcher, search results and the composer's placeholder show it.
 * Found in review: an RLO in a channel's name reversed the text after it on its line, and a name
 * of several lines or of zero-width spaces alone broke the list. Each is shown as display names
 * are (memberLabels.ts): on one line, without bidi controls or invisible characters, cut to a
 * length, and never empty. The documents keep what was written; only what is shown changes.
 * Channels listed together that look alike (the same name, or one differing only by what is
 * cleaned away, cut off, or a look-alike letter) are each shown with their id's tail, as members
 * are (nameSkeleton.ts `distinctLabels`; found in review: "gen\u200Beral" showed as "general").
 * So are the workspaces the switcher lists: an inviter names the workspace an invite joins, and
 * any admin renames one (found in review: "Аcme", a Cyrillic А, beside the user's "Acme").
 */
import type { ChannelInfo } from '../doc/schema.js';
import type { WorkspaceRow } from '../store/db.js';
import { oneLineLabel } from '../markdown/invisible.js';
import { distinctLabels } from './nameSkeleton.js';

/** Longest name shown for a channel or a workspace (both are kept to 80 characters when written here). */
export const MAX_SHOWN_NAME = 80;

/** A channel's name on one line, or its id's tail when nothing visible is left. */
export function shownChannelName(info: Pick<ChannelInfo, 'id' | 'name'>): string {
	return oneLineLabel(info.name, MAX_SHOWN_NAME) || `…${info.id.slice(-6)}`;
}

/** A channel's entry with the name every view shows ({@link shownChannelName}). */
export function shownChannel(info: ChannelInfo): ChannelInfo {
	const name = shownChannelName(info);
	return name === info.name ? info : { ...info, name };
}

/**
 * The channels of one list (a sidebar's, the model's) with the names every view shows: each
 * {@link shownChannelName}, with its id's tail added to every one that looks like another's.
 */
export function shownChannels(list: readonly ChannelInfo[]): ChannelInfo[] {
	const names = distinctLabels(list.map((info) => ({ id: info.id, label: shownChannelName(info) })));
	return list.map((info) => {
		const name = names.get(info.id) ?? shownChannelName(info);
		return name === info.name ? info : { ...info, name };
	});
}

/** A workspace's name on one line, or the start of its id when nothing visible is left. */
export function shownWorkspaceName(name: string, id: string): string {
	return oneLineLabel(name, MAX_SHOWN_NAME) || id.slice(0, 8);
}

/**
 * This device's workspaces (the switcher's list, "joining" included) with the names every view
 * shows: each {@link shownWorkspaceName}, with its id's tail added to every one that looks like
 * another's. `open` is the open workspace: its name is its root's as it is now (its stored row
 * follows a moment later), so a rename is told apart at once.
 */
export function shownWorkspaces(list: readonly WorkspaceRow[], open?: { id: string; name: string }): WorkspaceRow[] {
	const shown = (row: WorkspaceRow) => shownWorkspaceName(row.id === open?.id ? open.name : row.name, row.id);
	const names = distinctLabels(list.map((row) => ({ id: row.id, label: shown(row) })));
	return list.map((row) => {
		const name = names.get(row.id) ?? shown(row);
		return name === row.name ? row : { ...row, name };
	});
}
