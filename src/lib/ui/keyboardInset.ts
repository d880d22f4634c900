/**
 * Keeps the composer above a phone's on-screen keyboard where the browser does not shrink the
 * page for it. Chrome on Android honours `interactive-widget=resizes-content` (src/app.html): the
 * layout viewport, and with it the `100dvh` shell, shrinks when the keyboard opens. iOS Safari
 * only shrinks the visual viewport and lays the keyboard over the page, so there the height it
 * covers is published as the CSS variable `--keyboard-inset`, which the app shell uses as its
 * bottom padding. Where the page is resized instead, the visual viewport fills the layout one and
 * the inset stays 0.
 */

/** The CSS custom property set on the root element, in CSS pixels. */
export const KEYBOARD_INSET_PROPERTY = '--keyboard-inset';

/**
 * The height at the bottom of the layout viewport that the visual viewport does not show (the
 * keyboard's), clamped at 0. While the page is pinch-zoomed the visual viewport is smaller for
 * another reason, so the inset is 0 then.
 */
export function keyboardInset(innerHeight: number, viewport: Pick<VisualViewport, 'height' | 'offsetTop' | 'scale'>): number {
	if (Math.abs(viewport.scale - 1) > 0.01) return 0;
	return Math.max(0, Math.round(innerHeight - viewport.height - viewport.offsetTop));
}

/**
 * Follows `window.visualViewport` and keeps `--keyboard-inset` on `root` up to date; returns the
 * function that stops (and removes the property). Does nothing where there is no visual viewport.
 */
export function trackKeyboardInset(root: HTMLElement = document.documentElement): () => void {
	const viewport = window.visualViewport;
	if (!viewport) return () => {};
	const update = () => root.style.setProperty(KEYBOARD_INSET_PROPERTY, `${keyboardInset(window.innerHeight, viewport)}px`);
	update();
	viewport.addEventListener('resize', update);
	viewport.addEventListener('scroll', update);
	return () => {
		viewport.removeEventListener('resize', update);
		viewport.removeEventListener('scroll', update);
		root.style.removeProperty(KEYBOARD_INSET_PROPERTY);
	};
}
