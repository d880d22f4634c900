/**
 * The team fold: one pure, deterministic function from a set of signed team operations
 * (ops.ts, signatures already checked by verify.ts) to the current team. Every replica that
 * holds the same operations computes the same team, whatever order they arrived in
 * (PROTOCOL.md "Team operations"):
 *
 * 1. **Order.** Operations whose ancestry is complete are put in a topological order of
 *    their `prev` links; operations not ordered by links are ordered by id.
 * 2. **Rights.** Each operation is checked, in that order, against its author's rights in
 *    the team as it stands just before it (roles: owner > admin > member > relay > guest).
 *    An operation that fails is rejected with a reason and has no effect.
 * 3. **Strong removal.** Once a member (or device) is removed, every operation it wrote that
 *    the removal had not seen is dropped, and the fold runs again without them. When two
 *    members remove each other concurrently, the senior one's removal stands (higher role,
 *    then earlier admission), and the junior's is dropped. A removed device is admitted again
 *    only by an invitation whose operation had seen its removal (an admin's choice made after
 *    it), never by one it held before.
 * 4. **Invitations die with their author's right.** A `remove` revokes the open invitations
 *    its member made; a `role` that lowers a member revokes those it may no longer make (for a
 *    new member, below admin; a role above its new one); a `remove-device` revokes those that
 *    device wrote (its store keeps their seeds). Admissions ordered before stay; concurrent
 *    ones are dropped (3); a later promotion or re-addition reopens nothing.
 *
 * Invite proofs (an admission signed by the invitation's key) are checked here, with a
 * synchronous Ed25519 verification, so the fold needs nothing but the operations.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { fromBase64, fromHex } from '../deviceKey.js';
import { MAX_DEVICES_PER_MEMBER, MAX_SPACE_MEMBERS, ROLE_RANK, TeamRole, admitProofBytes, isRootPayload, type TeamOp } from './ops.js';
import { isSpaceIdOf, marksSpaceIds, teamInviteId, teamWorkspaceId } from './teamId.js';
import { Ancestry, orderOps } from './order.js';
import { makesSpaceKeys, spaceKeyMaker } from './spaces.js';
import { BoxRank, type FoldOptions, type KeyGeneration, type Team, type TeamInvite, type TeamMember, type TeamSpace } from './teamTypes.js';

export type { FoldOptions, KeyGeneration, RemovedMember, Team, TeamInvite, TeamMember, TeamSpace } from './teamTypes.js';

/**
 * Proof checks made, on the operation itself (its key and answer): each admission's proof is
 * verified once for as long as the operation is held, however many passes fold it (a cache
 * that evicted let thousands of bad proofs be checked again on every pass).
 */
const proofCache = new WeakMap<TeamOp, Map<string, boolean>>();

function proofValid(op: TeamOp, key: string, invite: string): boolean {
	let checked = proofCache.get(op);
	if (checked === undefined) proofCache.set(op, (checked = new Map()));
	const cacheKey = `${invite}:${key}`;
	let ok = checked.get(cacheKey);
	if (ok === undefined) {
		try {
			const proof = op.payload.t === 'admit' ? fromBase64(op.payload.proof) : new Uint8Array();
			ok = ed25519.verify(proof, admitProofBytes(op.payload.ws, invite, op.payload.by), fromHex(key));
		} catch {
			ok = false;
		}
		checked.set(cacheKey, ok);
	}
	return ok;
}

/** True when an admission's proof is the signature of the invitation key `key` (hex). */
export function admitProofValid(op: TeamOp, key: string): boolean {
	return op.payload.t === 'admit' && proofValid(op, key, op.payload.invite);
}

function rank(role: TeamRole): number {
	return ROLE_RANK[role];
}

