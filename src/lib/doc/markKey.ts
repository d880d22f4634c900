/**
 * Map keys of signed marks (deletions, reactions, moderation, channel settings).
 *
 * Characters of a mark's signature end its map key. Map entries are set once, so a key anyone
 * can foresee can be taken first: a member wrote junk under the keys an admin's next marks
 * would use (its clock is predictable), and every replica then refused the admin's hide as an
 * overwrite (found in review). Nobody can foresee another's signature. Keys written before
 * this (without it) are still read.
 */

/** Separates the parts of a key; never appears in ids, emoji or clocks. */
const SEP = '\n';

/** Characters of the signature (base64) at the end of a key: 72 bits. */
export const KEY_SIG_CHARS = 12;

/** The map key of a mark: its fields, then the start of its signature. */
export function markKey(fields: readonly string[], sig: string): string {
	return [...fields, sig.slice(0, KEY_SIG_CHARS)].join(SEP);
}

/** Whether `key` names a mark with these fields: as written now, or as written before keys held a signature. */
export function keyNames(key: string, fields: readonly string[], sig: string): boolean {
	return key === markKey(fields, sig) || key === fields.join(SEP);
}
