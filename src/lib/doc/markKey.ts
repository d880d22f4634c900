/**
 * Map keys of signed marks (deletions, reactions, moderation, channel settings).
 *
 * A key names everything the mark's signature covers, then the whole signature. Map entries are
 * set once, so a key anyone can foresee could be taken first: a member wrote junk under the keys
 * an admin's next marks would use (its clock is predictable), and every replica then refused
 * the admin's hide as an overwrite (found in review). With the signature in the key nobody can
 * foresee it, and the write policies take under a key of this shape only the very mark it
 * names ({@link fitsKey}), so a peer that saw a mark first (relaying it) cannot put anything
 * else under its key either. Keys written before this (the mark's fields without its value
 * and signature) are still read; no mark written now uses one.
 */

/** Separates the parts of a key; never appears in ids, emoji, clocks, JSON or base64. */
const SEP = '\n';

/** The map key of a mark: the fields that name it, what it says, then its signature. */
export function markKey(fields: readonly string[], says: readonly string[], sig: string): string {
	return [...fields, ...says, sig].join(SEP);
}

/** Whether `key` names a mark: as written now, or as written before keys held what it says and its signature. */
export function keyNames(key: string, fields: readonly string[], says: readonly string[], sig: string): boolean {
	return key === markKey(fields, says, sig) || key === fields.join(SEP);
}

/**
 * The write policies' check of one entry of a map of marks: under a key of the shape written now
 * (`parts` parts), only the mark whose key it is; older shapes as before (views check them).
 */
export function fitsKey(key: string, parts: number, value: unknown, keyOf: (value: unknown) => string | undefined): boolean {
	return key.split(SEP).length !== parts || keyOf(value) === key;
}
