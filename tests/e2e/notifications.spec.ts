/**
 * Notifications end to end, in Chromium with notification permission granted: Ada mentions Bea
 * while Bea's app is hidden and Bea's service worker shows a system notification; a mention in
 * a channel Bea set to "Nothing" stays quiet; the app badge is set from the unread count; a
 * click on the notification opens its message. Two browsers over a relay of the test's own.
 *
 * Making a page hidden: headless Chromium reports every page as visible, whatever is in front
 * (a second tab, a minimised window via CDP `Browser.setWindowBounds`: both tried, both stay
 * `visible`), and freezing the page (`Page.setWebLifecycleState`) would stop it from syncing at
 * all. So an init script overrides `document.visibilityState` (and `document.hidden`) with a
 * switch the test flips, dispatching `visibilitychange` as a browser does. Everything else is
 * real: the permission, the service worker and its `showNotification`, `getNotifications`.
 */
import type { Page } from '@playwright/test';
import { expect, test } from './suite';
import { useDevices } from './devices';
import { channelLink, createChannel, createWorkspace, inviteLinkOf, joinWith, message, post, setDisplayName } from './helpers';

const { relay, device } = useDevices();

test.setTimeout(90_000);

declare global {
	interface Window {
		__setHidden?: (hidden: boolean) => void;
		__badges?: number[];
	}
}

/**
 * Init script: the visibility switch described in the module comment, and a spy that records
 * each Badging API call before passing it on to the real one.
 */
function hiddenSwitchAndBadgeSpy(): void {
	let hidden = false;
	Object.defineProperty(Document.prototype, 'visibilityState', { configurable: true, get: () => (hidden ? 'hidden' : 'visible') });
	Object.defineProperty(Document.prototype, 'hidden', { configurable: true, get: () => hidden });
	window.__setHidden = (value) => {
		hidden = value;
		document.dispatchEvent(new Event('visibilitychange'));
	};
	const badges: number[] = (window.__badges = []);
	const proto = Navigator.prototype as Navigator & { setAppBadge?: (n?: number) => Promise<void>; clearAppBadge?: () => Promise<void> };
	const set = proto.setAppBadge;
	const clear = proto.clearAppBadge;
	if (set) {
		proto.setAppBadge = function (n?: number) {
			badges.push(n ?? 0);
			return set.call(this, n);
		};
	}
	if (clear) {
		proto.clearAppBadge = function () {
			badges.push(0);
			return clear.call(this);
		};
	}
}

/** The notifications Bea's service worker shows now. */
function shown(page: Page) {
	return page.evaluate(async () => {
		const registration = await navigator.serviceWorker.ready;
		return (await registration.getNotifications()).map((n) => ({ title: n.title, body: n.body }));
	});
}

test('a mention reaches a hidden device as a notification, a channel set to Nothing stays quiet, the badge counts, a click opens the message', async () => {
	const r = await relay(4362);
	const ada = await device(r);
	await setDisplayName(ada, 'Ada');
	await createWorkspace(ada, 'Ship');
	// Nothing asks for permission at start: the offer waits for a click, and "Not now" hides it.
	await expect(ada.getByRole('button', { name: 'Turn on notifications' })).toBeVisible();
	expect(await ada.evaluate(() => Notification.permission)).toBe('default');
	await ada.getByRole('button', { name: 'Not now' }).click();
	await expect(ada.getByRole('button', { name: 'Turn on notifications' })).toHaveCount(0);
	await createChannel(ada, 'random');
	await channelLink(ada, 'general').click();
	const link = await inviteLinkOf(ada);

	const bea = await device(r);
	await bea.context().grantPermissions(['notifications']);
	await bea.context().addInitScript(hiddenSwitchAndBadgeSpy);
	await bea.reload();
	await joinWith(bea, link, 'Bea');
	await expect(channelLink(bea, 'random')).toBeVisible({ timeout: 30_000 });
	// With permission granted there is no offer; Settings says notifications are on.
	await expect(bea.getByRole('button', { name: 'Turn on notifications' })).toHaveCount(0);
	await channelLink(bea, 'random').click();
	const level = bea.getByRole('combobox', { name: 'Notifications' });
	await expect(level).toHaveValue('mentions');
	await level.selectOption('nothing');
	await channelLink(bea, 'general').click();
	await expect(channelLink(bea, 'general')).toHaveAttribute('aria-current', 'page');
	await expect(bea.getByRole('combobox', { name: 'Notifications' })).toHaveValue('mentions');
	await bea.evaluate(() => navigator.serviceWorker.ready);
	await bea.evaluate(() => window.__setHidden?.(true));

	// Ada writes in the channel Bea set to Nothing (a mention, even), then mentions Bea in general.
	await channelLink(ada, 'random').click();
	await post(ada, '@Bea muted: the deck log');
	await channelLink(ada, 'general').click();
	await post(ada, 'hey @Bea, the pump needs you');

	await expect.poll(() => shown(bea), { timeout: 30_000 }).toEqual([{ title: '# general', body: 'Ada: hey @Bea, the pump needs you' }]);
	// The muted channel's message arrived (it counts as unread, so the badge shows 1) and still no notification of it.
	await expect.poll(() => bea.evaluate(() => window.__badges ?? []), { timeout: 20_000 }).toContain(1);
	expect(await shown(bea)).toHaveLength(1);
	await expect(channelLink(bea, 'random')).toContainText('1');

	// A click on the notification: a synthetic `notificationclick` runs the worker's own handler,
	// which focuses Bea's window and posts the message to open (the channel, scrolled to it).
	await bea.evaluate(() => window.__setHidden?.(false));
	await channelLink(bea, 'random').click();
	await expect(channelLink(bea, 'random')).toHaveAttribute('aria-current', 'page');
	const [worker] = bea.context().serviceWorkers();
	expect(worker).toBeDefined();
	await worker!.evaluate(async () => {
		// The worker's globals (the e2e types know the page's only).
		const sw = self as unknown as {
			registration: ServiceWorkerRegistration;
			dispatchEvent(event: Event): boolean;
			NotificationEvent: new (type: string, init: { notification: Notification }) => Event;
		};
		const [notification] = await sw.registration.getNotifications();
		// The handler starts its work before `waitUntil`, which refuses an event the script made.
		sw.dispatchEvent(new sw.NotificationEvent('notificationclick', { notification: notification! }));
	});
	await expect(channelLink(bea, 'general')).toHaveAttribute('aria-current', 'page');
	await expect(message(bea, 'hey @Bea, the pump needs you')).toBeFocused();
	expect(await shown(bea)).toHaveLength(0);
});
