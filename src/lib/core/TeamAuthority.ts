/**
 * The authority state of one workspace, the same in the browser and on the relay: it reads
 * the team's operations from the roster document, checks each signature once, folds them
 * (doc/team/fold.ts) into the current team, and says who is a member device. Every rule
 * that decides what a peer may do is asked here; nothing else reads the roster for rights.
 *
 * It also writes: a new operation is signed with this device's key, linked to the heads
 * this device has seen, added to the roster document (which syncs it like any edit), and
 * folded at once.
 */
import type { DeviceKey } from '../doc/deviceKey.js';
import * as Y from 'yjs';
import { Listeners } from '../events.js';
import type { AdmitVerdict, MeshAuthority, SpaceAccess } from '../mesh/authority.js';
import { deviceMayRead, spacesOf } from '../doc/team/spaces.js';
import { admitProofValid, carriesNotes, foldTeam, writesNotes, type Team, type TeamInvite, type TeamMember } from '../doc/team/fold.js';
import { decodeOp, type TeamOp, type TeamOpBody, type TeamRole } from '../doc/team/ops.js';
import { signTeamOp, verifyTeamOp } from '../doc/team/sign.js';
import { addTeamOp, readTeamOps, teamOps } from '../doc/team/TeamDoc.js';
import { readDelegation } from '../doc/team/delegation.js';

/** Operations that can make their author a member (a HELLO admission of any other kind is refused at once). */
const ADMITTING: ReadonlySet<string> = new Set(['admit', 'create', 'add']);

/**
 * Longest an invitation admits anyone new, by the responder's own clock: the dates an
 * invitation carries (`at`, `expires`) are its author's claims, so one that claims a life over
 * this, or an expiry more than this past the responder's now, admits nobody (found in review:
 * a link dated to expire in years stayed a key to the workspace for that long). The app
 * offers at most a week (ui/team/InviteCreate.svelte; a device link, an hour).
 */
export const MAX_INVITE_LIFETIME_MS = 30 * 24 * 60 * 60 * 1000;

/** This device, when it may write operations. */
export interface TeamDevice {
	peerId: string;
	privateKey: DeviceKey;
}

/** Options of a {@link TeamAuthority}. */
export interface TeamAuthorityInit {
	workspaceId: string;
	/** The workspace's roster document. */
	doc: Y.Doc;
	device?: TeamDevice;
	/** A root pinned for a workspace made before signed teams (fold.ts `pinnedRoot`). */
	pinnedRoot?: string;
	/** The clock written into new operations; default `Date.now`. */
	now?: () => number;
}

/** Events of a {@link TeamAuthority}. */
export interface TeamAuthorityEvents {
	/** The folded team changed (members, roles, devices, invites, keys or names). */
	change: (team: Team) => void;
}

/** Transaction origin of operations this device writes. */
export const TEAM_WRITE_ORIGIN = 'outpost:team';
/** Tabs of member devices remembered at once (admitted by a delegation). */
const MAX_TABS = 4096;
/**
 * Tabs of one device remembered at once: its oldest is forgotten past this, never another
 * device's (found in review: one member signing delegations for throwaway keys pushed every
 * other member's tabs out of the shared table, cutting them off from their DMs and huddles).
 */
export const MAX_TABS_PER_DEVICE = 16;

/** Thrown by {@link TeamAuthority.write} without a device key. */
export class ReadOnlyTeamError extends Error {
	override name = 'ReadOnlyTeamError';
}

/** See the module comment. */
export class TeamAuthority implements MeshAuthority {
	private readonly verified = new Map<string, TeamOp | null>();
	/** Tabs admitted by a delegation → their device, until the delegation expires (at most {@link MAX_TABS}). */
	private readonly tabs = new Map<string, { device: string; expires: number }>();
	private spaceCache: { team: Team; ids: ReadonlySet<string> } | undefined;
	/** Refused operations already reported. */
	private readonly reported = new Set<string>();
	private readonly listeners = new Listeners<TeamAuthorityEvents>('TeamAuthority');
	private current: Team;
	private fingerprint = '';
	private queue: Promise<void> = Promise.resolve();
	/** Admissions being checked and recorded, one after another (two must not both take an invitation's last use). */
	private admitting: Promise<unknown> = Promise.resolve();
	private scheduled = false;
	private destroyed = false;
	/** Resolves once the operations present at construction are folded. */
	readonly ready: Promise<void>;

