/**
 * A phone-sized touch screen (390×844): the channel list folds away behind "Show channels", the
 * channel's actions sit in one menu, threads and notes open as full-screen views with Back, and
 * no screen or dialog is wider than the phone.
 */
import type { Page } from '@playwright/test';
import { expect, test } from './suite';
import { channelLink, channelNav, message, openApp, post } from './helpers';
import { zhCN } from '../../src/lib/i18n/zh-CN';

const width = 390;
test.use({ viewport: { width, height: 844 }, hasTouch: true });

/**
 * Asserts that the page does not scroll sideways and that no visible element reaches past the
 * screen's edges (elements inside a box that clips or scrolls them are that box's business).
 */
async function expectFits(page: Page, screen: string): Promise<void> {
	const found = await page.evaluate((width) => {
		const clips = (el: Element) => {
			for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
				if (getComputedStyle(p).overflowX !== 'visible') return true;
			}
			return false;
		};
		const wide: string[] = [];
		for (const el of document.querySelectorAll('body *')) {
			const box = el.getBoundingClientRect();
			// Empty boxes, and the 1-pixel boxes of text kept for screen readers only.
			if (box.width <= 1 || box.height <= 1) continue;
			if (box.left >= -0.5 && box.right <= width + 0.5) continue;
			if (getComputedStyle(el).visibility === 'hidden' || clips(el)) continue;
			const name = `${el.tagName.toLowerCase()}${el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/)[0] : ''}`;
			wide.push(`${name} "${(el.textContent ?? '').trim().slice(0, 30)}" ${Math.round(box.left)}–${Math.round(box.right)}`);
		}
		return { scrollWidth: document.documentElement.scrollWidth, wide };
	}, width);
	expect(found.scrollWidth, `${screen}: the page scrolls sideways`).toBeLessThanOrEqual(width);
	expect(found.wide, `${screen}: elements past the screen's edge`).toEqual([]);
}

/** Asserts that a control is at least 44 px each way (a touch target). */
async function expectTouchSize(page: Page, name: string): Promise<void> {
	const box = await page.getByRole('button', { name }).boundingBox();
	expect(box?.width, name).toBeGreaterThanOrEqual(44);
	expect(box?.height, name).toBeGreaterThanOrEqual(44);
}

test('on a phone, channels open from a toggle and messages fit the screen', async ({ page }) => {
	await openApp(page);
	await page.getByRole('button', { name: 'New workspace' }).first().click();
	await page.getByRole('textbox', { name: 'Workspace name' }).fill('Pocket');
	await page.getByRole('button', { name: 'Create workspace' }).click();
	await expect(page.getByRole('heading', { name: '# general' })).toBeVisible();
	await expect(channelNav(page)).toBeHidden();
	await page.getByRole('button', { name: 'Show channels' }).click();
	await expect(channelNav(page)).toBeVisible();
	await page.getByRole('button', { name: 'New channel' }).click();
	const dialog = page.getByRole('dialog', { name: 'New channel' });
	await dialog.getByRole('textbox', { name: 'Channel name' }).fill('field');
	await dialog.getByRole('button', { name: 'Create channel' }).click();
	await page.getByRole('button', { name: 'Show channels' }).click();
	await channelLink(page, 'general').click();
	await expect(channelNav(page)).toBeHidden();
	await post(page, 'sent from a phone');
	const box = await message(page, 'sent from a phone').boundingBox();
	expect(box && box.x + box.width).toBeLessThanOrEqual(width);
});

