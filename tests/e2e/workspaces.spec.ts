/** Workspaces, display name and channels, on one device. */
import { expect, test } from './suite';
import { channelLink, channelNav, createChannel, createWorkspace, openApp, post, setDisplayName } from './helpers';

test('first run shows the welcome state', async ({ page }) => {
	await openApp(page);
	await expect(page.getByRole('heading', { name: 'Welcome to Outpost' })).toBeVisible();
	await expect(channelNav(page)).toHaveCount(0);
});

test('several workspaces, each with its own name, colour and channels; switching between them', async ({ page }) => {
	await openApp(page);
	await createWorkspace(page, 'Vessel');
	await createChannel(page, 'deck', 'Deck crew');
	await post(page, 'hello from the deck');

	await page.getByRole('button', { name: 'New workspace' }).click();
	const dialog = page.getByRole('dialog', { name: 'New workspace' });
	await dialog.getByRole('textbox', { name: 'Workspace name' }).fill('Shore office');
	await dialog.getByRole('radio', { name: 'Red' }).check();
	await dialog.getByRole('button', { name: 'Create workspace' }).click();
	await expect(channelNav(page).getByRole('heading', { name: 'Shore office' })).toBeVisible();
	await expect(channelLink(page, 'deck')).toHaveCount(0);

	const rail = page.getByRole('navigation', { name: 'Workspaces' });
	await expect(rail.getByRole('button', { name: 'Shore office' })).toHaveCSS('background-color', 'rgb(192, 57, 43)');
	await expect(rail.getByRole('button', { name: 'Vessel' })).toHaveCSS('background-color', 'rgb(31, 111, 92)');

	await rail.getByRole('button', { name: 'Vessel' }).click();
	await expect(channelNav(page).getByRole('heading', { name: 'Vessel' })).toBeVisible();
	// The workspace reopens on the channel last used.
	await expect(channelLink(page, 'deck')).toHaveAttribute('aria-current', 'page');
	await expect(page.getByRole('article').filter({ hasText: 'hello from the deck' })).toBeVisible();
});

test('the new-workspace dialog asks for my display name, which my messages then carry', async ({ page }) => {
	await openApp(page);
	await page.getByRole('button', { name: 'New workspace' }).first().click();
	const dialog = page.getByRole('dialog', { name: 'New workspace' });
	await dialog.getByRole('textbox', { name: 'Workspace name' }).fill('Bridge');
	await dialog.getByRole('textbox', { name: 'Display name' }).fill('Grace');
	await dialog.getByRole('button', { name: 'Create workspace' }).click();
	await expect(channelNav(page).getByRole('heading', { name: 'Bridge' })).toBeVisible();
	await post(page, 'first words');
	await expect(page.getByRole('article', { name: 'Grace' })).toContainText('first words');
	// The next dialog offers the name already given.
	await page.getByRole('button', { name: 'New workspace' }).first().click();
	await expect(page.getByRole('dialog', { name: 'New workspace' }).getByRole('textbox', { name: 'Display name' })).toHaveValue('Grace');
});

test('display name is shown on my messages', async ({ page }) => {
	await openApp(page);
	await createWorkspace(page, 'Team');
	await setDisplayName(page, 'Ada');
	await post(page, 'signed by Ada');
	const article = page.getByRole('article', { name: 'Ada' });
	await expect(article).toContainText('signed by Ada');
	// A fresh signature by this device verifies.
	await expect(article.getByRole('note')).toHaveCount(0);
});

test('channels: create with topic, rename, archive and restore', async ({ page }) => {
	await openApp(page);
	await createWorkspace(page, 'Lab');
	await createChannel(page, 'samples', 'Where samples are logged');
	await expect(page.getByRole('main').getByText('Where samples are logged')).toBeVisible();

	await page.getByRole('button', { name: 'Rename channel' }).click();
	await page.getByRole('textbox', { name: 'Channel name' }).fill('specimens');
	await page.getByRole('button', { name: 'Save' }).click();
	await expect(channelLink(page, 'specimens')).toBeVisible();
	await expect(channelLink(page, 'samples')).toHaveCount(0);

	await page.getByRole('button', { name: 'Archive channel' }).click();
	await expect(page.getByText('This channel is archived. Restore it to post again.')).toBeVisible();
	await expect(page.getByRole('textbox', { name: 'Message', exact: true })).toBeDisabled();
	await page.getByRole('button', { name: 'Restore channel' }).click();
	await expect(page.getByRole('textbox', { name: 'Message', exact: true })).toBeEnabled();

	// Archived channels leave the list unless asked for.
	await page.getByRole('button', { name: 'Archive channel' }).click();
	await channelLink(page, 'general').click();
	await page.getByRole('checkbox', { name: 'Show archived channels' }).uncheck();
	await expect(channelLink(page, 'specimens')).toHaveCount(0);
	await page.getByRole('checkbox', { name: 'Show archived channels' }).check();
	await expect(channelLink(page, 'specimens')).toBeVisible();
});

test('private and read-only flags are stored and shown', async ({ page }) => {
	await openApp(page);
	await createWorkspace(page, 'Flags');
	const newChannel = async (name: string, flag: 'Private channel' | 'Read-only (announcements)') => {
		await page.getByRole('button', { name: 'New channel' }).click();
		const dialog = page.getByRole('dialog', { name: 'New channel' });
		await dialog.getByRole('textbox', { name: 'Channel name' }).fill(name);
		await dialog.getByRole('checkbox', { name: flag }).check();
		// A private channel is shared with the people picked; it cannot be read-only too.
		if (flag === 'Private channel') await expect(dialog.getByRole('checkbox', { name: 'Read-only (announcements)' })).toHaveCount(0);
		await dialog.getByRole('button', { name: 'Create channel' }).click();
	};
	await newChannel('announcements', 'Read-only (announcements)');
	await expect(page.getByRole('main').getByText('read-only', { exact: true })).toBeVisible();
	await newChannel('council', 'Private channel');
	await expect(page.getByRole('main').getByText('private', { exact: true })).toBeVisible();
	await page.reload();
	await expect(page.getByRole('main').getByText('private', { exact: true })).toBeVisible();
	await channelLink(page, 'announcements').click();
	await expect(page.getByRole('main').getByText('read-only', { exact: true })).toBeVisible();
});

test('leaving a channel right after opening it throws nothing on the page', async ({ page }) => {
	const errors: string[] = [];
	page.on('pageerror', (error) => errors.push(error.message));
	await openApp(page);
	await createWorkspace(page, 'Hops');
	await post(page, 'in general');
	await createChannel(page, 'deck', 'Deck crew');
	await post(page, 'on deck');
	for (let i = 0; i < 6; i++) {
		await channelLink(page, i % 2 === 0 ? 'general' : 'deck').click();
		await page.getByRole('button', { name: 'New note' }).click(); // leaves the channel at once
	}
	await channelLink(page, 'general').click();
	await expect(page.getByRole('main').getByRole('article').filter({ hasText: 'in general' })).toBeVisible();
	await page.waitForTimeout(300); // the deferred callbacks of the lists left behind
	expect(errors).toEqual([]);
});
