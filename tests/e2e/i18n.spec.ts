/** The UI language: follows the browser, switches in Settings, is remembered. */
import { expect, test } from './suite';
import { createWorkspace, message, openApp, post } from './helpers';

test('the Language combobox switches the visible text to Chinese and back', async ({ page }) => {
	await openApp(page);
	await createWorkspace(page, 'Lang');
	await page.getByRole('button', { name: 'Settings' }).click();
	await page.getByRole('combobox', { name: 'Language' }).selectOption('zh-CN');
	await expect(page.getByRole('dialog', { name: '设置' })).toBeVisible();
	await page.getByRole('button', { name: '关闭' }).click();
	await expect(page.getByRole('button', { name: '新建频道' })).toBeVisible();
	await expect(page.getByRole('navigation', { name: '频道' })).toBeVisible();
	await expect(page.getByRole('button', { name: '发送' })).toBeVisible();
	await expect(page.locator('html')).toHaveAttribute('lang', 'zh-CN');
	// Remembered across reloads.
	await page.reload();
	await expect(page.getByRole('button', { name: '新建频道' })).toBeVisible();
	await page.getByRole('button', { name: '设置', exact: true }).click();
	await page.getByRole('combobox', { name: '语言' }).selectOption('en');
	await expect(page.getByRole('button', { name: 'New channel' })).toBeVisible();
});

test('times follow the chosen language, not the browser’s', async ({ page }) => {
	await openApp(page);
	await createWorkspace(page, 'Times');
	await post(page, 'what time is it');
	const time = message(page, 'what time is it').locator('header time');
	await expect(time).toHaveText(/AM|PM/); // the browser is en-US, and so is the UI
	await page.getByRole('button', { name: 'Settings' }).click();
	await page.getByRole('combobox', { name: 'Language' }).selectOption('zh-CN');
	await page.getByRole('button', { name: '关闭' }).click();
	await expect(time).not.toHaveText(/AM|PM/);
	await expect(time).toHaveText(/\d{4}\/\d{1,2}\/\d{1,2}/);
});

test.describe('a browser set to Chinese', () => {
	test.use({ locale: 'zh-CN' });
	test('starts in Simplified Chinese', async ({ page }) => {
		await page.goto('/');
		await expect(page.getByRole('heading', { name: '欢迎使用 Outpost' })).toBeVisible();
		await expect(page.getByRole('button', { name: '新建工作区' }).first()).toBeVisible();
	});
});
