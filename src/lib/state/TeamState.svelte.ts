/**
 * Runes state of a workspace's team for the UI: members with their roles and devices, the
 * invitations, and the actions an admin (or a member, for its own devices) may take. Every
 * action is a signed team operation written through the workspace core's TeamAuthority; the
 * rules are the fold's, so a control the UI offers by mistake still changes nothing that
 * the team does not allow. Invitation seeds made on this device are kept in the local
 * database, so their links can be copied again from the list.
 */
import { filePolicy, type FilePolicy } from '../doc/team/filePolicy.js';
import { createSubscriber, SvelteMap } from 'svelte/reactivity';
import type { TeamAuthority } from '../core/TeamAuthority.js';
import type { TeamInvite, TeamMember } from '../doc/team/fold.js';
import { modelRoles, roleMayUseModel } from '../doc/team/modelAccess.js';
import { MAX_DEVICES_PER_MEMBER, MAX_TEAM_NAME, ROLE_RANK, TeamRole, type TeamOp, type TeamOpBody } from '../doc/team/ops.js';
import { invitePublicKey, newInviteSeed } from '../doc/team/sign.js';
import { oneLineLabel } from '../markdown/invisible.js';
import { memberLabel } from './memberLabels.js';
import { teamInviteId } from '../doc/team/teamId.js';
import { toolRoles } from '../doc/team/toolAccess.js';
import type { InviteToken } from '../mesh/invite.js';
import type { OutpostDb } from '../store/db.js';

/**
 * Roles a member can be given in the UI, most powerful first. Not `relay`: a relay is trusted
 * with more than a member (it keeps the workspace, its tools go into everyone's AI chats), so a
 * relay is made only by an invitation for one, which its machine joins with (`relay join`).
 */
export const ASSIGNABLE_ROLES: TeamRole[] = [TeamRole.owner, TeamRole.admin, TeamRole.member, TeamRole.guest];

/**
 * Roles an invitation made by a device of role `myRole` may give, the default first: member,
 * admin, guest, and (for admins and owners, who alone invite) relay, the link
 * `npm run relay -- join` takes; none above `myRole`.
 */
export function inviteRoles(myRole: TeamRole | undefined): TeamRole[] {
	if (myRole === undefined || ROLE_RANK[myRole] < ROLE_RANK.admin) return [];
	return [TeamRole.member, TeamRole.admin, TeamRole.guest, TeamRole.relay].filter((r) => ROLE_RANK[r] <= ROLE_RANK[myRole]);
}

/** Where an invitation stands. */
export const InviteStatus = { active: 'active', used: 'used', expired: 'expired', revoked: 'revoked' } as const;
export type InviteStatus = (typeof InviteStatus)[keyof typeof InviteStatus];

/** A member as the Members panel shows it. */
export interface MemberView {
	id: string;
	/** The name it is shown with: {@link TeamState.displayName}'s, with a suffix when it looks like another member's. */
	name: string;
	/** The name as the member chose it, on one line (for "@" mentions, which are text); '' for none. */
	plainName: string;
	role: TeamRole;
	devices: string[];
	isMe: boolean;
	joinedAt: number;
}

/** An invitation as the list shows it. */
export interface InviteView {
	id: string;
	role: TeamRole;
	uses: number;
	used: number;
	expires: number;
	status: InviteStatus;
	createdBy: string;
	createdAt: number;
	/** For a device invitation: the member it adds a device to. */
	member?: string;
	/** The link's token, when this device made the invitation (its seed is kept here). */
	token?: InviteToken;
}

/** Options of a new invitation. */
export interface NewInvite {
	role: TeamRole;
	/** How many people may join with it. */
	uses: number;
	/** How long it is valid, in ms. */
	validForMs: number;
}

/** Thrown when the team's rules refuse an operation this device wrote (`reason` is the fold's). */
export class TeamRefusedError extends Error {
	override name = 'TeamRefusedError';
	constructor(readonly reason: string) {
		super(reason);
	}
}

const SEED_KEY = 'invite-seed:';
/** How long an "Add a device" link is valid. */
export const DEVICE_INVITE_MS = 60 * 60 * 1000;

/** See the module comment. */
export class TeamState {
	private readonly subscribe: () => void;
	private readonly seeds = new SvelteMap<string, InviteToken>();

