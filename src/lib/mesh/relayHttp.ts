/** Reading the answers of the relay's HTTP APIs (relay/json.ts), for the app's API clients. */

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
