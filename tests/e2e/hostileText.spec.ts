/**
 * Another member's text stays inside its message, as the browser lays it out (Markdown.svelte's
 * CSS): an unbroken 3,000-character word wraps, and a 30-column table keeps its words and
 * scrolls inside the message (words breaking anywhere had squeezed it into one letter per line).
 * The unit tests check the HTML; these check what Chromium lays out. (Stacked combining marks
 * are clipped by the same CSS, but Debian's fonts draw them on top of each other, not stacked,
 * so this browser cannot show the difference.)
 */
import type { Locator, Page } from '@playwright/test';
import { expect, test } from './suite';
import { createWorkspace, message, openApp, post } from './helpers';

/** Whether the page itself scrolls sideways (a message wider than the window). */
async function pageOverflows(page: Page): Promise<boolean> {
	return page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth);
}

/** The right edge of `inner`'s laid-out box, and of `outer`'s. */
async function rightEdges(inner: Locator, outer: Locator): Promise<{ inner: number; outer: number }> {
	const [a, b] = await Promise.all([inner.boundingBox(), outer.boundingBox()]);
	if (a === null || b === null) throw new Error('an element is not laid out');
	return { inner: a.x + a.width, outer: b.x + b.width };
}

test.beforeEach(async ({ page }) => {
	await openApp(page);
	await createWorkspace(page, 'Hostile text');
});

test('an unbroken word wraps inside its message', async ({ page }) => {
	const word = 'w'.repeat(3000);
	await post(page, `long: ${word}`, 'long:');
	const article = message(page, 'long:');
	const paragraph = article.locator('p', { hasText: 'long:' });
	const edges = await rightEdges(paragraph, page.getByRole('main'));
	expect(edges.inner).toBeLessThanOrEqual(edges.outer);
	// Wrapped onto many lines, not cut at one.
	const box = await paragraph.boundingBox();
	const line = await page.evaluate(() => parseFloat(getComputedStyle(document.body).fontSize));
	expect(box!.height).toBeGreaterThan(5 * line);
	expect(await pageOverflows(page)).toBe(false);
});

test('a wide table scrolls inside its message', async ({ page }) => {
	const columns = Array.from({ length: 30 }, (_, i) => `column${i}`);
	const table = [`| ${columns.join(' | ')} |`, `|${' --- |'.repeat(30)}`, `| ${columns.map((c) => `${c}-value`).join(' | ')} |`].join('\n');
	await post(page, `wide\n\n${table}`, 'column29-value');
	const article = message(page, 'column29-value');
	const rendered = article.getByRole('table');
	await expect(rendered).toBeVisible();
	const edges = await rightEdges(rendered, page.getByRole('main'));
	expect(edges.inner).toBeLessThanOrEqual(edges.outer);
	// Its own scroll: wider content than box, and it moves when scrolled.
	const { scrollWidth, clientWidth } = await rendered.evaluate((el) => ({ scrollWidth: el.scrollWidth, clientWidth: el.clientWidth }));
	expect(scrollWidth).toBeGreaterThan(clientWidth);
	const scrolled = await rendered.evaluate((el) => {
		el.scrollLeft = 200;
		return el.scrollLeft;
	});
	expect(scrolled).toBeGreaterThan(0);
	expect(await pageOverflows(page)).toBe(false);
});