test('every screen and dialog fits a phone, with its key controls in reach', async ({ page }) => {
	await openApp(page);
	await expectFits(page, 'welcome');
	expect(await page.evaluate(() => matchMedia('(pointer: coarse)').matches), 'a touch screen').toBe(true);

	await page.getByRole('button', { name: 'New workspace' }).first().click();
	const newWorkspace = page.getByRole('dialog', { name: 'New workspace' });
	await expect(newWorkspace).toBeVisible();
	await expectFits(page, 'the New workspace dialog');
	await newWorkspace.getByRole('textbox', { name: 'Workspace name' }).fill('Harbour master’s night-shift logbook');
	await newWorkspace.getByRole('button', { name: 'Create workspace' }).click();
	await expect(newWorkspace).toBeHidden();

	// A channel with messages: the name keeps its row, the actions sit in one menu.
	const heading = page.getByRole('heading', { name: '# general' });
	await expect(heading).toBeVisible();
	await post(page, 'sent from a phone');
	await post(page, 'a long link https://example.org/harbour/tides/2024/this-path-goes-on-and-on-without-any-break-at-all');
	await expectFits(page, 'a channel');
	await expect(page.getByRole('textbox', { name: 'Message', exact: true })).toBeVisible();
	await expect(page.getByRole('button', { name: 'Show channels' })).toBeVisible();
	const actions = page.getByRole('button', { name: 'Channel actions' });
	await expect(actions).toBeVisible();
	await expect(actions).toHaveAttribute('aria-haspopup', 'menu');
	await expect(page.getByRole('button', { name: 'Rename channel' })).toBeHidden();
	const headingBox = await heading.boundingBox();
	expect(headingBox?.width, 'the channel name is not squeezed').toBeGreaterThan(80);
	for (const name of ['Channel actions', 'Show channels', 'Send', 'Settings']) await expectTouchSize(page, name);

	// The channel actions menu: Escape closes it, arrow keys move, Rename works from it.
	await actions.click();
	const menu = page.getByRole('menu', { name: 'Channel actions' });
	await expect(menu).toBeVisible();
	await expect(actions).toHaveAttribute('aria-expanded', 'true');
	for (const name of ['Rename channel', 'Edit topic', 'Make read-only', 'Archive channel', 'Export as Markdown']) {
		await expect(menu.getByRole('menuitem', { name })).toBeVisible();
	}
	await expect(menu.getByRole('menuitemradio', { name: /All messages/ })).toHaveAttribute('aria-checked', /true|false/);
	await expectFits(page, 'the channel actions menu');
	await expect(menu.getByRole('menuitem', { name: 'Rename channel' })).toBeFocused();
	await page.keyboard.press('ArrowDown');
	await expect(menu.getByRole('menuitem', { name: 'Edit topic' })).toBeFocused();
	await page.keyboard.press('Escape');
	await expect(menu).toBeHidden();
	await expect(actions).toBeFocused();
	await actions.click();
	await page.getByRole('heading', { name: '# general' }).click();
	await expect(menu).toBeHidden();
	await actions.click();
	await menu.getByRole('menuitem', { name: 'Rename channel' }).click();
	await page.getByRole('textbox', { name: 'Channel name' }).fill('deck');
	await page.getByRole('button', { name: 'Save' }).click();
	await expect(page.getByRole('heading', { name: '# deck' })).toBeVisible();
	// The form is gone: the keyboard is back on the menu button it was opened from.
	await expect(actions).toBeFocused();
	await expectFits(page, 'a renamed channel');

	// A thread: a full-screen view with Back.
	const parent = message(page, 'sent from a phone');
	await parent.click();
	await parent.getByRole('button', { name: 'Reply' }).click();
	const thread = page.getByRole('complementary', { name: 'Thread' });
	await expect(thread.getByRole('textbox', { name: 'Thread reply' })).toBeVisible();
	await expect(thread.getByRole('button', { name: 'Back' })).toBeVisible();
	await expectFits(page, 'a thread');
	await thread.getByRole('textbox', { name: 'Thread reply' }).fill('a reply from the phone');
	await thread.getByRole('button', { name: 'Send reply' }).click();
	await expect(thread.getByRole('article')).toHaveCount(2);
	await thread.getByRole('button', { name: 'Back' }).click();
	await expect(thread).toHaveCount(0);
	await expect(page.getByRole('textbox', { name: 'Message', exact: true })).toBeVisible();

	// A note opened from a message: a full-screen view with Back.
	await post(page, 'Read [[Tide table]] first', 'Read Tide table first');
	await page.getByRole('article').getByRole('link', { name: 'Tide table' }).click();
	const note = page.getByRole('complementary', { name: 'Note' });
	await expect(note.getByRole('textbox', { name: 'Note title' })).toHaveValue('Tide table');
	await expect(note.getByRole('button', { name: 'Back' })).toBeVisible();
	await expectFits(page, 'a note');
	await note.getByRole('button', { name: 'Back' }).click();
	await expect(note).toBeHidden();
	await expect(page.getByRole('textbox', { name: 'Message', exact: true })).toBeVisible();

	// The channel list (the drawer) and the New channel dialog.
	await page.getByRole('button', { name: 'Show channels' }).click();
	await expect(channelNav(page)).toBeVisible();
	await expectFits(page, 'the channel list');
	await page.getByRole('button', { name: 'New channel' }).click();
	const newChannel = page.getByRole('dialog', { name: 'New channel' });
	await expect(newChannel).toBeVisible();
	await expectFits(page, 'the New channel dialog');
	await newChannel.getByRole('textbox', { name: 'Channel name' }).fill('field');
	await newChannel.getByRole('button', { name: 'Create channel' }).click();
	await expect(page.getByRole('heading', { name: '# field' })).toBeVisible();
	await expect(channelNav(page)).toBeHidden();

	// An AI chat.
	await page.getByRole('button', { name: 'Show channels' }).click();
	await page.getByRole('button', { name: 'New chat' }).click();
	await expect(channelNav(page)).toBeHidden();
	await expect(page.getByRole('textbox', { name: 'Message the model' })).toBeVisible();
	await expectFits(page, 'an AI chat');

	// Settings.
	await page.getByRole('button', { name: 'Settings' }).click();
	const settings = page.getByRole('dialog', { name: 'Settings' });
	await expect(settings).toBeVisible();
	await expectFits(page, 'the Settings dialog');
	await settings.getByRole('button', { name: 'Close' }).click();
	await expect(settings).toBeHidden();
});

