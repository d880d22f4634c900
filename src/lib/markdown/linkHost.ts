/**
 * Links whose visible text could mislead about where they go. A member writes both the text
 * and the target of `[https://bank.example](https://evil.example)`, so the renderer adds the
 * real host to the text of such a link (render.ts). It also does for a target whose host is
 * an internationalised name (`xn--…`): the text shows `bаnk.example` with a Cyrillic "а", the
 * notice shows the host as the browser will look it up.
 */

/** Web-address-looking pieces of link text: an optional scheme, labels, a letters-only top label. */
const ADDRESS = /(?:https?:\/\/)?(?:[\p{L}\p{N}-]+\.)+\p{L}{2,}(?![\p{L}\p{N}-])/giu;

/** Stands for the page's own origin when resolving a target (render.ts allows relative ones). */
const PAGE = 'https://outpost.invalid/';

/**
 * The host of a link target, or undefined for targets without one (mailto:, tel:) and for
 * relative ones, which stay on this app. A protocol-relative `//evil.example` has a host.
 */
function hostOf(href: string): string | undefined {
	try {
		const url = new URL(href, PAGE);
		if (url.origin === new URL(PAGE).origin) return undefined;
		return url.protocol === 'http:' || url.protocol === 'https:' ? url.hostname : undefined;
	} catch {
		return undefined;
	}
}

/** The host a piece of text names, as the URL parser writes it (lower case, punycode). */
function namedHost(piece: string): string | undefined {
	try {
		return new URL(/^https?:\/\//i.test(piece) ? piece : `https://${piece}`).hostname;
	} catch {
		return undefined;
	}
}

/** Whether a link to `target` goes where text naming `named` says: the same host or one under it. */
function sameSite(named: string, target: string): boolean {
	const bare = named.replace(/^www\./, '');
	const to = target.replace(/^www\./, '');
	return to === bare || to.endsWith(`.${bare}`);
}

/**
 * The host to show next to a link's text, or undefined when the text does not mislead: when
 * the text names a web address on another site, or the target's host is internationalised.
 */
export function misleadingLinkHost(text: string, href: string): string | undefined {
	const target = hostOf(href);
	if (target === undefined) return undefined;
	if (target.split('.').some((label) => label.startsWith('xn--'))) return target;
	for (const [piece] of text.matchAll(ADDRESS)) {
		const named = namedHost(piece);
		if (named !== undefined && !sameSite(named, target)) return target;
	}
	return undefined;
}
