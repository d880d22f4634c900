/** Lists of names in a sentence, in the chosen language ("Ada, Bea and Cy"; "Ada、Bea和Cy"). */

/** Joins `items` as a list ("and") in `locale`'s words and punctuation. */
export function formatList(items: readonly string[], locale: string | null | undefined): string {
	try {
		return new Intl.ListFormat(locale ?? undefined, { style: 'long', type: 'conjunction' }).format(items);
	} catch {
		// An unknown locale tag: the runtime's own language rather than nothing.
		return new Intl.ListFormat(undefined, { style: 'long', type: 'conjunction' }).format(items);
	}
}
