/**
 * The end-to-end suite's `test`: Playwright's, with every page watched for uncaught errors and
 * `console.error` messages. A test fails on any it did not say it expects
 * ({@link expectPageErrors}), so a bug that only shows as an error in the console (a delayed
 * callback throwing after the user left a channel, say) fails the suite.
 *
 * Pages of Playwright's own `context` and `page` fixtures are watched by themselves; a context a
 * test makes itself (another device, a persistent profile) is watched once given to
 * {@link watchContext} (devices.ts does that for every device).
 */
import { test as base, type BrowserContext, type Page } from '@playwright/test';

export { expect } from '@playwright/test';

/** What the pages of one test reported. */
class PageProblems {
	readonly seen: string[] = [];
	readonly expected: RegExp[] = [];
	private readonly contexts = new WeakSet<BrowserContext>();
	private readonly pages = new WeakSet<Page>();

	watchContext(context: BrowserContext): void {
		if (this.contexts.has(context)) return;
		this.contexts.add(context);
		for (const page of context.pages()) this.watchPage(page);
		context.on('page', (page) => this.watchPage(page));
	}

	watchPage(page: Page): void {
		if (this.pages.has(page)) return;
		this.pages.add(page);
		page.on('pageerror', (error) => this.seen.push(`uncaught ${error.name}: ${error.message}`));
		page.on('console', (message) => {
			if (message.type() !== 'error') return;
			const { url, lineNumber } = message.location();
			this.seen.push(`console.error: ${message.text()}${url ? ` (${url}:${lineNumber})` : ''}`);
		});
	}

	unexpected(): string[] {
		return this.seen.filter((problem) => !this.expected.some((pattern) => pattern.test(problem)));
	}
}

/** The running test's problems (tests run one at a time in a worker). */
let current: PageProblems | undefined;

/** Watches the pages of a context the test made itself. */
export function watchContext(context: BrowserContext): void {
	current?.watchContext(context);
}

/**
 * Says the running test expects page errors or console errors matching `patterns` (a relay it
 * stops, a broken file it imports); anything else still fails it.
 */
export function expectPageErrors(...patterns: RegExp[]): void {
	current?.expected.push(...patterns);
}

export const test = base.extend<{ pageProblems: PageProblems }>({
	pageProblems: [
		// eslint-disable-next-line no-empty-pattern -- Playwright reads a fixture's dependencies from this pattern
		async ({}, use) => {
			const problems = new PageProblems();
			current = problems;
			try {
				await use(problems);
			} finally {
				current = undefined;
			}
			const unexpected = problems.unexpected();
			if (unexpected.length > 0) throw new Error(`the pages reported ${unexpected.length} unexpected error(s):\n${unexpected.join('\n')}`);
		},
		{ auto: true }
	],
	context: async ({ context, pageProblems }, use) => {
		pageProblems.watchContext(context);
		await use(context);
	}
});
