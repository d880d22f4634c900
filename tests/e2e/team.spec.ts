/**
 * The team end to end: invitations made in the Invite dialog, the Members panel, removal
 * (after which the removed browser gets nothing new and sends nothing that counts), refused
 * invitations (revoked, used up, expired) and "Add a device". Browsers in separate contexts
 * over a relay process of the test's own, in the network namespace (scripts/in-netns.sh).
 */
import type { Locator, Page } from '@playwright/test';
import { expect, test } from './suite';
import { useDevices } from './devices';
import { channelLink, createChannel, createInvite, createWorkspace, inviteDialog, inviteLinkOf, joinWith, post, setDisplayName } from './helpers';
import type { RelayProcess } from './relays';

const { relay, device } = useDevices();

test.setTimeout(180_000);

/** Ada's browser with her name set and a new workspace open. */
async function owner(at: RelayProcess, workspace: string, options: { clock?: boolean } = {}): Promise<Page> {
	const ada = await device(at, options);
	await setDisplayName(ada, 'Ada');
	await createWorkspace(ada, workspace);
	return ada;
}

/** Waits until the workspace is synced and on screen with its "general" channel open. */
async function expectWorkspace(page: Page, name: string): Promise<void> {
	await expect(page.getByRole('navigation', { name: 'Channels' }).getByRole('heading', { name })).toBeVisible({ timeout: 30_000 });
	await channelLink(page, 'general').click();
}

function message(page: Page, text: string) {
	return page.getByRole('main').getByRole('article').filter({ hasText: text });
}

/** Opens the Members panel; returns it. */
async function openMembers(page: Page) {
	await page.getByRole('button', { name: 'Members', exact: true }).click();
	const dialog = page.getByRole('dialog', { name: /^Members of / });
	await expect(dialog).toBeVisible();
	return dialog;
}

/** A member's entry in the Members panel. */
function memberEntry(panel: Locator, name: string) {
	return panel.getByRole('list', { name: 'Members' }).getByRole('listitem', { name, exact: true });
}

/**
 * A fresh browser joins with `link` and waits for the joining screen to say `problem`. (Fresh:
 * a device that cancelled a join still presents its first admission when it tries again.)
 */
async function refused(at: RelayProcess, link: string, workspace: string, problem: string | RegExp): Promise<void> {
	const page = await device(at);
	await joinWith(page, link, 'Eve');
	await expect(page.getByRole('heading', { name: `Joining ${workspace}` })).toBeVisible();
	await expect(page.getByRole('alert')).toContainText(problem, { timeout: 30_000 });
	await expect(page.getByRole('heading', { name: `Joining ${workspace}` })).toBeVisible();
	await page.getByRole('button', { name: 'Cancel joining' }).click();
	await expect(page.getByRole('button', { name: 'Join workspace' }).first()).toBeVisible();
	await page.context().close();
}

