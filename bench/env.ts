/** What every benchmark reads from its environment: Chromium's flags and numeric settings. */
import os from 'node:os';
import { CHROMIUM_ARGS as E2E_CHROMIUM_ARGS } from '../playwright.config.ts';

/** Chromium flags for a closed network (STACK-NOTES.md; the e2e suite's), headless. */
export const CHROMIUM_ARGS = ['--headless', ...E2E_CHROMIUM_ARGS];

/** A whole number ≥ 1 from the environment variable `name`, or `fallback` when unset. */
export function positiveInt(name: string, fallback: number): number {
	const text = process.env[name];
	if (text === undefined || text === '') return fallback;
	const n = Number(text);
	if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a whole number ≥ 1, not "${text}"`);
	return n;
}

/** Where a bench ran, for its JSON results: Node, CPUs, load, the browser, the network namespace. */
export function benchEnvironment(chromium?: string) {
	return {
		...(chromium !== undefined ? { chromium } : {}),
		node: process.version,
		cpus: os.cpus().length,
		cpu: os.cpus()[0]?.model,
		platform: `${os.platform()} ${os.release()}`,
		loadAverage: os.loadavg(),
		networkNamespace: process.env.OUTPOST_NETNS === '1'
	};
}
