/**
 * Calling the relay's HTTP APIs (relay/json.ts) from the app's API clients: reading their
 * answers, and signed calls (signedRequest.ts) over a fresh challenge.
 */
import type { DeviceKey } from '../doc/deviceKey.js';
import { signBytes } from '../doc/signature.js';
import { RELAY_CHALLENGE_PATH, SignedHeaders, signedRequestBytes } from './signedRequest.js';

/** Who signs: this device's identity. */
export interface Signer {
	peerId: string;
	privateKey: DeviceKey;
}

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

/** The origin of the page (the relay that served the app); '' outside a browser. */
export function pageOrigin(): string {
	return (globalThis as { location?: { origin?: string } }).location?.origin ?? '';
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

/**
 * One call signed by `signer` over a fresh challenge from `challengePath`: the JSON answer,
 * or a {@link RelayApiError} with the relay's explanation. `path` is signed as sent.
 */
export async function signedCall(
	signer: Signer,
	origin: string,
	method: string,
	path: string,
	body = '',
	challengePath: string = RELAY_CHALLENGE_PATH,
	timeoutMs: number = RELAY_API_TIMEOUT_MS
): Promise<object> {
	const signal = AbortSignal.timeout(timeoutMs);
	const answer = (await relayAnswer(await fetch(new URL(challengePath, origin), { method: 'POST', signal }))) as { challenge?: unknown };
	if (typeof answer.challenge !== 'string') throw new RelayApiError('the relay gave no challenge', 500);
	const challenge = answer.challenge;
	const signature = await signBytes(signer.privateKey, signedRequestBytes({ method, path, body, challenge, peer: signer.peerId }));
	const response = await fetch(new URL(path, origin), {
		method,
		headers: {
			...(body ? { 'content-type': 'application/json' } : {}),
			[SignedHeaders.peer]: signer.peerId,
			[SignedHeaders.challenge]: challenge,
			[SignedHeaders.signature]: signature
		},
		...(body ? { body } : {}),
		signal
	});
	return relayAnswer(response);
}
