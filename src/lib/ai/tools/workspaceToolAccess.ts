/**
 * What the built-in workspace tools (workspaceTools.ts) may see and change, decided as the
 * app decides it for the user, from the same pure rules, so a model acting for a member can
 * do no more than the member could in the UI, and writes nothing the other replicas refuse:
 *
 * - channels: the root's listed channels under the team's rules (channelRights.ts
 *   `channelRules`, as WorkspaceState lists them), plus the private channels and direct
 *   conversations the member is in (the team's spaces, as SpacesState lists them). A space the
 *   member is not in is invisible, even when its document is on this device or the root names it;
 * - messages: those the channel view shows (ChannelView): not deleted by their author, not hidden
 *   by a moderator, not withheld by the posting rules, and with signatures that verify;
 * - posting: as WorkspaceState.canPost (no guests, no archived channels, read-only channels only
 *   for admins and the owner), and only for a device the team counts;
 * - notes: every member reads the notes the root lists; only devices the note write policy lets
 *   write (notePolicy.ts: owners, admins, members) change them.
 */
import type * as Y from 'yjs';
import { ChannelDoc } from '../../doc/ChannelDoc.js';
import type { ChannelView } from '../../doc/ChannelView.js';
import { archivedSpans, channelRules, readOnlySpans, shownText, unseenMessages, type PostingRules } from '../../doc/channelRights.js';
import { titleKey } from '../../doc/noteLinks.js';
import type { ChannelInfo, MessageRecord, NoteInfo } from '../../doc/schema.js';
import { verifyDeletion, verifyDeletionMark, verifyEdit, verifyMessage } from '../../doc/signature.js';
import { SpaceKind, type TeamRole } from '../../doc/team/ops.js';
import type { WorkspaceDoc } from '../../doc/WorkspaceDoc.js';
import type { TeamAuthority } from '../../core/TeamAuthority.js';
import { memberLabel } from '../../state/memberLabels.js';
import { MAX_SHOWN_NAME, shownChannelName, shownChannels } from '../../state/shownNames.js';
import { oneLineLabel } from '../../markdown/invisible.js';

/** What the tools need of the workspace's team (a {@link TeamAuthority} is one). */
export type ToolTeam = Pick<TeamAuthority, 'team' | 'roleOf' | 'roleEver' | 'memberOf' | 'mySpaces' | 'isWriter' | 'wroteNotes'>;

/** A document held for a tool's use; release it when done. */
export interface HeldDoc {
	readonly doc: Y.Doc;
	release(): void;
}

/** A channel a tool may read, as the tools name it. */
export interface ToolChannel {
	id: string;
	/** Its name as every view shows it (shownNames.ts; for a direct conversation: the other members' names). */
	name: string;
	kind: 'channel' | 'private' | 'direct';
	/** Its settings as the team's rules fold them (read-only, archived). */
	info: ChannelInfo;
}

/** A member's display name, as TeamState shows it (memberLabels.ts): the member's name, told apart from look-alikes, or a short peer id. */
export function displayName(team: ToolTeam, peerId: string): string {
	return memberLabel(team.team, peerId);
}

/** How a channel is named to the model. */
export function channelLabel(channel: ToolChannel): string {
	return channel.kind === 'direct' ? `the conversation with ${channel.name}` : `#${channel.name}`;
}

/** The root's channels that `me` is shown, as the channel list shows them (no space's id: a space's document only its members hold). */
function listedChannels(root: WorkspaceDoc, team: ToolTeam, me: string): ChannelInfo[] {
	const role = team.roleOf(me);
	const rules = channelRules((p) => team.roleOf(p), (p) => team.roleEver(p), role === 'owner' || role === 'admin');
	const spaces = team.team.spaces;
	return root.listChannels(rules).filter((info) => !spaces.has(info.id));
}

/** The ids of the channels {@link readableChannels} gives, without opening any document. */
export function readableChannelIds(root: WorkspaceDoc, team: ToolTeam, me: string): Set<string> {
	const ids = new Set(listedChannels(root, team, me).map((info) => info.id));
	for (const id of team.mySpaces()) if (team.team.spaces.has(id)) ids.add(id);
	return ids;
}