	constructor(private readonly init: TeamAuthorityInit) {
		this.current = foldTeam(init.workspaceId, [], this.foldOptions());
		init.doc.on('update', this.onUpdate);
		this.ready = this.refresh();
	}

	/** The current team. */
	get team(): Team {
		return this.current;
	}

	get workspaceId(): string {
		return this.init.workspaceId;
	}

	/** This device's peer id, when it has a key. */
	get devicePeerId(): string | undefined {
		return this.init.device?.peerId;
	}

	/** True when this device is a current member device (false for a joiner not admitted yet, or after removal). */
	get joined(): boolean {
		const me = this.init.device?.peerId;
		return me !== undefined && this.current.devices.has(me);
	}

	/**
	 * True when the team removed this device, or the member it belongs to, and it is not joining
	 * again: an admission of its own that the team has not folded yet (its invitation, made
	 * since, has not reached this replica) makes it a joiner, which shows that admission.
	 */
	get excluded(): boolean {
		const me = this.init.device?.peerId;
		if (me === undefined || this.joined) return false;
		return this.wasRemoved(me) && !this.rejoining(me);
	}

	/** Whether device `me` holds an admission of its own still waiting for its invitation here. */
	private rejoining(me: string): boolean {
		for (const op of this.verifiedOps()) if (op.payload.t === 'admit' && op.payload.by === me && this.current.waiting.includes(op.id)) return true;
		return false;
	}

	/** True when the team removed `peerId` (one device, or its whole member). */
	private wasRemoved(peerId: string): boolean {
		if (this.current.removedDevices.has(peerId)) return true;
		for (const removed of this.current.removed.values()) if (removed.devices.includes(peerId)) return true;
		return false;
	}

	/** True when `peerId` is a current member device. */
	isMember(peerId: string): boolean {
		return this.current.devices.has(peerId);
	}

	/** The member a device belongs to, when it is a current member device. */
	memberOf(peerId: string): TeamMember | undefined {
		const id = this.current.devices.get(peerId);
		return id === undefined ? undefined : this.current.members.get(id);
	}

	/** The role of a device's member, when it is a current member device. */
	roleOf(peerId: string): TeamRole | undefined {
		return this.memberOf(peerId)?.role;
	}

	/**
	 * The role a device's member has now or had when it was removed (so what a removed member
	 * made while it was one still counts as that role); undefined for a device the team never
	 * admitted, and for a device removed on its own (its member is not named in the fold).
	 */
	roleEver(peerId: string): TeamRole | undefined {
		const now = this.roleOf(peerId);
		if (now !== undefined) return now;
		for (const removed of this.current.removed.values()) if (removed.devices.includes(peerId)) return removed.role;
		return undefined;
	}

	/** Adds an event handler; returns a function that removes it. */
	on<E extends keyof TeamAuthorityEvents>(event: E, handler: TeamAuthorityEvents[E]): () => void {
		return this.listeners.on(event, handler);
	}

	/** Signs `body` as this device, adds it to the roster and folds it; returns the operation. */
	async write(body: TeamOpBody): Promise<TeamOp> {
		const device = this.init.device;
		if (!device) throw new ReadOnlyTeamError('this replica has no device key');
		await this.settled();
		const op = await signTeamOp(device.privateKey, device.peerId, this.context(), body);
		this.verified.set(op.id, op);
		this.init.doc.transact(() => addTeamOp(this.init.doc, op), TEAM_WRITE_ORIGIN);
		await this.refresh();
		return op;
	}

	/**
	 * Signs `body` and adds it, naming `prev` as what its author saw instead of this
	 * replica's heads: a joiner's admission names the invitation it uses, which it has not
	 * received yet.
	 */
	async writeAfter(prev: string[], body: TeamOpBody): Promise<TeamOp> {
		const device = this.init.device;
		if (!device) throw new ReadOnlyTeamError('this replica has no device key');
		const op = await signTeamOp(device.privateKey, device.peerId, { ...this.context(), prev }, body);
		await this.add(op);
		return op;
	}

