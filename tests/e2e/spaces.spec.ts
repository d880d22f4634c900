/**
 * Private channels and direct messages end to end: the owner makes a private channel shared
 * with one member; that member reads and answers in it, while a third member never sees it
 * (not in the channel list, not in search) though the same words in a public channel reach
 * her; and a member opens a direct conversation from the Members panel, listed under Direct
 * messages for the two of them only; a member who leaves the channel loses it from her list.
 * Three browsers in separate contexts over a relay process
 * of the test's own, in the network namespace (scripts/in-netns.sh).
 */
import type { Page } from '@playwright/test';
import { expect, test } from './suite';
import { useDevices } from './devices';
import { channelLink, channelNav, createWorkspace, inviteLinkOf, joinWith, post, setDisplayName } from './helpers';

const { relay, device } = useDevices();

test.setTimeout(150_000);

function message(page: Page, text: string) {
	return page.getByRole('main').getByRole('article').filter({ hasText: text });
}

function privateLink(page: Page, name: string) {
	return channelNav(page).getByRole('link', { name: new RegExp(`^${name}\\b.*\\bPrivate\\b`) });
}

async function search(page: Page, query: string): Promise<void> {
	const box = page.getByRole('searchbox', { name: 'Search' });
	await box.fill(query);
	await box.press('Enter');
}

test('a private channel reaches only the people picked; a direct message reaches only its two', async () => {
	const r = await relay(4340);
	const ada = await device(r);
	await setDisplayName(ada, 'Ada');
	await createWorkspace(ada, 'Vessel');
	const link = await inviteLinkOf(ada);
	const bea = await device(r);
	await joinWith(bea, link, 'Bea');
	const cy = await device(r);
	await joinWith(cy, link, 'Cy');
	for (const page of [bea, cy]) await expect(channelLink(page, 'general')).toBeVisible({ timeout: 30_000 });

	// Ada makes a private channel with Bea alone.
	await ada.getByRole('button', { name: 'New channel' }).click();
	const dialog = ada.getByRole('dialog', { name: 'New channel' });
	await dialog.getByRole('textbox', { name: 'Channel name' }).fill('salvage');
	await dialog.getByRole('checkbox', { name: 'Private channel' }).check();
	await expect(dialog.getByRole('checkbox', { name: 'Share with Bea' })).toBeVisible({ timeout: 20_000 });
	await dialog.getByRole('checkbox', { name: 'Share with Bea' }).check();
	await dialog.getByRole('button', { name: 'Create channel' }).click();
	await expect(privateLink(ada, 'salvage')).toHaveAttribute('aria-current', 'page');
	await post(ada, 'zebra wreck coordinates 54N');

	await expect(privateLink(bea, 'salvage')).toBeVisible({ timeout: 30_000 });
	await privateLink(bea, 'salvage').click();
	await expect(message(bea, 'zebra wreck coordinates')).toBeVisible({ timeout: 20_000 });
	await post(bea, 'on my way');
	await expect(message(ada, 'on my way')).toBeVisible({ timeout: 20_000 });

	// Later words in a public channel reach Cy; the private channel never does.
	await channelLink(ada, 'general').click();
	await post(ada, 'zebra crossing drill at noon');
	await channelLink(cy, 'general').click();
	await expect(message(cy, 'zebra crossing drill')).toBeVisible({ timeout: 20_000 });
	await expect(privateLink(cy, 'salvage')).toHaveCount(0);
	await expect(channelNav(cy).getByRole('link', { name: /salvage/ })).toHaveCount(0);
	await search(cy, 'zebra');
	const found = cy.getByRole('listbox', { name: 'Search results' }).getByRole('option');
	await expect(found).toHaveCount(1, { timeout: 20_000 });
	await expect(found.first()).toContainText('crossing');

	// Bea, in the channel, finds its words in search beside the public ones.
	await search(bea, 'zebra');
	await expect(bea.getByRole('listbox', { name: 'Search results' }).getByRole('option')).toHaveCount(2, { timeout: 20_000 });
	await bea.getByRole('searchbox', { name: 'Search' }).press('Escape');

	// Bea messages Ada directly from the Members panel.
	await bea.getByRole('button', { name: 'Members', exact: true }).click();
	await bea.getByRole('dialog', { name: /Members/ }).getByRole('button', { name: 'Send Ada a direct message' }).click();
	const directs = (page: Page) => page.getByRole('list', { name: 'Direct messages' });
	// The conversation is made, then opened: until then the composer on screen is general's.
	await expect(directs(bea).getByRole('link', { name: 'Ada' })).toHaveAttribute('aria-current', 'page', { timeout: 20_000 });
	await post(bea, 'can we talk about Cy?');
	await expect(directs(ada).getByRole('link', { name: 'Bea' })).toBeVisible({ timeout: 30_000 });
	await directs(ada).getByRole('link', { name: 'Bea' }).click();
	await expect(message(ada, 'can we talk about Cy?')).toBeVisible({ timeout: 20_000 });
	await post(ada, 'later, in person');
	await expect(message(bea, 'later, in person')).toBeVisible({ timeout: 20_000 });
	await expect(directs(cy)).toHaveCount(0);
	await expect(channelNav(cy).getByText('No conversations yet', { exact: false })).toBeVisible();

	// Bea leaves the private channel: it leaves her list, and she lands in a channel she is in.
	await privateLink(bea, 'salvage').click();
	await bea.getByRole('button', { name: 'Channel members' }).click();
	const salvageMembers = bea.getByRole('dialog', { name: 'Members of salvage' });
	await salvageMembers.getByRole('button', { name: 'Leave channel' }).click();
	// Leaving asks first, saying she gets nothing new afterwards.
	const confirmLeave = salvageMembers.getByRole('alertdialog', { name: 'Leave salvage?' });
	await expect(confirmLeave).toContainText('nothing new');
	await confirmLeave.getByRole('button', { name: 'Leave channel' }).click();
	await expect(privateLink(bea, 'salvage')).toHaveCount(0, { timeout: 20_000 });
	await expect(channelLink(bea, 'general')).toHaveAttribute('aria-current', 'page');
	await expect(privateLink(ada, 'salvage')).toBeVisible();
});