/** The mutable state of one sequential pass. */
class Pass {
	readonly team: Team;
	/** Every device a member ever had (for strong removal). */
	readonly deviceHistory = new Map<string, Set<string>>();
	/** Accepted `role` operations that lowered their member's role (strong like a removal). */
	readonly demotions = new Set<string>();
	/** The highest rank each member held so far in the pass (seniority). */
	private readonly peak = new Map<string, number>();
	/** Removed device → the id of the latest removal (a `remove` or `remove-device`) that took it. */
	private readonly removals = new Map<string, string>();
	/** The operation that made each space, by its id. */
	private readonly spaceMade = new Map<string, string>();
	/** The operation that last added each member to a space, by `space\nmember`. */
	private readonly spaceAdds = new Map<string, string>();
	/** Invitation id → the id of its `invite` operation. */
	readonly inviteOps = new Map<string, string>();
	/** Invitation id → the device that wrote it. */
	private readonly inviteDevices = new Map<string, string>();
	private seq = 0;

	constructor(
		workspaceId: string,
		root: string | undefined,
		legacySpaceIds: boolean,
		private readonly ancestry: Ancestry
	) {
		this.team = {
			workspaceId,
			root,
			legacySpaceIds,
			members: new Map(),
			devices: new Map(),
			removed: new Map(),
			removedDevices: new Set(),
			noteWriters: new Set(),
			invites: new Map(),
			keyGenerations: new Map(),
			currentKey: undefined,
			spaces: new Map(),
			claimedSpaces: new Set(),
			modelAccess: new Map(),
			toolAccess: new Map(),
			filePolicy: undefined,
			accepted: [],
			rejected: new Map(),
			waiting: [],
			heads: []
		};
	}

	/** The current member that wrote `op`, if its device is current. */
	private actor(op: TeamOp) {
		const memberId = this.team.devices.get(op.payload.by);
		return memberId === undefined ? undefined : this.team.members.get(memberId);
	}

	private owners(): number {
		let n = 0;
		for (const m of this.team.members.values()) if (m.role === TeamRole.owner) n++;
		return n;
	}

	private addMember(id: string, role: TeamRole, name: string, at: number, addedBy: string, invite?: string): void {
		this.team.removed.delete(id);
		this.team.removedDevices.delete(id);
		const member: TeamMember = { id, role, name, devices: [id], seq: this.seq++, joinedAt: at, addedBy };
		if (invite !== undefined) member.invite = invite;
		this.team.members.set(id, member);
		this.team.devices.set(id, id);
		this.history(id).add(id);
		this.peak.set(id, Math.max(this.peak.get(id) ?? 0, rank(role)));
		if (writesNotes(role)) this.team.noteWriters.add(id);
	}

	private history(member: string): Set<string> {
		let set = this.deviceHistory.get(member);
		if (!set) this.deviceHistory.set(member, (set = new Set()));
		return set;
	}

	/**
	 * Whether `id` is a current member device or a current member's id (its first device, which
	 * its member may have removed while keeping the membership). Found in review: an `add` or an
	 * admission naming a member's removed first device replaced that member's record (an admin
	 * made the owner a guest; a thief with the removed laptop's key did it with any invitation).
	 */
	private taken(id: string): boolean {
		return this.team.devices.has(id) || this.team.members.has(id);
	}

	/**
	 * Closes the open invitations that `closes` picks (given each one): a removal or demotion
	 * revokes what its target may no longer invite, for good. Judged by rights at each
	 * admission instead, a link would come back to life when its author was added or promoted
	 * again, or (for a removed device, whose local store keeps the seeds of what it made) stay
	 * open to whoever holds that device (found in review). Admissions ordered before (those the
	 * removal had seen) stand; concurrent ones are dropped by strong removal.
	 */
	private closeInvites(closes: (invite: TeamInvite, device: string | undefined) => boolean): void {
		for (const invite of this.team.invites.values()) {
			if (!invite.revoked && invite.used < invite.uses && closes(invite, this.inviteDevices.get(invite.id))) invite.revoked = true;
		}
	}