	/** Adds an operation signed elsewhere (checked like any other when folded). */
	async add(op: TeamOp): Promise<void> {
		this.init.doc.transact(() => addTeamOp(this.init.doc, op), TEAM_WRITE_ORIGIN);
		await this.refresh();
	}

	/**
	 * Whether `bytes`, the encoded operation that `peerId` presents as its admission, makes
	 * it a current member device, checked against the team with that operation added. One
	 * that does is added to the roster before the answer (PROTOCOL.md "Membership"), so the
	 * device shows in the team, counts against its invitation and can be removed: an
	 * admission answered 'ok' but left out would admit a device nobody sees, and leave the
	 * invitation unused for the next one. A tab's delegation writes nothing.
	 */
	async admits(peerId: string, bytes: Uint8Array): Promise<AdmitVerdict> {
		if (this.isMember(peerId)) return 'ok';
		let op: TeamOp;
		try {
			op = decodeOp(bytes);
		} catch {
			return this.admitsTab(peerId, bytes);
		}
		// A removed device showing its old `add` or `create` again is refused before any signature
		// check or fold; an `admit` is left to the fold, which re-admits a removed device only with
		// an invitation made after its removal.
		if (op.payload.t !== 'admit' && this.wasRemoved(peerId)) return 'refused';
		// Only an admission, a workspace's creation or an addition can make its author a member:
		// anything else is refused before a signature check or a fold (suspected in review: any
		// holder of an invite link could make a responder fold the team once per stream).
		if (!ADMITTING.has(op.payload.t)) return 'refused';
		if (op.payload.ws !== this.init.workspaceId || op.payload.by !== peerId || !(await verifyTeamOp(op))) return 'refused';
		const run = this.admitting.then(() => this.admitAndRecord(peerId, op));
		this.admitting = run.catch(() => undefined);
		return run;
	}

	/** {@link admits} for a signed operation, once the admissions before it are recorded. */
	private async admitAndRecord(peerId: string, op: TeamOp): Promise<AdmitVerdict> {
		await this.settled();
		if (this.isMember(peerId)) return 'ok';
		// An invitation this replica already counts as spent, revoked or expired (by its own
		// clock, not the joiner's) admits nobody new, even though a concurrent admission
		// would be folded by id: a late joiner must not displace the one who came first.
		if (op.payload.t === 'admit') {
			const invite = this.current.invites.get(op.payload.invite);
			if (!invite) return 'refused';
			if (!admitProofValid(op, invite.key)) return 'refused';
			const now = (this.init.now ?? Date.now)();
			if (invite.revoked) return 'revoked';
			if (invite.used >= invite.uses) return 'used';
			if (now > invite.expires || op.payload.at > invite.expires) return 'expired';
			const overlong = overlongInvite(invite, now);
			if (overlong !== undefined) {
				console.info(`team ${this.init.workspaceId}: invitation ${invite.id.slice(0, 12)} admits nobody: ${overlong}`);
				return 'expired';
			}
		}
		const team = foldTeam(this.init.workspaceId, [...this.verifiedOps(), op], this.foldOptions());
		if (!team.devices.has(peerId)) return 'refused';
		this.verified.set(op.id, op);
		await this.add(op);
		return this.isMember(peerId) ? 'ok' : 'refused';
	}

	/** A tab of a member device, by its signed delegation (delegation.ts). */
	private async admitsTab(peerId: string, bytes: Uint8Array): Promise<AdmitVerdict> {
		const d = await readDelegation(bytes);
		const now = (this.init.now ?? Date.now)();
		if (!d || d.tab !== peerId || d.ws !== this.init.workspaceId || now > d.expires) return 'refused';
		await this.settled();
		if (!this.isMember(d.device)) return 'refused';
		this.tabs.delete(peerId); // most recently admitted last
		let oldestOwn: string | undefined;
		let own = 0;
		for (const [tab, { device }] of this.tabs) {
			if (device !== d.device) continue;
			oldestOwn ??= tab;
			own++;
		}
		if (own >= MAX_TABS_PER_DEVICE) this.tabs.delete(oldestOwn!);
		else if (this.tabs.size >= MAX_TABS) this.tabs.delete(this.tabs.keys().next().value!);
		this.tabs.set(peerId, { device: d.device, expires: d.expires });
		return 'ok';
	}

