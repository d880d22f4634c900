/**
 * Moderation and channel rights end to end: the owner hides a member's message for everyone; both browsers show
 * it as hidden by an admin (who and when) in place of its text, the member gets no "Hide"
 * control, and the owner shows it again; and a read-only channel where a member reads but
 * cannot post until the owner's signed settings change lets everyone post; and a guest reads but gets no
 * composer and no New channel. Two browsers in separate contexts over a relay
 * process of the test's own, in the network namespace (scripts/in-netns.sh).
 */
import type { Page } from '@playwright/test';
import { expect, test } from './suite';
import { useDevices } from './devices';
import { channelLink, createWorkspace, inviteLinkOf, joinWith, post, setDisplayName } from './helpers';

const { relay, device } = useDevices();

test.setTimeout(120_000);

function message(page: Page, text: string) {
	return page.getByRole('main').getByRole('article').filter({ hasText: text });
}

test('an admin hides a message for everyone, shown with who hid it, and shows it again', async () => {
	const r = await relay(4330);
	const ada = await device(r);
	await setDisplayName(ada, 'Ada');
	await createWorkspace(ada, 'Deck');
	const link = await inviteLinkOf(ada);
	const bea = await device(r);
	await joinWith(bea, link, 'Bea');
	await expect(bea.getByRole('navigation', { name: 'Channels' }).getByRole('heading', { name: 'Deck' })).toBeVisible({ timeout: 30_000 });
	await channelLink(bea, 'general').click();

	await post(bea, 'an off-topic rant');
	const onAda = message(ada, 'an off-topic rant');
	await expect(onAda).toBeVisible({ timeout: 20_000 });
	// A member cannot hide others' messages; the owner can.
	await post(ada, 'the owner speaks');
	await expect(message(bea, 'the owner speaks')).toBeVisible({ timeout: 20_000 });
	await message(bea, 'the owner speaks').hover();
	await expect(message(bea, 'the owner speaks').getByRole('button', { name: 'Hide for everyone' })).toHaveCount(0);

	await onAda.hover();
	await onAda.getByRole('button', { name: 'Hide for everyone' }).click();
	for (const page of [ada, bea]) {
		const hidden = page.getByRole('main').getByRole('article', { name: 'Bea' }).getByRole('note').filter({ hasText: 'Hidden by an admin (Ada' });
		await expect(hidden).toBeVisible({ timeout: 20_000 });
		await expect(message(page, 'an off-topic rant')).toHaveCount(0);
	}

	// Search leaves the hidden message out too.
	const box = bea.getByRole('searchbox', { name: 'Search' });
	await box.fill('off-topic');
	await box.press('Enter');
	await expect(bea.getByText('No results for “off-topic”')).toBeVisible({ timeout: 20_000 });
	await box.press('Escape');

	await ada.getByRole('button', { name: 'Show again' }).click();
	await expect(message(bea, 'an off-topic rant')).toBeVisible({ timeout: 20_000 });
	await expect(message(ada, 'an off-topic rant')).toBeVisible();
});

test('a read-only channel: a member reads but cannot post until an admin lets everyone post', async () => {
	const r = await relay(4334);
	const ada = await device(r);
	await setDisplayName(ada, 'Ada');
	await createWorkspace(ada, 'Bridge');
	await ada.getByRole('button', { name: 'New channel' }).click();
	const dialog = ada.getByRole('dialog', { name: 'New channel' });
	await dialog.getByRole('textbox', { name: 'Channel name' }).fill('orders');
	await dialog.getByRole('checkbox', { name: 'Read-only (announcements)' }).check();
	await dialog.getByRole('button', { name: 'Create channel' }).click();
	await expect(channelLink(ada, 'orders')).toHaveAttribute('aria-current', 'page');
	await post(ada, 'all hands at noon');

	const link = await inviteLinkOf(ada);
	const bea = await device(r);
	await joinWith(bea, link, 'Bea');
	await expect(channelLink(bea, 'orders')).toBeVisible({ timeout: 30_000 });
	await channelLink(bea, 'orders').click();
	await expect(message(bea, 'all hands at noon')).toBeVisible({ timeout: 20_000 });
	// The member reads, cannot post, is told why, and gets no settings controls.
	await expect(bea.getByRole('textbox', { name: 'Message', exact: true })).toBeDisabled();
	await expect(bea.getByRole('main').getByRole('note').filter({ hasText: 'Only admins post in this channel' })).toBeVisible();
	await expect(bea.getByRole('button', { name: 'Rename channel' })).toHaveCount(0);
	await expect(bea.getByRole('button', { name: 'Let everyone post' })).toHaveCount(0);

	// The admin opens the channel with a signed settings change; the member may post now.
	await ada.getByRole('button', { name: 'Let everyone post' }).click();
	await expect(ada.getByRole('button', { name: 'Make read-only' })).toBeVisible();
	await expect(bea.getByRole('textbox', { name: 'Message', exact: true })).toBeEnabled({ timeout: 20_000 });
	await post(bea, 'aye, noon');
	await expect(message(ada, 'aye, noon')).toBeVisible({ timeout: 20_000 });
});

test('a guest reads and reacts but cannot post or make channels', async () => {
	const r = await relay(4338);
	const ada = await device(r);
	await setDisplayName(ada, 'Ada');
	await createWorkspace(ada, 'Dock');
	await post(ada, 'visitors welcome');
	const link = await inviteLinkOf(ada, { role: 'Guest (read-only)' });
	const gus = await device(r);
	await joinWith(gus, link, 'Gus');
	await expect(channelLink(gus, 'general')).toBeVisible({ timeout: 30_000 });
	await channelLink(gus, 'general').click();
	await expect(message(gus, 'visitors welcome')).toBeVisible({ timeout: 20_000 });
	await expect(gus.getByRole('textbox', { name: 'Message', exact: true })).toBeDisabled({ timeout: 20_000 });
	await expect(gus.getByRole('main').getByRole('note').filter({ hasText: 'Guests read and react; they do not post.' })).toBeVisible();
	await expect(gus.getByRole('button', { name: 'New channel' })).toHaveCount(0);
	await expect(ada.getByRole('button', { name: 'New channel' })).toBeVisible();
});
