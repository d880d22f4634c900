/**
 * Single-use challenges for signed requests (src/lib/mesh/signedRequest.ts): random, short
 * lived, and spent by the first request that presents them, whether its signature holds or
 * not, so a request seen on the wire cannot be sent again. Bounded per asker (its address):
 * beyond `perAsker` outstanding challenges its own oldest is forgotten; and in all: beyond
 * `max`, the oldest challenge of the asker holding the most is forgotten. So a stranger asking
 * in a loop flushes only its own, never an honest client's (whose holder would have to ask again).
 */
import { randomBytes } from 'node:crypto';

/** Options of {@link Challenges}. */
export interface ChallengesInit {
	/** How long a challenge stays valid, in ms; default 60,000. */
	ttlMs?: number;
	/** Most outstanding challenges; default 4096. */
	max?: number;
	/** Most outstanding challenges of one asker; default 16. */
	perAsker?: number;
	/** The clock (tests); default `Date.now`. */
	now?: () => number;
}

/** See the module comment. */
export class Challenges {
	/** Outstanding challenges: when each expires and who asked, oldest first. */
	private readonly issued = new Map<string, { expires: number; asker: string }>();
	/** Each asker's outstanding challenges, oldest first. */
	private readonly byAsker = new Map<string, string[]>();
	readonly ttlMs: number;
	private readonly max: number;
	private readonly perAsker: number;
	private readonly now: () => number;

	constructor(init: ChallengesInit = {}) {
		this.ttlMs = init.ttlMs ?? 60_000;
		this.max = init.max ?? 4096;
		this.perAsker = init.perAsker ?? 16;
		this.now = init.now ?? Date.now;
	}

	/** A fresh challenge (base64url, 32 random bytes) for `asker` (its address). */
	issue(asker = ''): string {
		this.prune();
		const own = this.byAsker.get(asker) ?? [];
		while (own.length >= this.perAsker) this.forget(own[0]!);
		while (this.issued.size >= this.max) {
			let busiest: string[] | undefined;
			for (const list of this.byAsker.values()) if (busiest === undefined || list.length > busiest.length) busiest = list;
			this.forget(busiest![0]!);
		}
		const challenge = randomBytes(32).toString('base64url');
		this.issued.set(challenge, { expires: this.now() + this.ttlMs, asker });
		const list = this.byAsker.get(asker);
		if (list) list.push(challenge);
		else this.byAsker.set(asker, [challenge]);
		return challenge;
	}

	/** Spends `challenge`: true once for a challenge issued and not expired, false ever after. */
	spend(challenge: string): boolean {
		const entry = this.issued.get(challenge);
		if (entry === undefined) return false;
		this.forget(challenge);
		return entry.expires > this.now();
	}

	private forget(challenge: string): void {
		const entry = this.issued.get(challenge);
		if (entry === undefined) return;
		this.issued.delete(challenge);
		const list = this.byAsker.get(entry.asker);
		if (list === undefined) return;
		const at = list.indexOf(challenge);
		if (at >= 0) list.splice(at, 1);
		if (list.length === 0) this.byAsker.delete(entry.asker);
	}

	private prune(): void {
		const now = this.now();
		for (const [challenge, { expires }] of this.issued) {
			if (expires > now) break; // oldest first, one lifetime for all: the rest are younger
			this.forget(challenge);
		}
	}
}
