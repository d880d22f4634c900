/**
 * Phones first (issue 13): the colours follow the system's light or dark scheme, each with
 * WCAG AA contrast (axe's color-contrast among the serious violations it fails on), and on a
 * phone the composer stays above the on-screen keyboard, whether the browser shrinks the page
 * for it (interactive-widget=resizes-content, Chrome on Android) or lays it over the page
 * (iOS: the visual viewport shrinks and the shell is padded by what the keyboard covers).
 */
import type { Locator, Page } from '@playwright/test';
import { expect, test } from './suite';
import { createWorkspace, message, openApp, post } from './helpers';
import { audit } from './axe';

/** The relative luminance (0 black … 1 white) of a computed `rgb(…)` colour. */
function luminance(color: string): number {
	const [r, g, b] = (color.match(/[\d.]+/g) ?? []).slice(0, 3).map((c) => {
		const v = Number(c) / 255;
		return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
	});
	return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** The page's background (the root element's, which paints the canvas) and its text colour. */
async function pageColors(page: Page): Promise<{ background: string; text: string }> {
	return page.evaluate(() => {
		const root = getComputedStyle(document.documentElement);
		return { background: root.backgroundColor, text: getComputedStyle(document.body).color };
	});
}

/** A locator's computed background colour. */
function backgroundOf(locator: Locator): Promise<string> {
	return locator.evaluate((el) => getComputedStyle(el).backgroundColor);
}

/**
 * Every screen the scheme test looks at: welcome, a channel with a message and its open thread,
 * and two dialogs; axe runs on each.
 */
async function auditScreens(page: Page, scheme: string): Promise<void> {
	await openApp(page);
	await audit(page, `${scheme}: welcome`);
	await createWorkspace(page, 'Night shift');
	await post(page, 'the tide turns at four');
	const parent = message(page, 'the tide turns at four');
	await parent.hover();
	await parent.getByRole('button', { name: 'Reply', exact: true }).click();
	const thread = page.getByRole('complementary', { name: 'Thread' });
	await thread.getByRole('textbox', { name: 'Thread reply' }).fill('noted, boats in by three');
	await thread.getByRole('button', { name: 'Send reply' }).click();
	await expect(thread.getByRole('article')).toHaveCount(2);
	await audit(page, `${scheme}: a channel with a message and its thread`);

	await page.getByRole('button', { name: 'New channel' }).click();
	const newChannel = page.getByRole('dialog', { name: 'New channel' });
	await expect(newChannel).toBeVisible();
	await newChannel.getByRole('textbox', { name: 'Channel name' }).fill('harbour');
	await audit(page, `${scheme}: the New channel dialog`);
	await page.keyboard.press('Escape');
	await expect(newChannel).toBeHidden();

	await page.getByRole('button', { name: 'Settings', exact: true }).click();
	const settings = page.getByRole('dialog', { name: 'Settings' });
	await expect(settings).toBeVisible();
	await audit(page, `${scheme}: the Settings dialog`);
	await page.keyboard.press('Escape');
	await expect(settings).toBeHidden();
}

test.describe('with the system in dark mode', () => {
	test.use({ colorScheme: 'dark' });
	test.describe.configure({ timeout: 180_000 });

	test('the app is dark with light text, and every screen keeps AA contrast', async ({ page }) => {
		await openApp(page);
		const { background, text } = await pageColors(page);
		expect(luminance(background), `the page's background ${background}`).toBeLessThan(0.05);
		expect(luminance(text), `the text ${text}`).toBeGreaterThan(0.6);
		// The browser's own parts (scroll bars, form controls) follow too.
		expect(await page.evaluate(() => getComputedStyle(document.documentElement).colorScheme)).toContain('dark');
		const meta = page.locator('meta[name="theme-color"][media="(prefers-color-scheme: dark)"]');
		await expect(meta).toHaveAttribute('content', '#0d221d');

		await auditScreens(page, 'dark');

		// The raised parts are dark too: the composer's text box and an open dialog.
		const composer = page.getByRole('textbox', { name: 'Message', exact: true });
		expect(luminance(await backgroundOf(composer))).toBeLessThan(0.05);
		await page.getByRole('button', { name: 'New channel' }).click();
		const dialog = page.getByRole('dialog', { name: 'New channel' });
		expect(luminance(await backgroundOf(dialog))).toBeLessThan(0.05);
	});
});

test.describe('with the system in light mode', () => {
	test.use({ colorScheme: 'light' });
	test.describe.configure({ timeout: 180_000 });

	test('the app keeps its light look, and every screen keeps AA contrast', async ({ page }) => {
		await openApp(page);
		expect(await pageColors(page)).toEqual({ background: 'rgb(255, 255, 255)', text: 'rgb(29, 41, 38)' });
		const meta = page.locator('meta[name="theme-color"][media="(prefers-color-scheme: light)"]');
		await expect(meta).toHaveAttribute('content', '#1f6f5c');
		await auditScreens(page, 'light');
		// The brand's green on the filled buttons.
		await page.getByRole('button', { name: 'New channel' }).click();
		const create = page.getByRole('dialog', { name: 'New channel' }).getByRole('button', { name: 'Create channel' });
		expect(await backgroundOf(create)).toBe('rgb(31, 111, 92)');
	});
});

