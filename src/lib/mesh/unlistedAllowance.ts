/**
 * How many documents the workspace root does not list a replica takes from the members
 * (PROTOCOL.md "Limits"). An update can overtake the root change that lists its document (a
 * gossip race, a device whose root lags), so such documents are taken, but only so many: at
 * most {@link MAX_UNLISTED_PER_PERSON} per member (all its devices and tabs together: a member
 * names the person it speaks for, not a session, a device or a throwaway tab key) and
 * {@link MAX_UNLISTED_DOCS} per workspace, for as long as the replica runs. A document stops
 * counting once the root lists it. Found in review: the allowance was per session (and only in
 * the browser's store), so a member that opened session after session made a replica store
 * unlisted documents without end; the relay took them up to its whole quota.
 *
 * The bookkeeping is bounded by the documents it admits: at most {@link MAX_UNLISTED_DOCS}
 * entries, and a count per member that has one. Documents listed since are swept out when a
 * limit is reached, at most once per {@link SWEEP_GAP_MS}, so a member past its allowance costs
 * a lookup per update, not a sweep.
 *
 * A document taken and never listed stays stored and counted (never offered to anyone: sync
 * offers only what the root lists) until the replica restarts; one refused here is refused
 * with nothing stored.
 */

/** Unlisted documents one member may have a replica take (while the replica runs). */
export const MAX_UNLISTED_PER_PERSON = 100;
/** Unlisted documents a replica takes for one workspace in all (while it runs). */
export const MAX_UNLISTED_DOCS = 1000;
/** Least time between two sweeps of documents listed since they were taken. */
export const SWEEP_GAP_MS = 1000;

/** What a session or gossip asks of the allowance (TeamGate binds it to a peer). */
export interface UnlistedGate {
	admit(docId: string): UnlistedVerdict;
	release(docId: string): void;
}

/** What {@link UnlistedAllowance.admit} decided: taken now (undo with `release` if the apply fails), taken before, or refused. */
export type UnlistedVerdict = 'new' | 'known' | 'refused';

/** Options of an {@link UnlistedAllowance}. */
export interface UnlistedAllowanceInit {
	perPerson?: number;
	total?: number;
	now?: () => number;
}

/** The allowance of one workspace on one replica; see the module comment. */
export class UnlistedAllowance {
	/** Unlisted documents taken: id → the member (or peer) that brought it first. */
	private readonly taken = new Map<string, string>();
	private readonly perPerson = new Map<string, number>();
	private sweptAt = -Infinity;

	constructor(private readonly init: UnlistedAllowanceInit = {}) {}

	/** Unlisted documents counted now. */
	get size(): number {
		return this.taken.size;
	}

	/**
	 * Whether document `docId`, which the root does not list, may be taken from `person`.
	 * `isListed`: whether the root lists a document now (for the sweep).
	 */
	admit(docId: string, person: string, isListed: (docId: string) => boolean): UnlistedVerdict {
		if (this.taken.has(docId)) return 'known';
		if (!this.hasRoom(person)) {
			this.sweep(isListed);
			if (!this.hasRoom(person)) return 'refused';
		}
		this.taken.set(docId, person);
		this.perPerson.set(person, (this.perPerson.get(person) ?? 0) + 1);
		return 'new';
	}

	/** Forgets document `docId` (its apply failed: nothing of it was stored). */
	release(docId: string): void {
		const person = this.taken.get(docId);
		if (person === undefined) return;
		this.taken.delete(docId);
		const count = (this.perPerson.get(person) ?? 1) - 1;
		if (count > 0) this.perPerson.set(person, count);
		else this.perPerson.delete(person);
	}

	private hasRoom(person: string): boolean {
		return this.taken.size < (this.init.total ?? MAX_UNLISTED_DOCS) && (this.perPerson.get(person) ?? 0) < (this.init.perPerson ?? MAX_UNLISTED_PER_PERSON);
	}

	/** Forgets the documents the root lists by now, at most once per {@link SWEEP_GAP_MS}. */
	private sweep(isListed: (docId: string) => boolean): void {
		const now = (this.init.now ?? Date.now)();
		if (now - this.sweptAt < SWEEP_GAP_MS) return;
		this.sweptAt = now;
		for (const docId of [...this.taken.keys()]) if (isListed(docId)) this.release(docId);
	}
}
