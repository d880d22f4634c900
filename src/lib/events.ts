/**
 * Typed event handlers for the services of this app (MeshService, SyncSession, the model
 * host and adverts, the models state): `on` returns the function that removes the handler,
 * `emit` calls every handler with a snapshot of the set, and a handler that throws is
 * reported and never stops the others or the emitter.
 */

/** See the module comment; `Events` maps event names to their handler types. */
export class Listeners<Events extends { [E in keyof Events]: (...args: never[]) => void }> {
	private readonly handlers = new Map<keyof Events, Set<Events[keyof Events]>>();

	/** @param owner names the emitter in the report of a handler that threw */
	constructor(private readonly owner: string) {}

	/** Adds a handler; returns a function that removes it. */
	on<E extends keyof Events>(event: E, handler: Events[E]): () => void {
		let set = this.handlers.get(event);
		if (set === undefined) this.handlers.set(event, (set = new Set()));
		set.add(handler);
		return () => set.delete(handler);
	}

	/** How many handlers `event` has. */
	count(event: keyof Events): number {
		return this.handlers.get(event)?.size ?? 0;
	}

	/** Calls every handler of `event`; see the module comment. */
	emit<E extends keyof Events>(event: E, ...args: Parameters<Events[E]>): void {
		const set = this.handlers.get(event);
		if (set === undefined) return;
		for (const handler of [...set]) {
			try {
				(handler as (...a: Parameters<Events[E]>) => void)(...args);
			} catch (error) {
				console.error(`${this.owner} ${String(event)} handler threw`, error);
			}
		}
	}
}