test('invite and join; the owner removes a member, who then gets nothing new and sends nothing that counts', async () => {
	const r = await relay(4300);
	const ada = await owner(r, 'Crew');
	const link = await inviteLinkOf(ada, { uses: 3 });
	const bea = await device(r);
	const cy = await device(r);
	await joinWith(bea, link, 'Bea');
	await joinWith(cy, link, 'Cy');
	await expectWorkspace(bea, 'Crew');
	await expectWorkspace(cy, 'Crew');

	// The Members panel of the inviter lists the newcomers as members with one device each.
	let panel = await openMembers(ada);
	await expect(memberEntry(panel, 'Bea')).toBeVisible({ timeout: 20_000 });
	await expect(memberEntry(panel, 'Bea').getByText('1 device')).toBeVisible();
	await expect(memberEntry(panel, 'Cy')).toBeVisible();
	// The sole owner cannot step down, so no role is offered for Ada; Bea's can be changed.
	await expect(panel.getByRole('combobox', { name: 'Role of Ada' })).toHaveCount(0);
	await expect(memberEntry(panel, 'Ada')).toContainText('Owner');
	await expect(panel.getByRole('combobox', { name: 'Role of Bea' })).toHaveValue('member');
	// The invitation counts its uses.
	await panel.getByRole('button', { name: 'Close' }).click();
	await ada.getByRole('button', { name: 'Invite', exact: true }).click();
	await expect(inviteDialog(ada).getByRole('list', { name: 'Invitations' }).getByRole('listitem').first()).toContainText('2 of 3 used');
	await inviteDialog(ada).getByRole('button', { name: 'Close' }).click();

	await post(ada, 'before removal');
	await expect(message(bea, 'before removal')).toBeVisible({ timeout: 20_000 });
	await expect(message(cy, 'before removal')).toBeVisible({ timeout: 20_000 });

	// Removing asks once, saying plainly what it does and does not do. Escape cancels that step
	// only: the panel stays open, with the focus back on the button that asked.
	panel = await openMembers(ada);
	await panel.getByRole('button', { name: 'Remove Bea' }).click();
	const confirm = panel.getByRole('alertdialog', { name: 'Remove Bea?' });
	await expect(confirm.getByRole('button', { name: 'Cancel' })).toBeFocused();
	await ada.keyboard.press('Escape');
	await expect(confirm).toHaveCount(0);
	await expect(panel).toBeVisible();
	await expect(panel.getByRole('button', { name: 'Remove Bea' })).toBeFocused();
	await panel.getByRole('button', { name: 'Remove Bea' }).click();
	await expect(confirm).toContainText(
		'Bea will get nothing new from now on: their devices are disconnected and the workspace key is changed. What their devices already hold cannot be recalled.'
	);
	// The link Bea came in by still has a use: removal keeps her devices out, not her nor whoever else saw it.
	await expect(confirm.getByRole('checkbox', { name: /^Also revoke the open multi-use invitation link \(1 use left\): anyone who saw it, including Bea,/ })).toBeChecked();
	await confirm.getByRole('button', { name: 'Remove', exact: true }).click();
	await expect(confirm).toBeHidden();
	await expect(memberEntry(panel, 'Bea')).toHaveCount(0);
	await expect(memberEntry(panel, 'Cy')).toBeVisible();
	await panel.getByRole('button', { name: 'Close' }).click();
	await ada.getByRole('button', { name: 'Invite', exact: true }).click();
	await expect(inviteDialog(ada).getByRole('list', { name: 'Invitations' }).getByRole('listitem').first()).toContainText('Revoked');
	await inviteDialog(ada).getByRole('button', { name: 'Close' }).click();

	// The third member still gets the owner's messages; the removed one does not.
	await post(ada, 'news for members only');
	await expect(message(cy, 'news for members only')).toBeVisible({ timeout: 20_000 });
	await post(cy, 'Cy is still here');
	await expect(message(ada, 'Cy is still here')).toBeVisible({ timeout: 20_000 });
	// What the removed browser writes stays on it.
	await post(bea, 'Bea speaks after removal');
	await bea.waitForTimeout(5000);
	await expect(message(bea, 'news for members only')).toHaveCount(0);
	await expect(message(bea, 'Cy is still here')).toHaveCount(0);
	await expect(message(ada, 'Bea speaks after removal')).toHaveCount(0);
	await expect(message(cy, 'Bea speaks after removal')).toHaveCount(0);
});

