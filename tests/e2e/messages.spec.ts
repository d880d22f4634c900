/** Messages: Markdown, sanitising, edits, deletes, reactions, mentions and threads. */
import { expect, test } from './suite';
import { createWorkspace, message, openApp, post, setDisplayName } from './helpers';

test.beforeEach(async ({ page }) => {
	await openApp(page);
	await createWorkspace(page, 'Crew');
	await setDisplayName(page, 'Grace');
});

test('Markdown renders code blocks, links and lists', async ({ page }) => {
	const box = page.getByRole('textbox', { name: 'Message', exact: true });
	await box.fill('**bold** and a [manual](https://example.org/manual)\n\n- one\n- two\n\n```\nconst x = 1 < 2;\n```');
	await box.press('Enter');
	const msg = message(page, 'bold and a');
	await expect(msg.locator('strong', { hasText: 'bold' })).toHaveText('bold');
	await expect(msg.getByRole('link', { name: 'manual' })).toHaveAttribute('href', 'https://example.org/manual');
	await expect(msg.getByRole('listitem')).toHaveText(['one', 'two']);
	await expect(msg.locator('pre code')).toHaveText('const x = 1 < 2;');
});

test('script, onerror and javascript: links render as inert text', async ({ page }) => {
	await page.exposeFunction('pwned', () => {
		throw new Error('script ran');
	});
	let dialogs = 0;
	page.on('dialog', (d) => {
		dialogs++;
		void d.dismiss();
	});
	await post(page, '<script>window.pwned()</script> first');
	await post(page, '<img src=x onerror="window.pwned()"> second');
	await post(page, '[click me](javascript:window.pwned()) third', 'click me third');
	await expect(message(page, 'first')).toContainText('<script>window.pwned()</script>');
	await expect(message(page, 'second')).toContainText('<img src=x onerror="window.pwned()">');
	await expect(page.getByRole('main').locator('article img')).toHaveCount(0);
	await expect(page.getByRole('main').locator('article script')).toHaveCount(0);
	const link = message(page, 'third').getByText('click me');
	await expect(link).toBeVisible();
	expect(await link.getAttribute('href')).toBeNull();
	await link.click();
	expect(dialogs).toBe(0);
});

test('edit keeps history and shows "edited"', async ({ page }) => {
	await post(page, 'the boat leaves at 9');
	const msg = message(page, 'the boat leaves at');
	await msg.hover();
	await msg.getByRole('button', { name: 'Edit' }).click();
	const box = page.getByRole('textbox', { name: 'Edit message' });
	await box.fill('the boat leaves at 10');
	await box.press('Enter');
	const edited = message(page, 'the boat leaves at 10');
	await expect(edited.getByText('the boat leaves at 10', { exact: true })).toBeVisible();
	await edited.getByText('edited', { exact: true }).click();
	await expect(edited.getByRole('listitem')).toHaveCount(2);
	await expect(edited.getByRole('listitem').first()).toContainText('the boat leaves at 9');
	await page.reload();
	await expect(message(page, 'the boat leaves at 10').getByText('edited', { exact: true })).toBeVisible();
});

test('delete is soft, shown as "message deleted", and can be undone', async ({ page }) => {
	await post(page, 'secret coordinates');
	await post(page, 'keep this one');
	const msg = message(page, 'secret coordinates');
	await msg.hover();
	await msg.getByRole('button', { name: 'Delete' }).click();
	await expect(page.getByRole('main').getByText('message deleted', { exact: true })).toBeVisible();
	await expect(page.getByText('secret coordinates')).toHaveCount(0);
	await page.getByRole('button', { name: 'Undo' }).click();
	await expect(message(page, 'secret coordinates')).toBeVisible();
	const again = message(page, 'secret coordinates');
	await again.hover();
	await again.getByRole('button', { name: 'Delete' }).click();
	await page.reload();
	await expect(page.getByRole('main').getByText('message deleted', { exact: true })).toBeVisible();
	await expect(message(page, 'keep this one')).toBeVisible();
});

