/**
 * The team's rules for the sessions and gossip of one workspace, as the mesh service applies
 * them (PROTOCOL.md "Membership"): to whom this peer names the workspace, whom it serves,
 * which gossip publishers it hears, and which tabs it admitted by the delegation in their
 * HELLO. Without an authority every rule says yes (tests of the sync protocol itself).
 */
import { decodeOp } from '../doc/team/ops.js';
import type { AdmitVerdict, MeshAuthority } from './authority.js';
import type { SyncDocs } from './syncDocs.js';
import { UnlistedAllowance, type UnlistedAllowanceInit, type UnlistedGate } from './unlistedAllowance.js';

/** Tabs remembered past which an admission sweeps out those the authority no longer holds. */
const PROVISIONAL_SWEEP = 64;

/** See the module comment. */
export class TeamGate {
	/**
	 * Openers admitted by an admission that does not make them member devices (a tab's
	 * delegation): peer id → the admission, re-checked on every change of the team.
	 */
	private readonly provisional = new Map<string, Uint8Array>();

	/** Documents the root does not list, taken from the members (unlistedAllowance.ts). */
	private readonly unlisted: UnlistedAllowance;

	constructor(
		readonly authority: MeshAuthority | undefined,
		allowance: UnlistedAllowanceInit = {}
	) {
		this.unlisted = new UnlistedAllowance(allowance);
	}

	/**
	 * The unlisted-document allowance as it applies to updates from `peerId` (a session's peer,
	 * gossip's signed publisher; undefined: an unsigned publisher): counted per member, whichever
	 * of its devices or tabs sends. A document the workspace names (`docs.isListed`), or a
	 * private space's (which `mayAccept` decides), does not count.
	 */
	unlistedFor(peerId: string | undefined, docs: SyncDocs): UnlistedGate {
		const a = this.authority;
		// The member this gate's peer spoke for when first asked, kept for the gate's life (a
		// session's). Found in review: a tab's delegation lapses (it expires, or the device admits
		// more tabs and the authority forgets the oldest) while its session runs, and the peer
		// then named no member: each lapsed tab counted as a fresh "peer", so one member with one
		// device opened tab after tab and filled the workspace's whole allowance.
		let member: string | undefined;
		return {
			admit: (docId) => {
				if (docs.isListed === undefined || docs.isListed(docId) || a?.spaceAccess?.(docId) !== undefined) return 'known';
				if (peerId !== undefined) member ??= memberKey(a, peerId);
				const person = peerId === undefined ? 'unsigned' : (member ?? strangerKey(a, peerId));
				if (person === undefined) return 'refused';
				return this.unlisted.admit(docId, person, (id) => docs.isListed!(id));
			},
			release: (docId) => this.unlisted.release(docId)
		};
	}

	/**
	 * Whether `peerId` was admitted by a delegation that the authority still holds: it keeps a
	 * few tabs per device and forgets an expired one (TeamAuthority `deviceOf`). Found in
	 * review: the gate kept its own copy, so a tab the authority had pushed out or whose
	 * delegation had expired was still served and heard, and the copy grew without bound.
	 */
	private admittedTab(peerId: string): boolean {
		if (!this.provisional.has(peerId)) return false;
		const deviceOf = this.authority?.deviceOf;
		return deviceOf === undefined || deviceOf.call(this.authority, peerId) !== undefined;
	}

	/** Forgets the tabs the authority no longer holds (run as admissions add tabs, and on team changes). */
	private forgetLapsed(): number {
		let lapsed = 0;
		for (const peerId of this.provisional.keys()) {
			if (this.admittedTab(peerId)) continue;
			this.provisional.delete(peerId);
			lapsed++;
		}
		return lapsed;
	}

	/**
	 * Whether this peer may name the workspace to `peerId` in a HELLO: a member names it only
	 * to current member devices, so a stranger that connects learns no workspace id. A joiner
	 * (not admitted yet) names it to any peer, with its admission.
	 */
	mayOpen(peerId: string): boolean {
		const a = this.authority;
		if (a === undefined) return true;
		return !a.excluded && (!a.joined || a.isMember(peerId));
	}

	/** Whether a session with `peerId` in `role` (this peer's) may run. */
	mayServe(peerId: string, role: 'opener' | 'responder'): boolean {
		const a = this.authority;
		if (a === undefined) return true;
		if (a.excluded) return false;
		if (a.isMember(peerId) || this.admittedTab(peerId)) return true;
		// A joiner has no team to check a responder against yet; what it receives is checked
		// when folded (the root must certify the workspace id).
		return role === 'opener' && !a.joined;
	}

	/** True while this device joins: its team does not count it yet (and did not remove it). */
	get joining(): boolean {
		const a = this.authority;
		return a !== undefined && !a.joined && !a.excluded;
	}

	/** Whether gossip published by `peerId` is heard. */
	hears(peerId: string): boolean {
		return this.authority === undefined || this.authority.isMember(peerId) || this.admittedTab(peerId);
	}

	/**
	 * Whether document `docId` may go to `peerId` (named in a digest, answered, forwarded
	 * live): a private space's only to its members' devices; any other only when the
	 * workspace names it to every member (`docs.isListed`). A note never goes from a device
	 * that does not carry note content (a guest's): the peer would refuse what it brings and
	 * end the session.
	 */
	mayShare(peerId: string, docId: string, docs: SyncDocs): boolean {
		const a = this.authority;
		if (a === undefined) return true;
		if (withholdsNote(a, docId, docs)) return false;
		const space = a.spaceAccess?.(docId);
		if (space !== undefined) return space.reads(peerId);
		return docs.isListed?.(docId) ?? true;
	}

