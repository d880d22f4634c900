/**
 * A message to bring into view: opening a search result asks a channel (or AI chat) to
 * scroll to one message, focus it and highlight it. The element showing that message does
 * the scrolling and focusing once ({@link revealOn}) and then marks the request done, so a
 * message scrolled past later does not grab focus again; the highlight stays on it.
 */
import type { Attachment } from 'svelte/attachments';

/** One view's pending reveal request and highlighted message. */
export class RevealTarget {
	/** The message to scroll to and focus, until an element has done so. */
	pending = $state<string | undefined>();
	/** The message shown highlighted (the last one revealed). */
	current = $state<string | undefined>();

	/** Asks for `id` to be scrolled to, focused and highlighted. */
	show(id: string): void {
		this.pending = id;
		this.current = id;
	}

	/** Called once the element of `id` has been revealed. */
	done(id: string): void {
		if (this.pending === id) this.pending = undefined;
	}
}

/**
 * An attachment for the element of message `id`: when `target` asks for it, scrolls it to the
 * middle of its scroller and focuses it (the element needs `tabindex="-1"`).
 */
export function revealOn(target: RevealTarget, id: string): Attachment<HTMLElement> {
	return (node) => {
		if (target.pending !== id) return;
		// After layout: a windowed list positions its rows in the frame after they mount.
		const frame = requestAnimationFrame(() => {
			node.scrollIntoView({ block: 'center' });
			node.focus({ preventScroll: true });
			target.done(id);
		});
		return () => cancelAnimationFrame(frame);
	};
}