	/** Applies `op`, or returns why it has no effect. */
	apply(op: TeamOp): string | undefined {
		const p = op.payload;
		const team = this.team;
		if (p.t === 'create') {
			if (op.id !== team.root) return 'not the root';
			this.addMember(p.by, TeamRole.owner, p.name, p.at, p.by);
			return undefined;
		}
		const actor = this.actor(op);
		if (!actor) return 'author is not a current member device';
		const actorRank = rank(actor.role);
		switch (p.t) {
			case 'add': {
				if (actorRank < ROLE_RANK.admin) return 'only admins add members';
				if (rank(p.role) > actorRank) return 'cannot grant a higher role';
				if (this.taken(p.member)) return 'already a member device';
				this.addMember(p.member, p.role, p.name, p.at, actor.id);
				return undefined;
			}
			case 'role': {
				const target = team.members.get(p.member);
				if (!target) return 'no such member';
				if (actorRank < ROLE_RANK.admin) return 'only admins change roles';
				if (rank(target.role) > actorRank || rank(p.role) > actorRank) return 'cannot change a higher role';
				if (target.role === TeamRole.owner && p.role !== TeamRole.owner && this.owners() === 1) {
					return 'the last owner cannot step down';
				}
				if (rank(p.role) < rank(target.role)) {
					this.demotions.add(op.id);
					// What it may no longer invite: any new member below admin, a role above its new one.
					this.closeInvites((i) => i.createdBy === target.id && i.member === undefined && (rank(p.role) < ROLE_RANK.admin || rank(i.role) > rank(p.role)));
				}
				target.role = p.role;
				this.peak.set(target.id, Math.max(this.peak.get(target.id) ?? 0, rank(p.role)));
				if (writesNotes(p.role)) for (const d of target.devices) team.noteWriters.add(d);
				return undefined;
			}
			case 'remove': {
				const target = team.members.get(p.member);
				if (!target) return 'no such member';
				if (target.id !== actor.id && actorRank < ROLE_RANK.admin) return 'only admins remove members';
				if (rank(target.role) > actorRank) return 'cannot remove a higher role';
				if (target.role === TeamRole.owner && this.owners() === 1) return 'the last owner cannot be removed';
				team.members.delete(target.id);
				for (const d of target.devices) {
					team.devices.delete(d);
					this.removals.set(d, op.id);
				}
				for (const space of team.spaces.values()) space.members.delete(target.id);
				this.closeInvites((i) => i.createdBy === target.id);
				team.removed.set(target.id, {
					id: target.id,
					name: target.name,
					role: target.role,
					seq: target.seq,
					devices: target.devices,
					by: actor.id,
					at: p.at
				});
				return undefined;
			}
			case 'remove-device': {
				const memberId = team.devices.get(p.device);
				const target = memberId === undefined ? undefined : team.members.get(memberId);
				if (!target) return 'no such device';
				if (target.id !== actor.id && (actorRank < ROLE_RANK.admin || rank(target.role) > actorRank)) {
					return 'cannot remove this device';
				}
				target.devices = target.devices.filter((d) => d !== p.device);
				team.devices.delete(p.device);
				team.removedDevices.add(p.device);
				this.removals.set(p.device, op.id);
				this.closeInvites((_, device) => device === p.device);
				return undefined;
			}
			case 'invite': {
				if (p.invite !== teamInviteId(team.workspaceId, p.by, p.key)) return "the invitation id is not its author's";
				if (team.invites.has(p.invite)) return 'invitation id taken';
				if (p.member !== undefined) {
					// A device on someone else's account signs as them and reads their spaces: a device
					// invitation adds to its author's own member only (found in review: an admin added a
					// device to the owner's account, made herself owner with it, and removed the owner).
					if (p.member !== actor.id) return "a device invitation adds only to its author's member";
					const target = team.members.get(p.member);
					if (!target) return 'no such member';
					if (target.devices.length >= MAX_DEVICES_PER_MEMBER) return `the member has ${MAX_DEVICES_PER_MEMBER} devices, the most one may`;
				} else {
					if (actorRank < ROLE_RANK.admin) return 'only admins invite';
					if (rank(p.role) > actorRank) return 'cannot invite to a higher role';
					// A relay is trusted with more than a member (tools, sealed copies): a link makes one, not several.
					if (p.role === TeamRole.relay && p.uses !== 1) return 'an invitation for a relay admits one';
				}
				const invite: TeamInvite = {
					id: p.invite,
					key: p.key,
					role: p.role,
					uses: p.uses,
					used: 0,
					expires: p.expires,
					revoked: false,
					createdBy: actor.id,
					createdAt: p.at,
					admitted: []
				};
				if (p.member !== undefined) invite.member = p.member;
				team.invites.set(p.invite, invite);
				this.inviteOps.set(p.invite, op.id);
				this.inviteDevices.set(p.invite, p.by);
				return undefined;
			}
			case 'revoke-invite': {
				const invite = team.invites.get(p.invite);
				if (!invite) return 'no such invitation';
				if (invite.createdBy !== actor.id && actorRank < ROLE_RANK.admin) return 'cannot revoke this invitation';
				invite.revoked = true;
				return undefined;
			}
			case 'name':
				actor.name = p.name;
				return undefined;
			case 'keys':
				return this.keys(op, actor.id, actorRank);
			case 'space':
			case 'space-members':
				return this.space(op, actor.id, actorRank);
			case 'model-access':
				if (actorRank < ROLE_RANK.admin) return 'only admins set model access';
				team.modelAccess.set(p.model, new Set(p.roles));
				return undefined;
			case 'tool-access':
				if (actorRank < ROLE_RANK.admin) return 'only admins set tool access';
				team.toolAccess.set(p.tool, new Set(p.roles));
				return undefined;
			case 'file-policy':
				if (actorRank < ROLE_RANK.admin) return 'only admins set the file policy';
				team.filePolicy = { maxBytes: p.maxBytes, autoFetchBytes: p.autoFetchBytes, blocked: [...p.blocked] };
				return undefined;
			case 'admit':
				return 'admitted already';
		}
	}

