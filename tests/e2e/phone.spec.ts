/** A phone-sized screen: the channel list folds away behind "Show channels". */
import { expect, test } from '@playwright/test';
import { channelLink, channelNav, message, openApp, post } from './helpers';

test.use({ viewport: { width: 390, height: 780 }, hasTouch: true });

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
	expect(box && box.x + box.width).toBeLessThanOrEqual(390);
});
