/**
 * Keyboard movement inside a menu (WAI-ARIA menu pattern): ArrowDown and ArrowUp step through
 * the entries, wrapping around; Home and End go to the first and the last.
 */

/** Moves focus among `entries` for `e`'s key; true when the key was one of these (and handled). */
export function moveMenuFocus(e: KeyboardEvent, entries: HTMLElement[]): boolean {
	const at = entries.indexOf(document.activeElement as HTMLElement);
	if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
		e.preventDefault();
		const step = e.key === 'ArrowDown' ? 1 : -1;
		entries[(at + step + entries.length) % entries.length]?.focus();
		return true;
	}
	if (e.key === 'Home' || e.key === 'End') {
		e.preventDefault();
		entries[e.key === 'Home' ? 0 : entries.length - 1]?.focus();
		return true;
	}
	return false;
}
