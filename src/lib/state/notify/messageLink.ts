/**
 * The address of one message, as a notification carries it: `#/m/<workspace>/<channel>/<message>`
 * with `/<thread parent>` for a thread reply. The service worker opens it in a new window when
 * none is open; an open window gets the same target posted to it.
 */

/** A message to open. */
export interface MessageTarget {
	workspaceId: string;
	channelId: string;
	messageId: string;
	/** The thread's parent, for a thread reply. */
	parent?: string;
}

/** Prefix of a message link's hash. */
export const MESSAGE_LINK_PREFIX = '#/m/';

/** The hash that addresses `target`. */
export function messageLinkHash(target: MessageTarget): string {
	const parts = [target.workspaceId, target.channelId, target.messageId, ...(target.parent === undefined ? [] : [target.parent])];
	return MESSAGE_LINK_PREFIX + parts.map(encodeURIComponent).join('/');
}

/** The target a hash addresses, or undefined when it is not a message link. */
export function parseMessageLink(hash: string): MessageTarget | undefined {
	if (!hash.startsWith(MESSAGE_LINK_PREFIX)) return undefined;
	const parts = hash.slice(MESSAGE_LINK_PREFIX.length).split('/');
	if (parts.length < 3 || parts.length > 4 || parts.some((p) => p === '')) return undefined;
	let decoded: string[];
	try {
		decoded = parts.map(decodeURIComponent);
	} catch {
		return undefined;
	}
	const [workspaceId, channelId, messageId, parent] = decoded as [string, string, string, string | undefined];
	return { workspaceId, channelId, messageId, ...(parent === undefined ? {} : { parent }) };
}

/** Whether a value posted by the service worker is a {@link MessageTarget}. */
export function isMessageTarget(value: unknown): value is MessageTarget {
	if (typeof value !== 'object' || value === null) return false;
	const t = value as Record<string, unknown>;
	return (
		typeof t.workspaceId === 'string' &&
		typeof t.channelId === 'string' &&
		typeof t.messageId === 'string' &&
		(t.parent === undefined || typeof t.parent === 'string')
	);
}
