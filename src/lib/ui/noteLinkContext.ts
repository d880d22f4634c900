/**
 * How rendered Markdown anywhere on the page opens a `[[Note title]]` link: the page sets
 * a handler in the Svelte context, and Markdown.svelte calls it with the linked title.
 */
import { getContext, setContext } from 'svelte';

/** Opens the note a link names. */
export type NoteLinkHandler = (title: string) => void;

const KEY = Symbol('note-links');

/** Sets the handler for the components below the caller. */
export function setNoteLinkHandler(handler: NoteLinkHandler): void {
	setContext(KEY, handler);
}

/** The handler set above the caller, if any. */
export function getNoteLinkHandler(): NoteLinkHandler | undefined {
	return getContext<NoteLinkHandler | undefined>(KEY);
}
