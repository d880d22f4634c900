/**
 * The relay's HTTP API as the app uses it (relay/api.ts): asking the relay that served the
 * app to archive a workspace, and whether it already does. Only the relay the user opened
 * the app from is ever asked; the invite (and so the secret) travels in the request body
 * over that origin's HTTPS (or localhost) connection.
 */

/** A failed API call, with the relay's own explanation when it gave one. */
export class RelayApiError extends Error {
	override name = 'RelayApiError';
	constructor(
		message: string,
		readonly status: number
	) {
		super(message);
	}
}

/** How long a call to the relay may take. */
export const RELAY_API_TIMEOUT_MS = 10_000;

/** Asks the relay at `origin` to archive the workspace of `inviteLink`. */
export async function archiveOnRelay(inviteLink: string, origin: string = location.origin): Promise<void> {
	const response = await fetch(new URL('/api/archive', origin), {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify({ invite: inviteLink }),
		signal: AbortSignal.timeout(RELAY_API_TIMEOUT_MS)
	});
	await relayAnswer(response);
}

/** Whether the relay at `origin` archives `workspaceId`; undefined when it cannot tell. */
export async function isArchivedOnRelay(workspaceId: string, origin: string = location.origin): Promise<boolean | undefined> {
	try {
		// Not a literal in the call: Node's RequestInit (the relay's type check) has no `cache`.
		const init = { cache: 'no-store' as const, signal: AbortSignal.timeout(RELAY_API_TIMEOUT_MS) };
		const response = await fetch(new URL(`/api/archive/${encodeURIComponent(workspaceId)}`, origin), init);
		if (response.status === 404 && (response.headers.get('content-type') ?? '').includes('json')) return false;
		if (!response.ok) return undefined;
		const body: unknown = await response.json();
		return typeof body === 'object' && body !== null && (body as { archived?: unknown }).archived === true;
	} catch {
		return undefined;
	}
}

/**
 * The JSON object a relay API answered with, or a {@link RelayApiError} with the relay's own
 * explanation (its `error` field) or the HTTP status when it gave none.
 */
export async function relayAnswer(response: Response): Promise<object> {
	let body: unknown;
	try {
		body = await response.json();
	} catch {
		// Not JSON: not an Outpost relay (or an old one), or a proxy's page.
	}
	if (response.ok && typeof body === 'object' && body !== null) return body;
	const error = typeof body === 'object' && body !== null ? (body as { error?: unknown }).error : undefined;
	throw new RelayApiError(typeof error === 'string' && error ? error.slice(0, 300) : `HTTP ${response.status} ${response.statusText}`.trim(), response.status);
}