	/** Admissions are written by a device that is not a member yet. */
	admit(op: TeamOp): string | undefined {
		const p = op.payload;
		if (p.t !== 'admit') return 'not an admission';
		const team = this.team;
		const invite = team.invites.get(p.invite);
		if (!invite) return 'no such invitation';
		if (invite.revoked) return 'invitation revoked';
		if (invite.used >= invite.uses) return 'invitation used up';
		if (p.at > invite.expires) return 'invitation expired';
		const creator = team.members.get(invite.createdBy);
		if (!creator) return 'invitation creator was removed';
		if (this.taken(p.by)) return 'already a member device';
		// In causal order, not by clocks: the invitation must have seen the device's latest removal.
		const removal = this.removals.get(p.by);
		if (removal !== undefined && !this.ancestry.after(removal).has(this.inviteOps.get(invite.id) ?? '')) {
			return 'device removed; the invitation was made before its removal';
		}
		if (!proofValid(op, invite.key, invite.id)) return 'bad invitation proof';
		if (invite.member !== undefined) {
			const member = team.members.get(invite.member);
			if (!member) return 'no such member';
			if (invite.member !== creator.id) return 'creator may not invite';
			if (member.devices.length >= MAX_DEVICES_PER_MEMBER) return `the member has ${MAX_DEVICES_PER_MEMBER} devices, the most one may`;
			member.devices.push(p.by);
			team.devices.set(p.by, member.id);
			team.removedDevices.delete(p.by);
			this.history(member.id).add(p.by);
			if (writesNotes(member.role)) team.noteWriters.add(p.by);
		} else {
			if (rank(creator.role) < ROLE_RANK.admin || rank(invite.role) > rank(creator.role)) return 'creator may not invite';
			this.addMember(p.by, invite.role, p.name, p.at, creator.id, invite.id);
		}
		invite.used++;
		invite.admitted.push(p.by);
		return undefined;
	}

	private keys(op: TeamOp, actor: string, actorRank: number): string | undefined {
		const p = op.payload;
		if (p.t !== 'keys') return 'not keys';
		if (p.space !== undefined) return this.spaceKeys(op, actor);
		const team = this.team;
		let gen = team.keyGenerations.get(p.gen);
		if (!gen) {
			if (actorRank < ROLE_RANK.admin) return 'only admins rotate the key';
			gen = newGeneration(p.gen, this.seq++, p.by, p.check);
			team.keyGenerations.set(p.gen, gen);
			team.currentKey = p.gen;
		} else if (!gen.boxes.has(p.by)) {
			return 'author does not hold this key';
		}
		addBoxes(gen, p.boxes, (device) => team.devices.has(device), boxRank(gen, p.by, actorRank >= ROLE_RANK.admin));
		return undefined;
	}