	constructor(
		readonly authority: TeamAuthority,
		private readonly db: OutpostDb,
		private readonly now: () => number = Date.now
	) {
		this.subscribe = createSubscriber((update) => authority.on('change', update));
		void this.loadSeeds();
	}

	/** This device's peer id. */
	get me(): string {
		return this.authority.devicePeerId ?? '';
	}

	/** Current members, owners first, then by name. */
	get members(): MemberView[] {
		this.subscribe();
		const me = this.authority.memberOf(this.me)?.id;
		return [...this.authority.team.members.values()]
			.map((m: TeamMember) => ({ id: m.id, name: memberLabel(this.authority.team, m.id), plainName: oneLineLabel(m.name, MAX_TEAM_NAME), role: m.role, devices: [...m.devices], isMe: m.id === me, joinedAt: m.joinedAt }))
			.sort((a, b) => ROLE_RANK[b.role] - ROLE_RANK[a.role] || a.name.localeCompare(b.name) || (a.id < b.id ? -1 : 1));
	}

	/**
	 * The names "@" suggests: each current member's as chosen (mentions are text, so not the
	 * suffixed label), each once, none empty. Once: two members may share a name, and the
	 * composer keys its suggestions by name (a repeated key broke its list).
	 */
	get mentionNames(): string[] {
		return [...new Set(this.members.map((m) => m.plainName).filter(Boolean))];
	}

	/** This device's role, when it is a member device. */
	get myRole(): TeamRole | undefined {
		this.subscribe();
		return this.authority.roleOf(this.me);
	}

	/** Whether this device is a current member device. */
	get joined(): boolean {
		this.subscribe();
		return this.authority.joined;
	}

	/** Whether this device may manage members and invitations (owner or admin). */
	get canManage(): boolean {
		const role = this.myRole;
		return role !== undefined && ROLE_RANK[role] >= ROLE_RANK.admin;
	}

	/** Roles this device may give `member` (none when it may not change its role). */
	rolesFor(member: MemberView): TeamRole[] {
		const role = this.myRole;
		if (role === undefined || !this.canManage || ROLE_RANK[member.role] > ROLE_RANK[role]) return [];
		// The last owner cannot step down (the fold refuses it): no choice to offer.
		if (member.role === TeamRole.owner && this.members.filter((m) => m.role === TeamRole.owner).length === 1) return [];
		return ASSIGNABLE_ROLES.filter((r) => ROLE_RANK[r] <= ROLE_RANK[role]);
	}

	/** Whether this device may remove `member` (or `member` is this device's own member, leaving). */
	canRemove(member: MemberView): boolean {
		const role = this.myRole;
		if (role === undefined) return false;
		if (member.role === TeamRole.owner && this.members.filter((m) => m.role === TeamRole.owner).length === 1) return false;
		return member.isMe || (this.canManage && ROLE_RANK[member.role] <= ROLE_RANK[role]);
	}

	/** Whether this device may remove `device` of `member` (not itself: that is leaving). */
	canRemoveDevice(member: MemberView, device: string): boolean {
		const role = this.myRole;
		if (role === undefined || device === this.me || !member.devices.includes(device)) return false;
		return member.isMe || (this.canManage && ROLE_RANK[member.role] <= ROLE_RANK[role]);
	}

	/**
	 * A display name for any device: its member's name, or a short id (memberLabels.ts). A name
	 * is any member's to choose: it is shown on one line, without bidi controls or invisible
	 * characters, and when it looks like another current member's ("Alice", "alice ", "Аlice"
	 * with a Cyrillic А), every member that shares it is shown with its id's tail, "Alice
	 * (…a1b2c3)" (nameSkeleton.ts says why every one, and what "looks like" covers). A removed
	 * member's name (on its old messages) gets the tail when it looks like a current member's;
	 * it never puts one on a current member.
	 */
	displayName(peerId: string): string {
		this.subscribe();
		return memberLabel(this.authority.team, peerId);
	}

	/** Changes a member's role. */
	async setRole(memberId: string, role: TeamRole): Promise<void> {
		await this.checked({ t: 'role', member: memberId, role });
	}

	/**
	 * Removes a member and all its devices (the key keeper then rotates the workspace key), then
	 * revokes the invitations `revoke` names (from {@link linksOpenAtRemoval}), each by its own
	 * signed operation, written after the removal.
	 */
	async remove(memberId: string, revoke: readonly string[] = []): Promise<void> {
		await this.checked({ t: 'remove', member: memberId });
		for (const id of revoke) await this.revokeInvite(id);
	}

