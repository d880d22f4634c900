/**
 * Whether this device shows system notifications, and the first-run offer to turn them on.
 * Nothing asks the browser for permission until the user chooses "Turn on notifications"
 * (browsers ignore or penalise a request nobody asked for); a dismissed offer stays dismissed.
 */
import type { OutpostDb } from '../../store/db.js';

/** What the user sees: on, off (not asked yet), blocked by the browser, or not available here. */
export const NotifyStatus = { on: 'on', off: 'off', blocked: 'blocked', unsupported: 'unsupported' } as const;
export type NotifyStatus = (typeof NotifyStatus)[keyof typeof NotifyStatus];

/** Settings key of the dismissed first-run offer. */
export const PROMPT_DISMISSED_KEY = 'notifications.promptDismissed';

function currentStatus(): NotifyStatus {
	if (typeof Notification === 'undefined') return NotifyStatus.unsupported;
	if (Notification.permission === 'granted') return NotifyStatus.on;
	return Notification.permission === 'denied' ? NotifyStatus.blocked : NotifyStatus.off;
}

/** See the module comment. */
export class NotifyPermission {
	status = $state<NotifyStatus>(NotifyStatus.unsupported);
	/** Whether the first-run offer was dismissed (true until the setting is read). */
	dismissed = $state(true);
	private db: OutpostDb | undefined;

	/** Reads the permission and whether the offer was dismissed. */
	async load(db: OutpostDb): Promise<void> {
		this.db = db;
		this.status = currentStatus();
		this.dismissed = (await db.settings.get(PROMPT_DISMISSED_KEY))?.value === true;
	}

	/** Whether to show the first-run offer: notifications are off, and the user has not said no. */
	get offer(): boolean {
		return this.status === NotifyStatus.off && !this.dismissed;
	}

	/** Asks the browser for permission (call only from the user's click); returns the new status. */
	async enable(): Promise<NotifyStatus> {
		if (typeof Notification === 'undefined') return NotifyStatus.unsupported;
		await Notification.requestPermission();
		this.status = currentStatus();
		return this.status;
	}

	/** Hides the first-run offer for good (Settings still has the button). */
	async dismiss(): Promise<void> {
		this.dismissed = true;
		await this.db?.settings.put({ key: PROMPT_DISMISSED_KEY, value: true });
	}
}
