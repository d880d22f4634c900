/**
 * Components fetched on demand: the notes editor, the AI chat pane and the rarely opened
 * dialogs are split out of the first load and fetched the first time they are shown
 * ({@link ComponentLoader}, rendered through `Lazy.svelte`).
 */
import type { Component } from 'svelte';

/**
 * A component's code, fetched once on first use. `current` is the component once it has
 * arrived (reactive), so later mounts render at once instead of showing a loading state.
 */
export class ComponentLoader<Props extends Record<string, any>> {
	/** The component, once fetched. */
	current = $state.raw<Component<Props> | undefined>();
	#fetching: Promise<Component<Props>> | undefined;

	constructor(private readonly loader: () => Promise<{ default: Component<Props> }>) {}

	/** Fetches the component (once; a failed fetch is tried again on the next call). */
	fetch(): Promise<Component<Props>> {
		this.#fetching ??= this.loader().then(
			(module) => (this.current = module.default),
			(error: unknown) => {
				this.#fetching = undefined;
				throw error;
			}
		);
		return this.#fetching;
	}

	/** Starts fetching ahead of use (when what shows the component is about to be opened). */
	prefetch(): void {
		this.fetch().catch(() => undefined);
	}
}

/** A {@link ComponentLoader} over `() => import('./X.svelte')`. */
export function lazyComponent<Props extends Record<string, any>>(
	loader: () => Promise<{ default: Component<Props> }>
): ComponentLoader<Props> {
	return new ComponentLoader(loader);
}
