/**
 * `peers` reordered so that each person comes once before anyone comes twice (then twice before
 * thrice), keeping their order otherwise: a huddle calls its first few, and one member's many
 * tabs (a device may hold 16) must not take every place (found in review). `personOf` names a
 * peer's member (a peer it cannot place counts as its own person).
 */
export function fairOrder(peers: readonly string[], personOf: (peerId: string) => string | undefined): string[] {
	const rounds: string[][] = [];
	const seen = new Map<string, number>();
	for (const peer of peers) {
		const person = personOf(peer) ?? peer;
		const round = seen.get(person) ?? 0;
		seen.set(person, round + 1);
		(rounds[round] ??= []).push(peer);
	}
	return rounds.flat();
}