test('the colours switch when the system switches its scheme', async ({ page }) => {
	await page.emulateMedia({ colorScheme: 'light' });
	await openApp(page);
	await createWorkspace(page, 'Both ways');
	await post(page, 'day and night');
	const composer = page.getByRole('textbox', { name: 'Message', exact: true });
	const light = await pageColors(page);
	expect(luminance(light.background)).toBeGreaterThan(0.9);
	expect(luminance(await backgroundOf(composer))).toBeGreaterThan(0.9);

	await page.emulateMedia({ colorScheme: 'dark' });
	const dark = await pageColors(page);
	expect(luminance(dark.background)).toBeLessThan(0.05);
	expect(luminance(dark.text)).toBeGreaterThan(0.6);
	expect(luminance(await backgroundOf(composer))).toBeLessThan(0.05);
	await expect(message(page, 'day and night')).toBeVisible();

	await page.emulateMedia({ colorScheme: 'light' });
	expect(await pageColors(page)).toEqual(light);
});

test.describe('on a phone with an on-screen keyboard', () => {
	const width = 390;
	const height = 844;
	test.use({ viewport: { width, height }, hasTouch: true, isMobile: true });

	/** Asserts that the composer's text box and its Send button are wholly on the screen, `bottom` px tall. */
	async function expectComposerShown(page: Page, bottom: number, when: string): Promise<void> {
		for (const control of [
			page.getByRole('textbox', { name: 'Message', exact: true }),
			page.getByRole('button', { name: 'Send', exact: true })
		]) {
			const box = await control.boundingBox();
			expect(box, `${when}: the composer is shown`).not.toBeNull();
			expect(box!.y, `${when}: its top is on the screen`).toBeGreaterThanOrEqual(0);
			expect(box!.y + box!.height, `${when}: its bottom is above the keyboard`).toBeLessThanOrEqual(bottom);
		}
		const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
		expect(scrollWidth, `${when}: the page does not scroll sideways`).toBeLessThanOrEqual(width);
	}

	/** Creates a workspace from the welcome screen (the channel list stays folded away on a phone). */
	async function createOnPhone(page: Page): Promise<void> {
		await page.getByRole('button', { name: 'New workspace' }).first().click();
		const dialog = page.getByRole('dialog', { name: 'New workspace' });
		await dialog.getByRole('textbox', { name: 'Workspace name' }).fill('Pocket');
		await dialog.getByRole('button', { name: 'Create workspace' }).click();
		await expect(page.getByRole('heading', { name: '# general' })).toBeVisible();
	}

	test('the page is resized for the keyboard and the composer stays above it', async ({ page }) => {
		await openApp(page);
		await expect(page.locator('meta[name="viewport"]')).toHaveAttribute('content', /(^|,)\s*interactive-widget=resizes-content\s*(,|$)/);
		await createOnPhone(page);
		await post(page, 'typed on a phone');
		const composer = page.getByRole('textbox', { name: 'Message', exact: true });
		await composer.focus();
		await expectComposerShown(page, height, 'before the keyboard opens');
		const before = (await composer.boundingBox())!;
		expect(before.y + before.height, 'the composer sits at the bottom of the screen').toBeGreaterThan(height - 120);

		// What resizes-content does when the keyboard opens: the layout viewport gets shorter.
		await page.setViewportSize({ width, height: 480 });
		await expectComposerShown(page, 480, 'with the keyboard open');
		await expect(composer).toBeFocused();
		const open = (await composer.boundingBox())!;
		expect(open.y + open.height, 'the composer moved up to just above the keyboard').toBeGreaterThan(480 - 120);

		await page.setViewportSize({ width, height });
		await expectComposerShown(page, height, 'after the keyboard closes');
		expect((await composer.boundingBox())!.y).toBeCloseTo(before.y, 0);
	});

	test('where the keyboard lies over the page (iOS), the shell is padded by what it covers', async ({ page }) => {
		await openApp(page);
		await createOnPhone(page);
		const composer = page.getByRole('textbox', { name: 'Message', exact: true });
		await composer.focus();
		const before = (await composer.boundingBox())!;
		const keyboard = 330;

		// The visual viewport shrinks by the keyboard's height; the layout viewport does not.
		await page.evaluate((keyboard) => {
			const viewport = window.visualViewport!;
			Object.defineProperty(viewport, 'height', { configurable: true, get: () => window.innerHeight - keyboard });
			viewport.dispatchEvent(new Event('resize'));
		}, keyboard);
		await expect
			.poll(() => page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--keyboard-inset').trim()))
			.toBe(`${keyboard}px`);
		await expectComposerShown(page, height - keyboard, 'with the keyboard over the page');
		expect((await composer.boundingBox())!.y).toBeCloseTo(before.y - keyboard, 0);

		// The keyboard closes.
		await page.evaluate(() => {
			const viewport = window.visualViewport!;
			delete (viewport as unknown as Record<string, unknown>).height;
			viewport.dispatchEvent(new Event('resize'));
		});
		await expect.poll(async () => (await composer.boundingBox())?.y).toBeCloseTo(before.y, 0);
		await expectComposerShown(page, height, 'after the keyboard closes');
	});
});