	/**
	 * A private space's own key generation: a member of the space makes a new one, sealed to
	 * the devices of the space's members (boxes for anyone else are left out); a device that
	 * holds a generation seals it to member devices that lack it.
	 */
	private spaceKeys(op: TeamOp, actor: string): string | undefined {
		const p = op.payload;
		if (p.t !== 'keys' || p.space === undefined) return 'not space keys';
		const team = this.team;
		const space = team.spaces.get(p.space);
		if (!space) return 'no such space';
		if (!space.members.has(actor)) return 'not a member of the space';
		let gen = space.keyGenerations.get(p.gen);
		if (!gen) {
			// One member makes the space's generations (as honest key keepers do): another member's
			// generation, sealing what it likes to the others, would lock them out of the current key.
			// Judged by what the author had seen: a member added concurrently (who may now make the
			// keys) does not void the generation of the one that made them when it wrote.
			const reason = this.startsSpaceKeys(space, op, actor);
			if (reason !== undefined) return reason;
			// Ids are a space's own (its boxes are bound to its scope): another space's or the
			// workspace's generation of the same id takes nothing, so no member can squat the id
			// of a space's next rotation with a generation of a space of its own (found in review).
			gen = newGeneration(p.gen, this.seq++, p.by, p.check);
			space.keyGenerations.set(p.gen, gen);
			space.currentKey = p.gen;
		} else if (!gen.boxes.has(p.by)) {
			return 'author does not hold this key';
		}
		addBoxes(gen, p.boxes, (device) => space.members.has(team.devices.get(device) ?? ''), boxRank(gen, p.by, makesSpaceKeys(team, space, actor)));
		return undefined;
	}

	/** Why `actor` may not start a generation of `space` with `op` (undefined: it may): it must be the key maker among the members it had seen added. */
	private startsSpaceKeys(space: TeamSpace, op: TeamOp, actor: string): string | undefined {
		// Whether `ancestor` is among what `op` names before it. Walked from the additions (few, and
		// remembered), not from `op`: operations a member writes at will make no walk of their own.
		const saw = (ancestor: string) => this.ancestry.after(ancestor).has(op.id);
		const made = this.spaceMade.get(space.id);
		if (made === undefined || !saw(made)) return 'a generation of a space its author had not seen';
		const maker = spaceKeyMaker(this.team, space, (member) => {
			const added = this.spaceAdds.get(`${space.id}\n${member}`);
			return added === undefined || saw(added);
		});
		return maker === actor ? undefined : "only the space's key maker makes a new generation";
	}

	/** `space` and `space-members` (PROTOCOL.md "Team operations"). */
	private space(op: TeamOp, actor: string, actorRank: number): string | undefined {
		const p = op.payload;
		const team = this.team;
		const unknown = (ids: string[]) => ids.some((id) => !team.members.has(id));
		if (p.t === 'space') {
			if (actorRank < ROLE_RANK.member) return 'only members create spaces';
			if (!isSpaceIdOf(p.space, team.workspaceId, op.payload.by, p.nonce, team.legacySpaceIds)) return 'the space id is not its author\'s';
			if (team.spaces.has(p.space)) return 'space id taken';
			if (!p.members.includes(actor)) return 'the author must be a member of the space';
			if (p.kind === 'dm' && p.members.length < 2) return 'a direct conversation has two members or more';
			// A listed member the team no longer has (removed concurrently, or by an operation
			// ordered first) is left out, not the space: refusing it would void the space.
			const members = p.members.filter((id) => team.members.has(id));
			team.spaces.set(p.space, { id: p.space, kind: p.kind, creator: actor, members: new Set(members), createdAt: p.at, keyGenerations: new Map(), currentKey: undefined });
			this.spaceMade.set(p.space, op.id);
			for (const id of members) this.spaceAdds.set(`${p.space}\n${id}`, op.id);
			return undefined;
		}
		if (p.t !== 'space-members') return 'not a space operation';
		const space = team.spaces.get(p.space);
		if (!space) return 'no such space';
		const inside = space.members.has(actor);
		// The creator manages its space while it is in it: once an admin (or itself) took it out, it
		// cannot add itself back. Admins manage private channels, not direct conversations, which
		// are for the people in them only (found in review: an admin added itself to anyone's
		// conversation and read its history).
		const manages = (space.creator === actor && inside) || (actorRank >= ROLE_RANK.admin && space.kind !== 'dm');
		if (p.add.length > 0 && !(manages || (space.kind === 'dm' && inside))) return 'may not add members to this space';
		if (p.remove.some((id) => id !== actor) && !manages) return 'may not remove others from this space';
		if (p.remove.some((id) => !space.members.has(id))) return 'not in the space';
		if (unknown(p.add)) return 'not a member of the team';
		if (space.members.size + p.add.length > MAX_SPACE_MEMBERS) return 'too many members';
		for (const id of p.add) {
			space.members.add(id);
			this.spaceAdds.set(`${p.space}\n${id}`, op.id);
		}
		for (const id of p.remove) space.members.delete(id);
		return undefined;
	}

