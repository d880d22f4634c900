/**
 * Names that look the same. A member's display name is its own to choose, so Mallory can call
 * herself "Alice", "alice ", "Аlice" (a Cyrillic А) or "Al\u00ADice" (a soft hyphen), and her
 * messages would look like Alice's. {@link nameSkeleton} reduces a name to what a reader sees:
 * NFKC (full-width and styled letters become plain ones), invisible and format characters
 * removed, case folded, white space collapsed, and the usual look-alikes (Cyrillic and Greek
 * letters shaped like Latin ones, I/l/1, 0/O, "rn"/"m", "vv"/"w") made one letter. It is a
 * small hand table, not Unicode's whole confusables list: it errs towards calling two names
 * alike, which costs only a suffix (see {@link distinctLabels}).
 */

/** Look-alikes, mapped to the Latin letter they pass for (before case folding, so capitals map to capitals). */
const CONFUSABLE: Record<string, string> = {
	// Cyrillic capitals
	'А': 'A', 'В': 'B', 'Е': 'E', 'Ѕ': 'S', 'І': 'I', 'Ј': 'J', 'К': 'K', 'М': 'M', 'Н': 'H', 'О': 'O', 'Р': 'P', 'С': 'C', 'Т': 'T', 'У': 'Y', 'Х': 'X', 'Ү': 'Y', 'Һ': 'H', 'Ԁ': 'D', 'Ԛ': 'Q', 'Ԝ': 'W', 'Ӏ': 'l',
	// Cyrillic small letters
	'а': 'a', 'с': 'c', 'ԁ': 'd', 'е': 'e', 'һ': 'h', 'і': 'i', 'ј': 'j', 'ӏ': 'l', 'о': 'o', 'р': 'p', 'ԛ': 'q', 'ѕ': 's', 'ԝ': 'w', 'х': 'x', 'у': 'y', 'ү': 'y', 'ɡ': 'g',
	// Greek capitals
	'Α': 'A', 'Β': 'B', 'Ε': 'E', 'Ζ': 'Z', 'Η': 'H', 'Ι': 'I', 'Κ': 'K', 'Μ': 'M', 'Ν': 'N', 'Ο': 'O', 'Ρ': 'P', 'Τ': 'T', 'Υ': 'Y', 'Χ': 'X',
	// Greek small letters
	'α': 'a', 'ι': 'i', 'κ': 'k', 'ν': 'v', 'ο': 'o', 'ρ': 'p', 'υ': 'u', 'χ': 'x', 'γ': 'y',
	// Latin and digits that pass for each other: I, l, 1, |, dotless ı are one stroke; 0 is O.
	'I': 'l', 'i': 'l', 'ı': 'l', '1': 'l', '|': 'l', '0': 'o'
};

/** Invisible characters: default-ignorable code points (soft hyphen, zero-width, variation selectors, fillers), format and control characters, the blank braille pattern. */
const INVISIBLE = /[\p{Default_Ignorable_Code_Point}\p{Cf}\p{Cc}\u2800]/gu;

/** Letter pairs that pass for one letter. */
const PAIRS: Array<[RegExp, string]> = [
	[/rn/g, 'm'],
	[/vv/g, 'w']
];

/** What `name` looks like, for comparing names: equal skeletons look the same (see the module comment). */
export function nameSkeleton(name: string): string {
	let s = name.normalize('NFKC').replace(INVISIBLE, '');
	s = [...s].map((c) => CONFUSABLE[c] ?? c).join('');
	// Folded twice around the table: capitals map to capitals, and "I" and "i" meet at "l".
	s = s.toLowerCase();
	s = [...s].map((c) => CONFUSABLE[c] ?? c).join('');
	for (const [pair, one] of PAIRS) s = s.replace(pair, one);
	return s.replace(/\s+/g, ' ').trim();
}

/** A member's id with the name it shows (already on one line; '' for none). */
export interface NamedMember {
	id: string;
	label: string;
}

/** The id's tail shown after a name that looks like another's, `(…a1b2c3)`; longer at each `level`, the whole id at the last. */
function suffixed(label: string, id: string, level: number): string {
	const tail = level >= 3 ? id : id.slice(-6 * level);
	return `${label} (…${tail})`;
}

/**
 * The label each current member is shown with: its own when no other current member's looks
 * the same (same {@link nameSkeleton}), else its own with the tail of its member id, for every
 * member that shares it. Every one, not all but the first: the fold's order says who joined
 * first, not who took the name first (a member may rename herself to an older member's name
 * after a newcomer took it), so no one keeps the plain name and a reader sees at once that two
 * members look alike. A suffixed label that still looks like another label (a member named
 * "Alice (…a1b2c3)", or two ids ending alike) gets a longer tail, then the whole id.
 */
export function distinctLabels(members: readonly NamedMember[]): Map<string, string> {
	const level = new Map<string, number>(members.map((m) => [m.id, 0]));
	const labelOf = (m: NamedMember) => {
		const l = level.get(m.id) ?? 0;
		return l === 0 ? m.label : suffixed(m.label, m.id, l);
	};
	for (let round = 0; round < 3; round++) {
		const groups = new Map<string, NamedMember[]>();
		for (const m of members) {
			const key = nameSkeleton(labelOf(m));
			// Added in place: a copy per member made a name shared by thousands cost seconds per fold.
			const group = groups.get(key);
			if (group === undefined) groups.set(key, [m]);
			else group.push(m);
		}
		const alike = [...groups.values()].filter((g) => g.length > 1);
		if (alike.length === 0) break;
		for (const group of alike) for (const m of group) level.set(m.id, (level.get(m.id) ?? 0) + 1);
	}
	return new Map(members.map((m) => [m.id, labelOf(m)]));
}

/**
 * The label of a removed member (its old messages still show its name): its own, unless it
 * looks like a current member's label (`current`, their skeletons), then with its id's tail
 * (or the whole id, if that still looks like one). A removed member does not make a current
 * one take a suffix: the team's members are who the reader deals with now, and a name left
 * behind by someone gone should not change theirs.
 */
export function removedLabel(member: NamedMember, current: ReadonlySet<string>): string {
	if (!current.has(nameSkeleton(member.label))) return member.label;
	const short = suffixed(member.label, member.id, 1);
	return current.has(nameSkeleton(short)) ? suffixed(member.label, member.id, 3) : short;
}