	/**
	 * The open links (not revoked, used up or expired; not a device invitation) that a removal of
	 * `devices` (all of member `memberId`'s, or one) leaves usable and this device may revoke:
	 * every link more than one person may still use, and the one a removed device came in by.
	 * The fold keeps the removed devices out, not their person: anyone who saw such a link (in a
	 * channel, on the removed device), the removed person included, can join again with a new
	 * key. Links that member made are left out of a whole member's removal: the fold closes them
	 * with it. `joinedWith`: a removed device came in by it.
	 */
	linksOpenAtRemoval(memberId: string, devices: readonly string[], wholeMember: boolean): Array<{ id: string; left: number; joinedWith: boolean }> {
		this.subscribe();
		const now = this.now();
		const mine = this.authority.memberOf(this.me)?.id;
		if (mine === undefined || (wholeMember && mine === memberId)) return []; // leaving: nobody to keep out (a lost device of one's own is someone)
		const out: Array<{ id: string; left: number; joinedWith: boolean }> = [];
		for (const i of this.authority.team.invites.values()) {
			if (i.member !== undefined || i.revoked || i.used >= i.uses || now > i.expires) continue;
			if (!this.canManage && i.createdBy !== mine) continue; // the fold lets only its maker or an admin revoke it
			if (wholeMember && i.createdBy === memberId) continue;
			const joinedWith = i.admitted.some((d) => devices.includes(d));
			if (joinedWith || i.uses > 1) out.push({ id: i.id, left: i.uses - i.used, joinedWith });
		}
		return out.sort((a, b) => Number(b.joinedWith) - Number(a.joinedWith) || (a.id < b.id ? -1 : 1));
	}

	/** Removes one device of a member, then revokes the invitations `revoke` names (as {@link remove}). */
	async removeDevice(peerId: string, revoke: readonly string[] = []): Promise<void> {
		await this.checked({ t: 'remove-device', device: peerId });
		for (const id of revoke) await this.revokeInvite(id);
	}

	/** Sets this device's member's display name in the team (when it differs). */
	async setName(name: string, onlyIfUnnamed = false): Promise<void> {
		const current = this.authority.memberOf(this.me);
		if (!current || current.name === name || !name.trim() || (onlyIfUnnamed && current.name !== '')) return;
		await this.authority.write({ t: 'name', name: name.trim().slice(0, 80) });
	}

	/** The roles that may use shared model `model`: the team's rule, or the default (doc/team/modelAccess.ts). */
	modelRoles(model: string): ReadonlySet<TeamRole> {
		this.subscribe();
		return modelRoles(this.authority.team, model);
	}

	/** Whether this device's member may use shared model `model` (hosts check the same rule). */
	/**
	 * Whether peer `peerId` may read document `docId`: anyone for what every member reads; in
	 * a private channel or a direct conversation only a device in it (or a tab of one). So a
	 * model asked there is one hosted inside (a question and what tools read never reach a
	 * device outside, the relay included), and only those inside show as typing there.
	 */
	mayRead(peerId: string, docId: string): boolean {
		this.subscribe();
		return this.authority.spaceAccess(docId)?.reads(peerId) ?? true; // the rule sync applies (teamGate.ts)
	}

	mayUseModel(model: string): boolean {
		this.subscribe();
		return roleMayUseModel(this.authority.team, this.authority.roleOf(this.me), model);
	}

	/** Models a `model-access` rule names. */
	get ruledModels(): string[] {
		this.subscribe();
		return [...this.authority.team.modelAccess.keys()];
	}

	/** Sets which roles may use shared model `model` (owners and admins; replaces its earlier rule). */
	async setModelRoles(model: string, roles: TeamRole[]): Promise<void> {
		await this.checked({ t: 'model-access', model, roles });
	}

	/** The roles that may use shared tool `tool` (`server.tool`): the team's rule, or the default (doc/team/toolAccess.ts). */
	toolRoles(tool: string): ReadonlySet<TeamRole> {
		this.subscribe();
		return toolRoles(this.authority.team, tool);
	}

	/** Tools a `tool-access` rule names. */
	get ruledTools(): string[] {
		this.subscribe();
		return [...this.authority.team.toolAccess.keys()];
	}

