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

/** Where a relay describes itself (`{ peerId, multiaddrs }`, relay/server.ts; read by relayInfo.ts too). */
export const RELAY_INFO_PATH = '/.well-known/outpost.json';

/** The peer id of the relay at each origin, as this page learned it when it started. */
const relayIds = new Map<string, string>();

/**
 * Keeps `peerId` as the relay at `origin` (relayInfo.ts, when the page reads the relay that
 * served it, the one it adds to its teams): signed calls to that origin name this relay.
 */
export function pinRelayPeerId(origin: string, peerId: string): void {
	const key = new URL(origin).origin;
	if (!relayIds.has(key)) relayIds.set(key, peerId);
}

/**
 * The peer id of the relay at `origin`, the one a signed call names (signedRequest.ts): as the
 * page pinned it, else as the relay describes itself now.
 */
async function relayPeerId(origin: string, signal: AbortSignal): Promise<string> {
	const pinned = relayIds.get(new URL(origin).origin);
	if (pinned !== undefined) return pinned;
	const info = await relayAnswer(await fetch(new URL(RELAY_INFO_PATH, origin), { signal }));
	const peerId = (info as { peerId?: unknown }).peerId;
	if (typeof peerId !== 'string' || !/^[1-9A-HJ-NP-Za-km-z]{40,60}$/.test(peerId)) throw new RelayApiError('the relay did not say which relay it is', 502);
	return peerId;
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

/**
 * One call signed by `signer` over a fresh challenge from `challengePath`, for the relay at
 * `origin` (named by its peer id: another relay refuses it): the JSON answer, or a
 * {@link RelayApiError} with the relay's explanation. `path` is signed as sent. `abort` (the
 * caller's own signal, e.g. a stopped answer's) ends the call early, with its reason.
 */
export async function signedCall(
	signer: Signer,
	origin: string,
	method: string,
	path: string,
	body = '',
	challengePath: string = RELAY_CHALLENGE_PATH,
	timeoutMs: number = RELAY_API_TIMEOUT_MS,
	abort?: AbortSignal
): Promise<object> {
	if (abort === undefined) return signedCallWithin(signer, origin, method, path, body, challengePath, AbortSignal.timeout(timeoutMs));
	// A timer of this call's own rather than `AbortSignal.any` over `AbortSignal.timeout`, which
	// some Node versions lose to the garbage collector (toolLoop.ts `deadline`).
	const controller = new AbortController();
	const timer = setTimeout(() => controller.abort(new DOMException('The time limit passed', 'TimeoutError')), timeoutMs);
	const onAbort = () => controller.abort(abort.reason);
	if (abort.aborted) onAbort();
	else abort.addEventListener('abort', onAbort, { once: true });
	try {
		return await signedCallWithin(signer, origin, method, path, body, challengePath, controller.signal);
	} finally {
		clearTimeout(timer);
		abort.removeEventListener('abort', onAbort);
	}
}

async function signedCallWithin(signer: Signer, origin: string, method: string, path: string, body: string, challengePath: string, signal: AbortSignal): Promise<object> {
	const answer = (await relayAnswer(await fetch(new URL(challengePath, origin), { method: 'POST', signal }))) as { challenge?: unknown };
	if (typeof answer.challenge !== 'string') throw new RelayApiError('the relay gave no challenge', 500);
	const challenge = answer.challenge;
	const relay = await relayPeerId(origin, signal);
	const signature = await signBytes(signer.privateKey, signedRequestBytes({ method, path, body, challenge, peer: signer.peerId, relay }));
	const response = await fetch(new URL(path, origin), {
		method,
		headers: {
			...(body ? { 'content-type': 'application/json' } : {}),
			[SignedHeaders.peer]: signer.peerId,
			[SignedHeaders.challenge]: challenge,
			[SignedHeaders.relay]: relay,
			[SignedHeaders.signature]: signature
		},
		...(body ? { body } : {}),
		signal
	});
	return relayAnswer(response);
}