	/** The member a peer (a device, or a tab one delegated to) speaks for, if any. */
	personOf(peerId: string): string | undefined {
		const device = this.deviceOf(peerId);
		return device === undefined ? undefined : this.current.devices.get(device);
	}

	/** The member device `peerId` is, or speaks for (a tab it delegated to, until the delegation expires). */
	deviceOf(peerId: string): string | undefined {
		if (this.current.devices.has(peerId)) return peerId;
		const tab = this.tabs.get(peerId);
		if (tab === undefined) return undefined;
		if ((this.init.now ?? Date.now)() <= tab.expires) return tab.device;
		this.tabs.delete(peerId);
		return undefined;
	}

	/** Who may hold a private space's document (MeshAuthority.spaceAccess). */
	spaceAccess(docId: string): SpaceAccess | undefined {
		// A space the fold refused keeps its document private, with no readers (fold.ts `claimedSpaces`).
		if (!this.current.spaces.has(docId) && !this.current.claimedSpaces.has(docId)) return undefined;
		const me = this.init.device?.peerId;
		return {
			local: me !== undefined && deviceMayRead(this.current, me, docId),
			reads: (peerId) => {
				const device = this.deviceOf(peerId);
				return device !== undefined && deviceMayRead(this.current, device, docId);
			}
		};
	}

	/** Whether `device` is a current member device whose role writes (owner, admin, member). */
	isWriter(device: string): boolean {
		const role = this.roleOf(device);
		return role !== undefined && writesNotes(role);
	}

	/**
	 * Whether the note edits bound to `device` count (notePolicy.ts): it wrote notes at some
	 * time, as a device of an owner, admin or member, removed or demoted since included. What
	 * a removed member wrote while it was one stays in the note for every replica, newcomers
	 * too; what it writes after reaches no replica that folded its removal, since only
	 * carriers ({@link carries}) bring note content.
	 */
	wroteNotes(device: string): boolean {
		return this.current.noteWriters.has(device);
	}

	/**
	 * Whether a note update from `peerId` may bring content (notePolicy.ts): its device's role
	 * writes notes, or it is the team's relay, which passes on what writers wrote. Yjs cannot
	 * say who wrote an item or a deletion, so anyone else (a guest, a removed member, a
	 * stranger) could forge a writer's edit if a peer took note content from it.
	 */
	carries(peerId: string): boolean {
		const device = this.deviceOf(peerId);
		return device !== undefined && carriesNotes(this.current, device);
	}

	/** Whether this device passes on note content ({@link carries}); a guest's never does. */
	get carrier(): boolean {
		const me = this.init.device?.peerId;
		return me !== undefined && this.carries(me);
	}

	/** Ids of the private spaces this device's member is in. */
	mySpaces(): ReadonlySet<string> {
		const me = this.init.device?.peerId;
		const member = me === undefined ? undefined : this.current.devices.get(me);
		if (this.spaceCache?.team !== this.current) {
			this.spaceCache = { team: this.current, ids: new Set(spacesOf(this.current, member).map((s) => s.id)) };
		}
		return this.spaceCache.ids;
	}

	/**
	 * The operation that made this device a member (its admission, the `add` that named it,
	 * or the workspace's `create`), encoded; what a session's HELLO shows a peer whose team
	 * has not seen it yet.
	 */
	admission(): Uint8Array | undefined {
		const me = this.init.device?.peerId;
		if (me === undefined) return undefined;
		let found: TeamOp | undefined;
		// While this device is a member, the operation that made it one; once removed, the newest
		// (its admission with an invitation made since, which alone admits it again).
		const member = this.isMember(me);
		for (const op of this.verifiedOps()) {
			const p = op.payload;
			const mine = (p.t === 'admit' && p.by === me) || (p.t === 'add' && p.member === me) || (p.t === 'create' && p.by === me);
			if (!mine) continue;
			// One the current team accepted wins; else the newest (a joiner's latest admission).
			const accepted = member && this.current.accepted.includes(op.id);
			const foundAccepted = member && found !== undefined && this.current.accepted.includes(found.id);
			if (found === undefined || (accepted && !foundAccepted) || (accepted === foundAccepted && p.at >= found.payload.at)) found = op;
		}
		return found?.bytes;
	}

