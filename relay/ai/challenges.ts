/**
 * Single-use challenges for signed requests (src/lib/mesh/signedRequest.ts): random, short
 * lived, and spent by the first request that presents them, whether its signature holds or
 * not, so a request seen on the wire cannot be sent again. Bounded: beyond `max` outstanding
 * challenges the oldest are forgotten (their holders simply ask again).
 */
import { randomBytes } from 'node:crypto';

/** Options of {@link Challenges}. */
export interface ChallengesInit {
	/** How long a challenge stays valid, in ms; default 60,000. */
	ttlMs?: number;
	/** Most outstanding challenges; default 1024. */
	max?: number;
	/** The clock (tests); default `Date.now`. */
	now?: () => number;
}

/** See the module comment. */
export class Challenges {
	/** Outstanding challenges and when they expire, oldest first. */
	private readonly issued = new Map<string, number>();
	readonly ttlMs: number;
	private readonly max: number;
	private readonly now: () => number;

	constructor(init: ChallengesInit = {}) {
		this.ttlMs = init.ttlMs ?? 60_000;
		this.max = init.max ?? 1024;
		this.now = init.now ?? Date.now;
	}

	/** A fresh challenge (base64url, 32 random bytes). */
	issue(): string {
		this.prune();
		while (this.issued.size >= this.max) this.issued.delete(this.issued.keys().next().value!);
		const challenge = randomBytes(32).toString('base64url');
		this.issued.set(challenge, this.now() + this.ttlMs);
		return challenge;
	}

	/** Spends `challenge`: true once for a challenge issued and not expired, false ever after. */
	spend(challenge: string): boolean {
		const expires = this.issued.get(challenge);
		if (expires === undefined) return false;
		this.issued.delete(challenge);
		return expires > this.now();
	}

	private prune(): void {
		const now = this.now();
		for (const [challenge, expires] of this.issued) {
			if (expires > now) break; // oldest first, one lifetime for all: the rest are younger
			this.issued.delete(challenge);
		}
	}
}