test.describe('in Chinese', () => {
	test.use({ locale: 'zh-CN' });

	test('the labels fit the phone too: welcome, a channel, its menu, a thread, Settings', async ({ page }) => {
		const t = (key: keyof typeof zhCN) => zhCN[key];
		await page.goto('/');
		const create = page.getByRole('button', { name: t('workspace.new') }).first();
		await expect(create).toBeVisible();
		await expectFits(page, 'welcome (zh)');
		await create.click();
		const dialog = page.getByRole('dialog', { name: t('workspace.new') });
		await expectFits(page, 'the New workspace dialog (zh)');
		await dialog.getByRole('textbox', { name: t('workspace.name') }).fill('港口值班日志');
		await dialog.getByRole('button', { name: t('workspace.create') }).click();
		await expect(page.getByRole('heading', { name: '# general' })).toBeVisible();
		const box = page.getByRole('textbox', { name: t('message.label'), exact: true });
		await box.fill('从手机发出的消息');
		await page.getByRole('button', { name: t('message.send'), exact: true }).click();
		await expect(box).toHaveValue('');
		await expectFits(page, 'a channel (zh)');
		for (const key of ['channel.actions', 'channel.show'] as const) await expectTouchSize(page, t(key));

		await page.getByRole('button', { name: t('channel.actions') }).click();
		await expect(page.getByRole('menu', { name: t('channel.actions') })).toBeVisible();
		await expectFits(page, 'the channel actions menu (zh)');
		await page.keyboard.press('Escape');

		const sent = page.getByRole('main').getByRole('article').filter({ hasText: '从手机发出的消息' });
		await sent.click();
		await sent.getByRole('button', { name: t('message.reply') }).click();
		const thread = page.getByRole('complementary', { name: t('thread.title') });
		await expect(thread.getByRole('textbox', { name: t('thread.replyLabel') })).toBeVisible();
		await expectFits(page, 'a thread (zh)');
		await thread.getByRole('button', { name: t('common.back') }).click();
		await expect(thread).toHaveCount(0);

		await page.getByRole('button', { name: t('settings.open'), exact: true }).click();
		await expect(page.getByRole('dialog', { name: t('settings.title') })).toBeVisible();
		await expectFits(page, 'the Settings dialog (zh)');
	});
});