	/**
	 * Seniority of a member (current or removed): the higher role it ever held in this pass
	 * wins (not its role now, which the other side's concurrent demotion may have lowered),
	 * then the earlier admission.
	 */
	senior(a: string, b: string): boolean {
		const ma = this.team.members.get(a) ?? this.team.removed.get(a);
		const mb = this.team.members.get(b) ?? this.team.removed.get(b);
		if (!ma || !mb) return false;
		const ra = Math.max(rank(ma.role), this.peak.get(a) ?? 0);
		const rb = Math.max(rank(mb.role), this.peak.get(b) ?? 0);
		if (ra !== rb) return ra > rb;
		return ma.seq < mb.seq;
	}
}

function runPass(workspaceId: string, root: string | undefined, legacySpaceIds: boolean, order: TeamOp[], excluded: Set<string>, ancestry: Ancestry): Pass {
	const pass = new Pass(workspaceId, root, legacySpaceIds, ancestry);
	for (const op of order) {
		const p = op.payload;
		if (p.t === 'space' && isSpaceIdOf(p.space, workspaceId, p.by, p.nonce, legacySpaceIds)) pass.team.claimedSpaces.add(p.space);
		if (excluded.has(op.id)) {
			pass.team.rejected.set(op.id, 'dropped: written by a removed member');
			continue;
		}
		const reason = op.payload.t === 'admit' ? pass.admit(op) : pass.apply(op);
		if (reason === undefined) pass.team.accepted.push(op.id);
		else pass.team.rejected.set(op.id, reason);
	}
	return pass;
}

/** Picks the root: the `create` with no `prev` whose workspace id it certifies (or the pinned one). */
function findRoot(workspaceId: string, ops: Map<string, TeamOp>, options: FoldOptions): string | undefined {
	let root: string | undefined;
	for (const op of ops.values()) {
		const p = op.payload;
		if (p.t !== 'create' || !isRootPayload(p)) continue;
		const certified = teamWorkspaceId(p.by, p.nonce) === workspaceId;
		if (!certified && op.id !== options.pinnedRoot) continue;
		if (root === undefined || op.id < root) root = op.id;
	}
	return root;
}

/** Folds `ops` (signatures checked) into the team of `workspaceId`; see the module comment. */
export function foldTeam(workspaceId: string, ops: Iterable<TeamOp>, options: FoldOptions = {}): Team {
	const byId = new Map<string, TeamOp>();
	for (const op of ops) if (op.payload.ws === workspaceId) byId.set(op.id, op);
	const root = findRoot(workspaceId, byId, options);
	// Read from the signed root (teamId.ts `marksSpaceIds`); until it arrives, both forms count as claimed.
	const rootOp = root === undefined ? undefined : byId.get(root)?.payload;
	const legacySpaceIds = rootOp?.t !== 'create' || !marksSpaceIds(rootOp.nonce);
	const { order, waiting, heads, parents, children } = orderOps(byId, root);
	const ancestry = new Ancestry(parents, children);
	const drops: Drops = { excluded: new Set(), causes: new Map() };
	for (let round = 0; ; round++) {
		const pass = runPass(workspaceId, root, legacySpaceIds, order, drops.excluded, ancestry);
		const more = strongRemoval(pass, order, ancestry, drops);
		if (!more || round > order.length) {
			pass.team.waiting = waiting;
			pass.team.heads = heads;
			return pass.team;
		}
	}
}

