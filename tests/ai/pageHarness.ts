/**
 * What the Chromium engine tests share: the relay's HTTP server serving a built test page and
 * model files, and calls into the page's module.
 */
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';

/** The relay's HTTP server as these tests use it. */
export interface ModelRelay {
	url: string;
	close(): Promise<void>;
}

/**
 * Starts the relay's HTTP server (relay/server.ts) with its model files (relay/models.ts) on
 * 127.0.0.1, serving the page from `app`. Imported at run time: relay/ is Node code with
 * `.ts` import paths, which the app's type check (svelte-check, which covers tests/) does
 * not accept.
 */
export async function startModelRelay(app: string, models: string): Promise<ModelRelay> {
	const relayFile = (name: string) => fileURLToPath(new URL(`../../relay/${name}`, import.meta.url));
	const { startRelay } = (await import(/* @vite-ignore */ relayFile('server.ts'))) as {
		startRelay(init: { root: string; host: string; port: number; signalling: false; models: unknown }): Promise<ModelRelay>;
	};
	const { createModelFilesHandler } = (await import(/* @vite-ignore */ relayFile('models.ts'))) as {
		createModelFilesHandler(init: { dir: string }): unknown;
	};
	return startRelay({ root: app, host: '127.0.0.1', port: 0, signalling: false, models: createModelFilesHandler({ dir: models }) });
}

/** Calls an export of the page's module (`/mesh.js`, the built entry) with JSON arguments. */
export function callPage<T>(page: Page, name: string, ...args: unknown[]): Promise<T> {
	return page.evaluate(`(async () => (await import('/mesh.js'))[${JSON.stringify(name)}](...${JSON.stringify(args)}))()`) as Promise<T>;
}