test('reactions toggle, count and say who reacted', async ({ page }) => {
	await post(page, 'lunch is ready');
	const msg = message(page, 'lunch is ready');
	await msg.hover();
	await msg.getByRole('button', { name: 'React', exact: true }).click();
	await msg.getByRole('button', { name: 'React with 🎉' }).click();
	const chip = msg.getByRole('button', { name: '🎉 1, Grace' });
	await expect(chip).toHaveAttribute('aria-pressed', 'true');
	await expect(chip).toHaveAttribute('title', 'Grace reacted with 🎉');
	await chip.click();
	await expect(msg.getByRole('button', { name: /^🎉/ })).toHaveCount(0);
});

test('@ mentions suggest members and are highlighted', async ({ page }) => {
	const box = page.getByRole('textbox', { name: 'Message', exact: true });
	await box.pressSequentially('ping @Gr');
	const options = page.getByRole('listbox', { name: 'Mention suggestions' });
	await expect(options.getByRole('option')).toHaveText(['@Grace']);
	await box.press('Enter');
	await expect(box).toHaveValue('ping @Grace ');
	await box.press('Enter');
	await expect(message(page, 'ping').locator('.mention')).toHaveText('@Grace');
});

test('threads: replies in a side panel, the parent shows the count', async ({ page }) => {
	await post(page, 'who has the spare radio?');
	const parent = message(page, 'who has the spare radio?');
	await parent.hover();
	await parent.getByRole('button', { name: 'Reply' }).click();
	const thread = page.getByRole('complementary', { name: 'Thread' });
	await thread.getByRole('textbox', { name: 'Thread reply' }).fill('it is in the galley');
	await thread.getByRole('button', { name: 'Send reply' }).click();
	await thread.getByRole('textbox', { name: 'Thread reply' }).fill('found it');
	await thread.getByRole('textbox', { name: 'Thread reply' }).press('Enter');
	await expect(thread.getByRole('article')).toHaveCount(3);
	await expect(parent.getByRole('button', { name: '2 replies' })).toBeVisible();
	// Replies stay out of the channel's main list.
	await expect(page.getByRole('main').getByRole('article').filter({ hasText: 'found it' })).toHaveCount(0);
	await thread.getByRole('button', { name: 'Close thread' }).click();
	await expect(thread).toHaveCount(0);
	// The keyboard goes back to the Reply button that opened the thread.
	await expect(parent.getByRole('button', { name: 'Reply' })).toBeFocused();
	await parent.getByRole('button', { name: '2 replies' }).click();
	await expect(page.getByRole('complementary', { name: 'Thread' }).getByText('found it')).toBeVisible();
});

test('a too-long edit says why, and closing the editor gives the keyboard back to Edit', async ({ page }) => {
	await post(page, 'short and sweet');
	const id = await message(page, 'short and sweet').getAttribute('data-message-id');
	const msg = page.locator(`[data-message-id="${id}"]`);
	await msg.hover();
	await msg.getByRole('button', { name: 'Edit' }).click();
	const box = page.getByRole('textbox', { name: 'Edit message' });
	await box.fill('x'.repeat(40_001));
	await box.press('Enter');
	await expect(msg.getByRole('alert')).toHaveText(/^This message is too long \(40,?001 of 40,?000 characters\)\.$/);
	await box.press('Escape');
	await expect(box).toHaveCount(0);
	await expect(msg.getByRole('button', { name: 'Edit' })).toBeFocused();
	await expect(msg).toContainText('short and sweet');
});

test('"Settings saved." goes once the name is edited again', async ({ page }) => {
	await page.getByRole('button', { name: 'Settings' }).click();
	const dialog = page.getByRole('dialog', { name: 'Settings' });
	const name = dialog.getByRole('textbox', { name: 'Display name' });
	await name.fill('Grace H');
	await dialog.getByRole('button', { name: 'Save' }).click();
	await expect(dialog.getByRole('status')).toHaveText('Settings saved.');
	await name.press('End');
	await name.pressSequentially('opper');
	await expect(dialog.getByText('Settings saved.')).toHaveCount(0);
});
