/**
 * The message look: consecutive messages by one author group (the first with avatar and name,
 * the rest compact), the actions are icon buttons that keep their names, and on a touch
 * screen a long press opens them as a menu.
 */
import { expect, test } from './suite';
import { createWorkspace, message, openApp, post, setDisplayName } from './helpers';

test('messages group by author, with an avatar and icon actions', async ({ page }) => {
	await openApp(page);
	await createWorkspace(page, 'Look');
	await setDisplayName(page, 'Ada Lovelace');
	await post(page, 'first of a group');
	await post(page, 'second of a group');

	const first = message(page, 'first of a group');
	const second = message(page, 'second of a group');
	// Both keep the author as their accessible name; only the first shows it, with the avatar.
	await expect(page.getByRole('main').getByRole('article', { name: 'Ada Lovelace' })).toHaveCount(2);
	await expect(first.getByText('Ada Lovelace', { exact: true })).toBeVisible();
	await expect(second.getByText('Ada Lovelace', { exact: true })).toHaveCount(0);
	await expect(first.locator('[aria-hidden="true"]', { hasText: /^AL$/ })).toBeVisible();
	await expect(second.locator('[aria-hidden="true"]', { hasText: /^AL$/ })).toHaveCount(0);

	// The actions: icon buttons named as before, shown on hover.
	await second.hover();
	for (const name of ['Reply', 'React', 'Edit', 'Delete']) {
		const button = second.getByRole('button', { name, exact: true });
		await expect(button).toBeVisible();
		await expect(button).toHaveAttribute('title', name);
		await expect(button).toHaveText('');
	}
	await second.getByRole('button', { name: 'Reply', exact: true }).click();
	const thread = page.getByRole('complementary', { name: 'Thread' });
	await expect(thread).toBeVisible();

	// Replies in a thread group the same way.
	for (const text of ['first reply', 'second reply']) {
		await thread.getByRole('textbox', { name: 'Thread reply' }).fill(text);
		await thread.getByRole('button', { name: 'Send reply' }).click();
		await expect(thread.getByRole('article').filter({ hasText: text })).toBeVisible();
	}
	const firstReply = thread.getByRole('article').filter({ hasText: 'first reply' });
	const secondReply = thread.getByRole('article').filter({ hasText: 'second reply' });
	await expect(firstReply.getByText('Ada Lovelace', { exact: true })).toBeVisible();
	await expect(secondReply.getByText('Ada Lovelace', { exact: true })).toHaveCount(0);
	await expect(secondReply.locator('[aria-hidden="true"]', { hasText: /^AL$/ })).toHaveCount(0);
});

test.describe('on a touch screen', () => {
	test.use({ hasTouch: true });

	test('a long press on a message opens its actions as a menu', async ({ page }) => {
		await openApp(page);
		await createWorkspace(page, 'Look');
		await post(page, 'press and hold me');
		const article = message(page, 'press and hold me');
		const box = await article.boundingBox();
		const at = { clientX: (box?.x ?? 0) + 20, clientY: (box?.y ?? 0) + 20, pointerType: 'touch', isPrimary: true, bubbles: true };
		await article.dispatchEvent('pointerdown', at);
		const menu = page.getByRole('menu', { name: /Actions for .*message/ });
		await expect(menu).toBeVisible();
		await expect(menu.getByRole('menuitem', { name: 'Reply' })).toBeFocused();
		await page.keyboard.press('Escape');
		await expect(menu).toBeHidden();
		// The keyboard goes back to the message the menu was opened on.
		await expect(article).toBeFocused();

		await article.dispatchEvent('pointerdown', at);
		await menu.getByRole('menuitem', { name: 'Edit' }).click();
		await expect(menu).toBeHidden();
		await expect(page.getByRole('textbox', { name: 'Edit message' })).toBeFocused();
	});
});