/**
 * The channels the member may read: the root's (archived ones too, marked) and its spaces.
 * `open` loads a private channel's document for its name.
 */
export async function readableChannels(root: WorkspaceDoc, team: ToolTeam, me: string, open: (docId: string) => Promise<HeldDoc>): Promise<ToolChannel[]> {
	const spaces = team.team.spaces;
	const out: ToolChannel[] = listedChannels(root, team, me).map((info) => ({ id: info.id, name: shownChannelName(info), kind: 'channel', info }));
	const member = team.team.devices.get(me);
	for (const id of team.mySpaces()) {
		const space = spaces.get(id);
		if (space === undefined) continue;
		const info: ChannelInfo = { id, name: '…', topic: '', private: true, readOnly: false, archived: false, createdAt: space.createdAt, createdBy: space.creator };
		if (space.kind === SpaceKind.dm) {
			const others = [...space.members].filter((m) => m !== member).sort();
			const name = others.map((m) => displayName(team, m)).join(', ');
			out.push({ id, name, kind: 'direct', info: { ...info, name } });
			continue;
		}
		const held = await open(id);
		try {
			const named = new ChannelDoc(held.doc).spaceInfo();
			const name = named === undefined ? '…' : shownChannelName({ id, name: named.name });
			out.push({ id, name, kind: 'private', info: { ...info, name, topic: named?.topic ?? '' } });
		} finally {
			held.release();
		}
	}
	// Channels that look alike carry their id's tail, as the channel list shows them (shownNames.ts `shownChannels`).
	const places = out.filter((c) => c.kind !== 'direct');
	const marked = new Map(shownChannels(places.map((c) => ({ ...c.info, name: c.name }))).map((info) => [info.id, info.name]));
	return out.map((c) => {
		const name = c.kind === 'direct' ? c.name : (marked.get(c.id) ?? c.name);
		return name === c.name ? c : { ...c, name };
	});
}

/**
 * The channel `ref` names (its id, or its name with or without `#`/`@`), or why there is none.
 * Names are matched as they are shown (a channel's name with invisible characters or line
 * breaks is found by what the user sees, and by what was written, cleaned the same way).
 */
export function findChannel(channels: readonly ToolChannel[], ref: string): ToolChannel | string {
	const byId = channels.find((c) => c.id === ref.trim());
	if (byId !== undefined) return byId;
	const key = titleKey(shownRef(ref));
	// By the name shown, look-alikes marked, or by the name without the mark (several then: their ids are asked for).
	const named = channels.filter((c) => titleKey(c.name) === key || (c.kind !== 'direct' && titleKey(shownChannelName(c.info)) === key));
	const open = named.filter((c) => !c.info.archived);
	const found = open.length > 0 ? open : named;
	if (found.length === 1) return found[0]!;
	if (found.length > 1) return `Several channels are called "${ref}"; give one of their ids: ${found.map((c) => c.id).join(', ')}.`;
	return `There is no channel "${ref}" you can read. ${someNames('Channels', channels.filter((c) => !c.info.archived).map(channelLabel))}`;
}

