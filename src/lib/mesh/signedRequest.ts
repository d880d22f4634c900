/**
 * Requests to the relay signed with this device's key (DESIGN.md "Membership"): the relay's
 * archive and API-key endpoints (relay/api.ts, relay/ai/keysApi.ts) act only for a current
 * device of the team's owners and admins (as the relay folds the team), proven by an Ed25519
 * signature of the device's libp2p identity over the request and a fresh, single-use
 * challenge the relay handed out moments before. A captured request cannot be replayed: its
 * challenge is spent. It names the relay it is for (that relay's peer id, as the relay that
 * served the app describes itself): another relay refuses it, so a request made for one relay
 * cannot be sent to a second one with a challenge of that one's (found in review: one admin's
 * request could make a second relay archive a workspace, or mint a key there). Shared by the
 * browser (apiKeysClient.ts, relayApi.ts) and the relay.
 */

/** Where the relay's API-key endpoints live. */
export const API_KEYS_PATH = '/api/keys';

/** Where the relay's shared tools (its MCP servers') are listed and called (relay/ai/toolsApi.ts). */
export const TOOLS_PATH = '/api/tools';

/** Where the relay's archive endpoints live. */
export const ARCHIVE_PATH = '/api/archive';

/** Where a fresh challenge is asked for (`POST`), for any signed request. */
export const RELAY_CHALLENGE_PATH = '/api/challenge';

/** The same challenges, under the API keys' path (older clients). */
export const CHALLENGE_PATH = `${API_KEYS_PATH}/challenge`;

/** Headers of a signed request. */
export const SignedHeaders = {
	/** The signer's libp2p peer id (it embeds the public key). */
	peer: 'x-outpost-peer',
	/** The challenge the relay handed out. */
	challenge: 'x-outpost-challenge',
	/** The peer id of the relay the request is for. */
	relay: 'x-outpost-relay',
	/** Base64 Ed25519 signature over {@link signedRequestBytes}. */
	signature: 'x-outpost-signature'
} as const;

/** What a signature covers. */
export interface SignedRequestParts {
	method: string;
	/** Path and query, as sent (`/api/keys?workspace=…`). */
	path: string;
	/** The request body as sent ('' when none). */
	body: string;
	challenge: string;
	peer: string;
	/** The peer id of the relay the request is for. */
	relay: string;
}

const encoder = new TextEncoder();

/** The bytes signed for a request: every part, in a fixed order, under a version tag. */
export function signedRequestBytes(parts: SignedRequestParts): Uint8Array {
	return encoder.encode(
		JSON.stringify(['outpost/relay-request/2', parts.method.toUpperCase(), parts.path, parts.body, parts.challenge, parts.peer, parts.relay])
	);
}