/** Operations the fold leaves out, and for each dropped one the removal that dropped it. */
interface Drops {
	excluded: Set<string>;
	/** Dropped operation → the removal, demotion or revocation that dropped it. */
	causes: Map<string, string>;
}

/**
 * Adds to `drops` what the accepted removals, demotions and revocations drop, all of them in
 * one sweep; true when anything changed (the fold then runs again). What a removal dropped is
 * released when that removal no longer stands (dropped or refused itself since), so a removal
 * voided by its author's own removal erases nothing of its target.
 */
function strongRemoval(pass: Pass, order: TeamOp[], ancestry: Ancestry, drops: Drops): boolean {
	const { excluded, causes } = drops;
	const accepted = new Set(pass.team.accepted);
	let changed = false;
	for (const [dropped, cause] of causes) {
		if (accepted.has(cause)) continue;
		causes.delete(dropped);
		excluded.delete(dropped);
		changed = true;
	}
	if (changed) return true;
	const byId = new Map(order.map((op) => [op.id, op]));
	const memberOf = (device: string): string | undefined => {
		for (const [member, devices] of pass.deviceHistory) if (devices.has(device)) return member;
		return undefined;
	};
	/** The device that wrote invitation `invite` (accepted in this pass). */
	const inviter = (invite: string): string | undefined => byId.get(pass.inviteOps.get(invite) ?? '')?.payload.by;
	const drop = (q: TeamOp, cause: string): void => {
		if (excluded.has(q.id)) return;
		excluded.add(q.id);
		causes.set(q.id, cause);
		changed = true;
	};
	for (const id of pass.team.accepted) {
		const op = byId.get(id)!;
		const p = op.payload;
		let dropped: Set<string>;
		let targetMember: string | undefined;
		if (p.t === 'remove') {
			targetMember = p.member;
			dropped = pass.deviceHistory.get(p.member) ?? new Set();
		} else if (p.t === 'remove-device') {
			targetMember = memberOf(p.device);
			dropped = new Set([p.device]);
		} else if (p.t === 'role' && pass.demotions.has(id)) {
			// A demotion is strong too: nothing the member signed concurrently counts with its old role.
			targetMember = p.member;
			dropped = pass.deviceHistory.get(p.member) ?? new Set();
		} else if (p.t === 'revoke-invite') {
			// No admission through a revoked invitation that the revocation had not seen.
			const seen = ancestry.before(id);
			const later = ancestry.after(id);
			for (const q of order) {
				if (q.payload.t === 'admit' && q.payload.invite === p.invite && !seen.has(q.id) && !later.has(q.id)) drop(q, id);
			}
			continue;
		} else if (p.t === 'space-members' && p.remove.length > 0) {
			dropSpaceConcurrent(op, order, ancestry, memberOf, (q) => drop(q, id));
			continue;
		} else continue;
		const seen = ancestry.before(id);
		const later = ancestry.after(id);
		const removerMember = memberOf(p.by);
		// Its devices' operations, and admissions through the invitations they wrote.
		const concurrent = order.filter((q) => {
			if (q.id === id || seen.has(q.id) || later.has(q.id) || excluded.has(q.id)) return false;
			if (dropped.has(q.payload.by)) return true;
			const via = q.payload.t === 'admit' ? inviter(q.payload.invite) : undefined;
			return via !== undefined && dropped.has(via);
		});
		// Mutual removal: the senior side's removal stands.
		const counter = concurrent.find((q) => {
			const qp = q.payload;
			if (qp.t !== 'remove' && qp.t !== 'remove-device' && qp.t !== 'role') return false;
			const hits =
				qp.t === 'remove'
					? qp.member === removerMember
					: qp.t === 'remove-device'
						? qp.device === p.by
						: qp.member === removerMember && rank(qp.role) < ROLE_RANK.admin; // a demotion that takes the power to demote or remove
			return hits && targetMember !== undefined && removerMember !== undefined && pass.senior(targetMember, removerMember);
		});
		if (counter) {
			excluded.add(id);
			return true;
		}
		// Operations written after the removal (descendants) are rejected by the rights check;
		// concurrent ones are dropped here.
		for (const q of concurrent) drop(q, id);
	}
	return changed;
}