	/** Whether this device has written an admission with invitation `inviteId`. */
	hasAdmission(inviteId: string): boolean {
		const me = this.init.device?.peerId;
		for (const op of this.verifiedOps()) if (op.payload.t === 'admit' && op.payload.by === me && op.payload.invite === inviteId) return true;
		return false;
	}

	/**
	 * Every operation this replica holds whose signature holds (accepted, rejected or waiting),
	 * as folded last: what an admin hands a relay it asks to archive the workspace
	 * (`op.bytes` each). Await {@link settled} first to include the latest writes.
	 */
	operations(): TeamOp[] {
		return [...this.verifiedOps()];
	}

	/** Calls `handler` after every change of the team (MeshAuthority). */
	onChange(handler: () => void): () => void {
		return this.listeners.on('change', () => handler());
	}

	/** Folds again now (also runs by itself after every change to the roster). */
	refresh(): Promise<void> {
		const run = this.queue.then(() => this.fold());
		this.queue = run.catch(() => undefined);
		return run;
	}

	/** Waits for the folds scheduled so far. */
	async settled(): Promise<void> {
		await this.queue;
	}

	/** Stops watching the roster. */
	destroy(): void {
		this.destroyed = true;
		this.init.doc.off('update', this.onUpdate);
	}

	private readonly onUpdate = (): void => {
		if (this.scheduled || this.destroyed) return;
		this.scheduled = true;
		queueMicrotask(() => {
			this.scheduled = false;
			void this.refresh();
		});
	};

	private context() {
		const heads = this.current.heads.slice(-64);
		return { ws: this.init.workspaceId, prev: heads, at: (this.init.now ?? Date.now)() };
	}

	private foldOptions() {
		return this.init.pinnedRoot !== undefined ? { pinnedRoot: this.init.pinnedRoot } : {};
	}

	private *verifiedOps(): Iterable<TeamOp> {
		for (const op of this.verified.values()) if (op !== null) yield op;
	}

	private async fold(): Promise<void> {
		if (this.destroyed) return;
		const { ops } = readTeamOps(this.init.doc);
		const fresh = ops.filter((op) => !this.verified.has(op.id));
		const checks = await Promise.all(fresh.map((op) => verifyTeamOp(op)));
		fresh.forEach((op, i) => {
			this.verified.set(op.id, checks[i] ? op : null);
			if (!checks[i]) console.info(`team ${this.init.workspaceId}: operation ${op.id.slice(0, 12)} kept aside: its signature is not its author's`);
		});
		// Keep only what the document still holds (it only grows, but a test may swap documents).
		const present = new Set(teamOps(this.init.doc).keys());
		for (const id of this.verified.keys()) if (!present.has(id)) this.verified.delete(id);
		const team = foldTeam(this.init.workspaceId, this.verifiedOps(), this.foldOptions());
		const fingerprint = `${team.accepted.join(',')}|${team.waiting.length}|${team.rejected.size}`;
		// Operations kept but refused by the fold are reported once each (they stay in the roster).
		for (const [id, reason] of team.rejected) {
			if (this.reported.has(id)) continue;
			this.reported.add(id);
			const op = this.verified.get(id);
			console.info(`team ${this.init.workspaceId}: operation ${id.slice(0, 12)} (${op?.payload.t ?? '?'} by …${op?.payload.by.slice(-6) ?? '?'}) refused: ${reason}`);
		}
		this.current = team;
		if (fingerprint === this.fingerprint) return;
		this.fingerprint = fingerprint;
		this.listeners.emit('change', team);
	}
}

/**
 * Why an invitation's own dates put it past {@link MAX_INVITE_LIFETIME_MS} by the responder's
 * clock `now`; undefined when they do not. Checked where an admission is decided, never in the
 * fold (which stays the same on every replica, whatever its clock): a joiner such an invitation
 * admits nowhere stays out, as one whose invitation expired.
 */
export function overlongInvite(invite: Pick<TeamInvite, 'createdAt' | 'expires'>, now: number): string | undefined {
	if (invite.expires - invite.createdAt > MAX_INVITE_LIFETIME_MS) return 'it claims to be valid for longer than 30 days';
	if (invite.expires - now > MAX_INVITE_LIFETIME_MS) return "it claims to be valid more than 30 days past this device's clock";
	return undefined;
}