/** A channel's name as the model wrote it, cleaned and cut as names are shown, without a leading `#` or `@`. */
function shownRef(ref: string): string {
	const written = oneLineLabel(ref, Number.MAX_SAFE_INTEGER).replace(/^[#@]/, '');
	return oneLineLabel(written, MAX_SHOWN_NAME);
}

/** The note `ref` names (its id, or its title: the most recently edited of that title), or why there is none. */
export function findNote(notes: readonly NoteInfo[], ref: string): NoteInfo | string {
	const byId = notes.find((n) => n.id === ref.trim());
	if (byId !== undefined) return byId;
	const key = titleKey(ref);
	const named = key === '' ? undefined : notes.find((n) => titleKey(n.title) === key);
	if (named !== undefined) return named;
	return `There is no note "${ref}". ${someNames('Notes', notes.map((n) => `"${n.title || 'Untitled'}"`))}`;
}

/** "Channels: a, b, c and 4 more." — a few valid names for an error. */
function someNames(what: string, names: string[]): string {
	if (names.length === 0) return `There are no ${what.toLowerCase()}.`;
	const shown = names.slice(0, 10).join(', ');
	return `${what}: ${shown}${names.length > 10 ? ` and ${names.length - 10} more` : ''}.`;
}

/** Which posts of channel `id` show (WorkspaceState.postingRules). */
export function postingRules(root: WorkspaceDoc, team: ToolTeam, id: string): PostingRules {
	const roleOf = (peerId: string) => team.roleOf(peerId);
	const flags = { creatorRole: (peerId: string) => team.roleEver(peerId), space: team.team.spaces.has(id) };
	return { roleOf, postedEver: (peerId) => team.wroteNotes(peerId), readOnly: readOnlySpans(root, id, roleOf, flags), archived: archivedSpans(root, id, roleOf, flags) };
}

/** Why role `role` may not post in `channel` (WorkspaceState.canPost), or undefined when it may. */
export function postRefusal(channel: ToolChannel, role: TeamRole | undefined): string | undefined {
	const where = `You may not post in ${channelLabel(channel)}`;
	if (role === undefined) return `${where}: this device is not a member of the workspace.`;
	if (role === 'guest') return `${where}: guests do not post.`;
	if (channel.info.archived) return `${where}: it is archived.`;
	if (channel.info.readOnly && role !== 'owner' && role !== 'admin') return `${where}: only admins post there.`;
	return undefined;
}

/** Why device `me` may not change notes (the note write policy's writers), or undefined when it may. */
export function noteRefusal(team: ToolTeam, me: string, note: string): string | undefined {
	if (team.isWriter(me)) return undefined;
	const role = team.roleOf(me);
	if (role === undefined) return `You may not change ${note}: this device is not a member of the workspace.`;
	return `You may not change ${note}: ${role === 'guest' ? 'guests' : `members with the role ${role}`} do not edit notes.`;
}

/**
 * The messages of one channel as its view shows them: {@link shows} answers for any message
 * (top level or reply), checking signatures once each.
 */
export class ShownMessages {
	private readonly verdicts = new Map<string, Promise<boolean>>();

	private constructor(
		readonly view: ChannelView,
		/** Hidden by a moderator or withheld by the posting rules. */
		private readonly unseen: ReadonlySet<string>,
		private readonly rules: PostingRules
	) {}

	/** The shown messages of `view`'s channel under `rules`. */
	static async of(view: ChannelView, rules: PostingRules): Promise<ShownMessages> {
		return new ShownMessages(view, await unseenMessages(view.channel, rules), rules);
	}

	/** What message `m` says, as the channel shows it (channelRights.ts `shownText`). */
	text(m: MessageRecord): string {
		return shownText(this.view, m, this.rules);
	}

	/** Whether message `m` shows: not unseen, not deleted by its author, genuinely signed. */
	shows(m: MessageRecord): Promise<boolean> {
		let verdict = this.verdicts.get(m.id);
		if (verdict === undefined) this.verdicts.set(m.id, (verdict = this.check(m)));
		return verdict;
	}

	/**
	 * Whether message `m` shows, without checking signatures (for counts, such as a thread's
	 * replies, where a forged record costs nothing but a wrong number).
	 */
	likelyShows(m: MessageRecord): boolean {
		return !this.unseen.has(m.id) && this.view.deletion(m) === undefined;
	}

	private async check(m: MessageRecord): Promise<boolean> {
		if (this.unseen.has(m.id) || (await this.deleted(m))) return false;
		const last = this.view.edits(m.id).at(-1);
		return (await verifyMessage(m, this.view.channel.id)) && (last === undefined || (await verifyEdit(last)));
	}

	/** The author's newest deletion mark whose signature verifies decides (ChannelState.isDeleted). */
	private async deleted(m: MessageRecord): Promise<boolean> {
		for (const { mark, legacy } of this.view.deletionMarks(m)) {
			if (await (legacy ? verifyDeletion(mark.msg, mark) : verifyDeletionMark(mark))) return mark.deleted;
		}
		return false;
	}
}