test('revoked, used-up and expired invitations are refused with their own message', async () => {
	const r = await relay(4310);
	const ada = await owner(r, 'Guarded', { clock: true });
	await ada.getByRole('button', { name: 'Invite', exact: true }).click();
	const dialog = inviteDialog(ada);
	const revokedLink = await createInvite(dialog);
	const invitations = dialog.getByRole('list', { name: 'Invitations' });
	await invitations.getByRole('button', { name: /^Revoke invitation: Member, 0 of 1 used/ }).click();
	// Revoking asks first: nobody can join with the link afterwards.
	const confirmRevoke = dialog.getByRole('alertdialog', { name: 'Revoke this invitation?' });
	await expect(confirmRevoke).toContainText('Nobody can join with its link any more');
	await confirmRevoke.getByRole('button', { name: 'Revoke', exact: true }).click();
	await expect(confirmRevoke).toHaveCount(0);
	await expect(invitations.getByRole('listitem').first()).toContainText('Revoked');
	await expect(invitations.getByRole('button', { name: /^Revoke invitation/ })).toHaveCount(0);
	const usedLink = await createInvite(dialog);
	const expiredLink = await createInvite(dialog, { validFor: '1 hour' });
	await dialog.getByRole('button', { name: 'Close' }).click();

	await refused(r, revokedLink, 'Guarded', 'This invite was revoked by an admin');

	// One use: Bea takes it, then it admits nobody else.
	const bea = await device(r);
	await joinWith(bea, usedLink, 'Bea');
	await expectWorkspace(bea, 'Guarded');
	await bea.context().close();
	await refused(r, usedLink, 'Guarded', 'This invite has already been used');

	// Two hours later by Ada's clock (she checks expiry with her own), the 1-hour one has expired.
	await ada.clock.setSystemTime(Date.now() + 2 * 60 * 60 * 1000);
	await refused(r, expiredLink, 'Guarded', 'This invite has expired');
});

test('"Add a device" admits a second device of the same member', async () => {
	const r = await relay(4320);
	const ada = await owner(r, 'Devices');
	// Invited from #deck, Bea lands in #deck.
	await createChannel(ada, 'deck');
	const link = await inviteLinkOf(ada, { uses: 1 });
	await channelLink(ada, 'general').click();
	const bea = await device(r);
	await joinWith(bea, link, 'Bea');
	await expect(channelLink(bea, 'deck')).toHaveAttribute('aria-current', 'page', { timeout: 30_000 });
	await expectWorkspace(bea, 'Devices');

	// A member (not an admin) is told only admins invite, and can add a device of her own.
	await bea.getByRole('button', { name: 'Invite', exact: true }).click();
	await expect(inviteDialog(bea).getByRole('note')).toContainText('Only admins and owners invite people');
	await expect(inviteDialog(bea).getByRole('button', { name: 'Create invite link' })).toHaveCount(0);
	await inviteDialog(bea).getByRole('button', { name: 'Close' }).click();

	const panel = await openMembers(bea);
	const mine = memberEntry(panel, 'Bea');
	await expect(mine).toContainText('you');
	await expect(panel.getByRole('combobox', { name: 'Role of Ada' })).toHaveCount(0);
	await expect(panel.getByRole('button', { name: 'Remove Ada' })).toHaveCount(0);
	await mine.getByRole('button', { name: 'Add a device' }).click();
	await expect(mine.getByRole('img', { name: 'QR code of the device link' })).toBeVisible();
	const deviceLink = await mine.getByRole('textbox', { name: 'Device link' }).inputValue();
	expect(deviceLink).toContain('#invite?');
	await panel.getByRole('button', { name: 'Close' }).click();

	const phone = await device(r);
	// Her own name again: the team takes a member's name from its devices' display name.
	await joinWith(phone, deviceLink, 'Bea');
	await expectWorkspace(phone, 'Devices');
	await post(phone, 'from her phone');
	await expect(message(ada, 'from her phone')).toBeVisible({ timeout: 20_000 });

	// Ada sees one member Bea with two devices.
	const adaPanel = await openMembers(ada);
	const beaEntry = memberEntry(adaPanel, 'Bea');
	await expect(beaEntry.getByText('2 devices')).toBeVisible({ timeout: 20_000 });
	await expect(adaPanel.getByRole('list', { name: 'Members' }).getByRole('listitem', { name: /^Bea/ })).toHaveCount(1);
	await beaEntry.getByText('2 devices').click();
	await expect(beaEntry.getByRole('list', { name: 'Devices of Bea' }).getByRole('listitem')).toHaveCount(2);
	await expect(beaEntry.getByRole('button', { name: /^Remove device …/ })).toHaveCount(2);

	// On the phone, the panel marks this device.
	const phonePanel = await openMembers(phone);
	const self = memberEntry(phonePanel, 'Bea');
	await self.getByText('2 devices').click();
	await expect(self.getByRole('list', { name: 'Devices of Bea' }).getByText('this device')).toBeVisible();
});
