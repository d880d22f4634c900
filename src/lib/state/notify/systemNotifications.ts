/**
 * System notifications in the browser: shown through the service worker's registration (so a
 * click reaches the worker, which focuses or opens a window: src/service-worker.ts), and the
 * page's side of a click: the worker posts the message to open.
 */
import { isMessageTarget, messageLinkHash, type MessageTarget } from './messageLink.js';

/** What the service worker posts to a window when one of its notifications is clicked. */
export const OPEN_MESSAGE = 'open-message';

/** A notification about one message. */
export interface MessageNotification {
	title: string;
	body: string;
	/** Notifications with the same tag replace each other (one per channel). */
	tag: string;
	target: MessageTarget;
}

/** Where notifications go: the browser's ({@link browserNotifications}) or a test's. */
export interface NotificationSink {
	/** Whether a notification would be shown now: permission granted and the app hidden. */
	wanted(): boolean;
	show(notification: MessageNotification): Promise<void>;
}

/** The browser's notifications: only while the page is hidden, through the service worker when there is one. */
export const browserNotifications: NotificationSink = {
	wanted: () =>
		typeof Notification !== 'undefined' && Notification.permission === 'granted' && typeof document !== 'undefined' && document.visibilityState === 'hidden',
	async show({ title, body, tag, target }) {
		const url = new URL(messageLinkHash(target), location.href).href;
		const options: NotificationOptions = { body, tag, icon: '/icon-192.png', data: { url, target } };
		const registration = 'serviceWorker' in navigator ? await navigator.serviceWorker.getRegistration() : undefined;
		if (registration) await registration.showNotification(title, options);
		// Without a worker (a development server), a page notification still tells the user.
		else new Notification(title, options).onclick = () => window.focus();
	}
};

/**
 * Calls `open` with the message of each notification the user clicks while this page is open
 * (the service worker posts it); returns a function that stops listening.
 */
export function watchNotificationClicks(open: (target: MessageTarget) => void): () => void {
	if (typeof navigator === 'undefined' || !('serviceWorker' in navigator)) return () => undefined;
	const listener = (event: MessageEvent) => {
		const data = event.data as { type?: unknown; target?: unknown } | null;
		if (data?.type === OPEN_MESSAGE && isMessageTarget(data.target)) open(data.target);
	};
	navigator.serviceWorker.addEventListener('message', listener);
	return () => navigator.serviceWorker.removeEventListener('message', listener);
}
