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

const TIMEOUT_MS = 10_000;

/** Asks the relay at `origin` to archive the workspace of `inviteLink`. */
export async function archiveOnRelay(inviteLink: string, origin: string = location.origin): Promise<void> {
	const response = await fetch(new URL('/api/archive', origin), {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify({ invite: inviteLink }),
		signal: AbortSignal.timeout(TIMEOUT_MS)
	});
	if (response.ok) return;
	throw new RelayApiError(await explain(response), response.status);
}

/** Whether the relay at `origin` archives `workspaceId`; undefined when it cannot tell. */
export async function isArchivedOnRelay(workspaceId: string, origin: string = location.origin): Promise<boolean | undefined> {
	try {
		const response = await fetch(new URL(`/api/archive/${encodeURIComponent(workspaceId)}`, origin), {
			cache: 'no-store',
			signal: AbortSignal.timeout(TIMEOUT_MS)
		});
		if (response.status === 404 && (response.headers.get('content-type') ?? '').includes('json')) return false;
		if (!response.ok) return undefined;
		const body: unknown = await response.json();
		return typeof body === 'object' && body !== null && (body as { archived?: unknown }).archived === true;
	} catch {
		return undefined;
	}
}

async function explain(response: Response): Promise<string> {
	try {
		const body: unknown = await response.json();
		const error = typeof body === 'object' && body !== null ? (body as { error?: unknown }).error : undefined;
		if (typeof error === 'string' && error) return error.slice(0, 300);
	} catch {
		// Not JSON: not an Outpost relay, or a proxy's page.
	}
	return `HTTP ${response.status} ${response.statusText}`.trim();
}
