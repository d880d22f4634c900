/**
 * Reciprocal rank fusion (Cormack, Clarke and Büttcher, SIGIR 2009): several rankings of the
 * same items become one, each item scoring Σ 1 / (k + rank) over the rankings that hold it
 * (ranks from 1). Only ranks count, so BM25 scores and cosine similarities, which have no
 * common scale, combine without tuning; k = 60 damps the head of each list as in the paper.
 */

/** The paper's constant. */
export const RRF_K = 60;

/** An item of the fused ranking: its score and its rank (from 1) in each input, if there. */
export interface Fused {
	id: string;
	score: number;
	ranks: (number | undefined)[];
}

/** Fuses rankings of ids (best first), best first; ties keep the earlier ranking's order. */
export function reciprocalRankFusion(rankings: readonly (readonly string[])[], k = RRF_K): Fused[] {
	const fused = new Map<string, Fused>();
	rankings.forEach((ranking, list) => {
		ranking.forEach((id, i) => {
			let item = fused.get(id);
			if (!item) fused.set(id, (item = { id, score: 0, ranks: rankings.map(() => undefined) }));
			if (item.ranks[list] !== undefined) return; // an id listed twice counts once, at its best rank
			item.ranks[list] = i + 1;
			item.score += 1 / (k + i + 1);
		});
	});
	return [...fused.values()].sort((a, b) => b.score - a.score || firstRank(a) - firstRank(b));
}

/** The item's best position in the earliest ranking that holds it, for ties. */
function firstRank(item: Fused): number {
	for (let list = 0; list < item.ranks.length; list++) {
		const rank = item.ranks[list];
		if (rank !== undefined) return list * 1e9 + rank;
	}
	return Infinity;
}