	/** Sets which roles may use shared tool `tool` (owners and admins; replaces its earlier rule; the relay checks it at every call). */
	async setToolAccess(tool: string, roles: TeamRole[]): Promise<void> {
		await this.checked({ t: 'tool-access', tool, roles });
	}

	/** The workspace's rule for attachments (doc/team/filePolicy.ts). */
	get filePolicy(): FilePolicy {
		this.subscribe();
		return filePolicy(this.authority.team);
	}

	/** Sets the workspace's rule for attachments (owners and admins; replaces the earlier one). */
	async setFilePolicy(policy: FilePolicy): Promise<void> {
		await this.checked({ t: 'file-policy', maxBytes: policy.maxBytes, autoFetchBytes: policy.autoFetchBytes, blocked: [...policy.blocked] });
	}

	/** Invitations, newest first. */
	get invites(): InviteView[] {
		this.subscribe();
		const now = this.now();
		return [...this.authority.team.invites.values()]
			.map((i: TeamInvite) => {
				const view: InviteView = {
					id: i.id,
					role: i.role,
					uses: i.uses,
					used: i.used,
					expires: i.expires,
					status: i.revoked ? InviteStatus.revoked : i.used >= i.uses ? InviteStatus.used : now > i.expires ? InviteStatus.expired : InviteStatus.active,
					createdBy: i.createdBy,
					createdAt: i.createdAt
				};
				if (i.member !== undefined) view.member = i.member;
				const token = this.seeds.get(i.id);
				if (token) view.token = token;
				return view;
			})
			.sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? -1 : 1));
	}

	/** Creates an invitation; returns the token its link carries. */
	async createInvite(input: NewInvite): Promise<InviteToken> {
		// One relay per invitation for a relay (its machine's `relay join`; the fold refuses more).
		const uses = input.role === TeamRole.relay ? 1 : input.uses;
		return this.invite({ role: input.role, uses, expires: this.now() + input.validForMs });
	}

	/** Creates a one-time invitation that adds a device to this device's member (valid an hour). */
	async createDeviceInvite(): Promise<InviteToken> {
		const member = this.authority.memberOf(this.me);
		if (!member) throw new Error('this device is not a member');
		// The fold would refuse it (and keep the refused operation in the roster): say so first.
		if (member.devices.length >= MAX_DEVICES_PER_MEMBER) throw new TeamRefusedError(`the member has ${MAX_DEVICES_PER_MEMBER} devices, the most one may`);
		return this.invite({ role: member.role, uses: 1, expires: this.now() + DEVICE_INVITE_MS, member: member.id });
	}

	/** Revokes an invitation. */
	async revokeInvite(id: string): Promise<void> {
		await this.checked({ t: 'revoke-invite', invite: id });
	}

	private async invite(o: { role: TeamRole; uses: number; expires: number; member?: string }): Promise<InviteToken> {
		const seed = newInviteSeed();
		const key = invitePublicKey(seed);
		const id = teamInviteId(this.authority.workspaceId, this.me, key);
		const op = await this.checked({
			t: 'invite',
			invite: id,
			key,
			role: o.role,
			uses: o.uses,
			expires: o.expires,
			...(o.member !== undefined ? { member: o.member } : {})
		});
		const token: InviteToken = { id, opId: op.id, seed };
		this.seeds.set(id, token);
		await this.db.settings.put({ key: `${SEED_KEY}${this.authority.workspaceId}:${id}`, value: { id, opId: op.id, seed } });
		return token;
	}

	/** Writes `body`; throws {@link TeamRefusedError} when the fold rejects it. */
	private async checked(body: TeamOpBody): Promise<TeamOp> {
		const op = await this.authority.write(body);
		const reason = this.authority.team.rejected.get(op.id);
		if (reason !== undefined) throw new TeamRefusedError(reason);
		return op;
	}

	private async loadSeeds(): Promise<void> {
		try {
			const prefix = `${SEED_KEY}${this.authority.workspaceId}:`;
			const rows = await this.db.settings.where('key').startsWith(prefix).toArray();
			for (const row of rows) {
				const v = row.value as Partial<InviteToken> | undefined;
				if (v && typeof v.id === 'string' && typeof v.opId === 'string' && v.seed instanceof Uint8Array) this.seeds.set(v.id, { id: v.id, opId: v.opId, seed: v.seed });
			}
		} catch (error) {
			console.warn('team: could not read saved invitations', error);
		}
	}
}