/**
 * Removal from a space is strong too: the operations on space `removal` names (its members,
 * its keys) by a member it removes that the removal did not see and that did not see it are
 * dropped (`drop`), so a removed member cannot backdate an addition (or a key) past its
 * removal. Those it saw stand; later ones fail the rights check.
 */
function dropSpaceConcurrent(removal: TeamOp, order: TeamOp[], ancestry: Ancestry, memberOf: (device: string) => string | undefined, drop: (op: TeamOp) => void): void {
	const p = removal.payload;
	if (p.t !== 'space-members') return;
	const removed = new Set(p.remove);
	const seen = ancestry.before(removal.id);
	const later = ancestry.after(removal.id);
	for (const q of order) {
		const qp = q.payload;
		if (q.id === removal.id || seen.has(q.id) || later.has(q.id)) continue;
		const onSpace = (qp.t === 'space-members' || qp.t === 'keys') && qp.space === p.space;
		const author = onSpace ? memberOf(qp.by) : undefined;
		if (author !== undefined && removed.has(author)) drop(q);
	}
}

/** Whether a member of role `role` writes notes (owner, admin, member; not a relay or a guest). */
export function writesNotes(role: TeamRole): boolean {
	return role === TeamRole.owner || role === TeamRole.admin || role === TeamRole.member;
}

/**
 * Whether `device` passes on note content by `team` (notePolicy.ts): a current device of a
 * member whose role writes notes, or of the team's relay, which passes on what writers wrote.
 */
export function carriesNotes(team: Team, device: string): boolean {
	const role = memberOfDevice(team, device)?.role;
	return role !== undefined && (writesNotes(role) || role === TeamRole.relay);
}

/** The member a device belongs to now, if it is a current member device. */
export function memberOfDevice(team: Team, device: string): TeamMember | undefined {
	const id = team.devices.get(device);
	return id === undefined ? undefined : team.members.get(id);
}

/** True when `device` is a current member device. */
export function isMemberDevice(team: Team, device: string): boolean {
	return team.devices.has(device);
}

/**
 * Whether a device holding `gen`'s key seals it to `device`: when `device` has no box of it,
 * or, for a device whose member keeps the keys (`keeper`), when only a mere holder sealed the
 * box it has (the fold puts the keeper's in its place: {@link addBoxes}).
 */
export function sealsTo(gen: KeyGeneration, device: string, keeper: boolean): boolean {
	const held = gen.boxBy.get(device);
	return held === undefined || (keeper && held === BoxRank.holder);
}

/** A generation made by device `maker`'s operation (`check` from it). */
function newGeneration(id: string, seq: number, maker: string, check: string | undefined): KeyGeneration {
	const gen: KeyGeneration = { id, seq, boxes: new Map(), boxBy: new Map(), maker };
	if (check !== undefined) gen.check = check;
	return gen;
}

/** The rank of boxes `author` seals in `gen`; `keeper`: its member keeps the keys now (an admin, or the space's key maker). */
function boxRank(gen: KeyGeneration, author: string, keeper: boolean): BoxRank {
	// The maker outranks the keepers only while it is one: an admin demoted since, or a space's
	// former key maker, is a holder like any other.
	if (!keeper) return BoxRank.holder;
	return author === gen.maker ? BoxRank.maker : BoxRank.keeper;
}

/**
 * Adds to a key generation the boxes of devices `holds` allows: for a device with no box yet,
 * or in place of one sealed by a lower rank (so at most twice a device: the box a key holder
 * gave first cannot keep it from the key once the maker or a keeper seals it one).
 */
function addBoxes(gen: KeyGeneration, boxes: Record<string, string>, holds: (device: string) => boolean, rank: BoxRank): void {
	for (const [device, box] of Object.entries(boxes)) {
		if (!holds(device)) continue;
		const held = gen.boxBy.get(device);
		if (held !== undefined && held >= rank) continue;
		gen.boxes.set(device, box);
		gen.boxBy.set(device, rank);
	}
}
