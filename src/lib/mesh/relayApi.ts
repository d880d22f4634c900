/**
 * The relay's HTTP API as the app uses it (relay/api.ts): asking the relay that served the
 * app to archive a workspace, and whether it already does. Only the relay the user opened
 * the app from is ever asked; the invite (and so the secret) travels in the request body
 * over that origin's HTTPS (or localhost) connection.
 */
import { RELAY_API_TIMEOUT_MS, relayAnswer } from './relayHttp.js';

export { RelayApiError } from './relayHttp.js';

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
		const response = await fetch(new URL(`/api/archive/${encodeURIComponent(workspaceId)}`, origin), {
			cache: 'no-store',
			signal: AbortSignal.timeout(RELAY_API_TIMEOUT_MS)
		});
		if (response.status === 404 && (response.headers.get('content-type') ?? '').includes('json')) return false;
		if (!response.ok) return undefined;
		const body: unknown = await response.json();
		return typeof body === 'object' && body !== null && (body as { archived?: unknown }).archived === true;
	} catch {
		return undefined;
	}
}