	/**
	 * Whether an update of `docId` from `peerId` is taken: not a private space's unless both
	 * sides are in it. Asked after the team changes received so far are folded (the update
	 * that adds this device to a space comes just before the space's history).
	 */
	mayAccept(peerId: string, docId: string): boolean | Promise<boolean> {
		const a = this.authority;
		if (a?.spaceAccess === undefined) return true;
		const accepts = () => {
			const space = a.spaceAccess!(docId);
			return space === undefined || (space.local && space.reads(peerId));
		};
		// Most updates pass at once; a refusal is asked again once the team has caught up.
		if (accepts()) return true;
		return (a.settled?.() ?? Promise.resolve()).then(accepts);
	}

	/**
	 * Whether `peerId` may store and fetch sealed updates of `docId` here: only
	 * a private space's document, only where this replica is not in the space (it keeps what it
	 * cannot read), and only for a device of one of the space's members.
	 */
	maySeal(peerId: string, docId: string): boolean {
		const space = this.authority?.spaceAccess?.(docId);
		return space !== undefined && !space.local && space.reads(peerId);
	}

	/**
	 * Whether `docId` may travel on the workspace's gossip, which every member reads: never a
	 * private space's, and no note from a device that does not carry note content.
	 */
	mayGossip(docId: string, docs: SyncDocs): boolean {
		const a = this.authority;
		if (a === undefined) return true;
		if (withholdsNote(a, docId, docs)) return false;
		return a.spaceAccess?.(docId) === undefined && (docs.isListed?.(docId) ?? true);
	}

	/** Whether a gossip update of `docId` is taken: never a private space's (they do not travel on gossip). */
	acceptsGossip(docId: string): boolean {
		return this.authority?.spaceAccess?.(docId) === undefined;
	}

	/** This peer's admission, for its HELLOs. */
	admission(): Uint8Array | undefined {
		return this.authority?.admission();
	}

	/**
	 * The responder's check of an opener's admission (undefined without an authority). A team
	 * operation admits only once the team counts its device: the authority adds the operation
	 * to its roster before it answers (TeamAuthority.admits), so the device shows in the team,
	 * uses up its invitation and can be removed. One answered 'ok' but not counted would admit
	 * a device nobody sees, and is refused.
	 */
	get admits(): ((peerId: string, admission: Uint8Array) => Promise<AdmitVerdict>) | undefined {
		const a = this.authority;
		if (a === undefined) return undefined;
		return async (peerId, admission) => {
			const verdict = await a.admits(peerId, admission);
			if (verdict !== 'ok' || a.isMember(peerId)) return verdict;
			if (isTeamOp(admission)) return 'refused';
			this.provisional.set(peerId, admission);
			if (this.provisional.size > PROVISIONAL_SWEEP) this.forgetLapsed();
			return verdict;
		};
	}

	/**
	 * After a change of the team: forgets provisional admissions the team now counts, and
	 * re-checks the others; `onLapse` runs when one no longer admits its peer.
	 */
	revisit(onLapse: () => void): void {
		const a = this.authority;
		if (a === undefined) return;
		if (this.forgetLapsed() > 0) onLapse();
		for (const [peerId, admission] of this.provisional) {
			if (a.isMember(peerId)) {
				this.provisional.delete(peerId);
				continue;
			}
			void a.admits(peerId, admission).then((verdict) => {
				if (verdict === 'ok' || this.provisional.get(peerId) !== admission) return;
				this.provisional.delete(peerId);
				onLapse();
			});
		}
	}

	/** Calls `handler` after every change of the team; returns a function that removes it. */
	onChange(handler: () => void): () => void {
		return this.authority?.onChange(handler) ?? (() => {});
	}
}

/** The member an update from `peerId` counts against, if the authority names one. */
function memberKey(a: MeshAuthority | undefined, peerId: string): string | undefined {
	const person = a?.personOf?.(peerId);
	return person === undefined ? undefined : `member:${person}`;
}

/**
 * Whom an update from `peerId`, which names no member, counts against: its device, else the
 * peer itself, where the team cannot tell (no authority, one without members' names, or this
 * device still joining). Undefined, that is refused, where a joined team names no member for
 * it: a lapsed tab, or a peer that is no member at all.
 */
function strangerKey(a: MeshAuthority | undefined, peerId: string): string | undefined {
	if (a !== undefined && a.personOf !== undefined && a.joined && !a.excluded) return undefined;
	return `peer:${a?.deviceOf?.(peerId) ?? peerId}`;
}

/** Whether `bytes` decode as a team operation (else they may be a tab's delegation). */
function isTeamOp(bytes: Uint8Array): boolean {
	try {
		decodeOp(bytes);
		return true;
	} catch {
		return false;
	}
}

/** Whether this device keeps note `docId` to itself: it carries no note content (a guest's), so a peer would refuse it. */
function withholdsNote(a: MeshAuthority, docId: string, docs: SyncDocs): boolean {
	return a.carrier === false && docs.isNote?.(docId) === true;
}
