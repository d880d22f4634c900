/**
 * `Promise.withResolvers` for runtimes that lack it. libp2p 3 calls it all over its
 * stream and dial code; Node 20 and browsers older than Chrome 119 / Safari 17.4 do
 * not have it. Import this module before libp2p in every entry point; importing it
 * twice is harmless.
 *
 * It has no imports of its own, so it is safe in the browser bundle. The Node-only
 * part (a global `WebSocket`) lives in `polyfills.node.ts`.
 */

interface Resolvers<T> {
	promise: Promise<T>;
	resolve: (value: T | PromiseLike<T>) => void;
	reject: (reason?: unknown) => void;
}

const promiseCtor = Promise as unknown as { withResolvers?: <T>() => Resolvers<T> };

if (typeof promiseCtor.withResolvers !== 'function') {
	Object.defineProperty(Promise, 'withResolvers', {
		configurable: true,
		writable: true,
		value: function withResolvers<T>(this: PromiseConstructor): Resolvers<T> {
			let resolve!: Resolvers<T>['resolve'];
			let reject!: Resolvers<T>['reject'];
			// Honour subclasses, as the built-in does (`MyPromise.withResolvers()`).
			const Ctor = typeof this === 'function' ? this : Promise;
			const promise = new Ctor<T>((res, rej) => {
				resolve = res;
				reject = rej;
			});
			return { promise, resolve, reject };
		}
	});
}

export {};
