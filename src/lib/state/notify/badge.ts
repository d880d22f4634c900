/**
 * The installed app's icon badge (the Badging API), where the browser has it: the number of
 * unread messages, or no badge at all at zero.
 */

interface BadgeNavigator {
	setAppBadge?: (count?: number) => Promise<void>;
	clearAppBadge?: () => Promise<void>;
}

/** Shows `count` on the app's icon (clears it at zero); does nothing where the API is missing. */
export function showBadge(count: number, nav: BadgeNavigator = globalThis.navigator as BadgeNavigator): void {
	if (nav === undefined || typeof nav.setAppBadge !== 'function') return;
	// Refused when the app is not installed or the page is not allowed: there is nothing to fix then.
	const ignore = () => undefined;
	if (count > 0) void nav.setAppBadge(count).catch(ignore);
	else if (typeof nav.clearAppBadge === 'function') void nav.clearAppBadge().catch(ignore);
	else void nav.setAppBadge(0).catch(ignore);
}
