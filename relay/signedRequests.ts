/**
 * Checking requests signed by a device (src/lib/mesh/signedRequest.ts), for every relay API
 * that acts for a team member (api.ts, ai/keysApi.ts): the `x-outpost-*` headers carry the
 * signer's peer id, a challenge this relay handed out (challenges.ts, spent by this request
 * whether or not its signature holds, so a captured request cannot be sent again), the peer
 * id of the relay the request is for, and an Ed25519 signature over the method, path, body,
 * challenge and relay. A request for another relay is refused (403) whatever its challenge:
 * the challenge alone did not stop one relay's operator, or anyone who could answer for it,
 * from handing a client a second relay's challenge and sending the request it signed there
 * (found in review: an admin's request could make another relay archive a workspace or mint
 * a key).
 *
 * The headers and the challenge can be checked before the body is read
 * ({@link claimSignature}): a request with neither is refused without reading a byte of it.
 */
import type { IncomingMessage } from 'node:http';
import { verifyBytes } from '../src/lib/doc/signature.ts';
import { SignedHeaders, signedRequestBytes } from '../src/lib/mesh/signedRequest.ts';
import type { Challenges } from './ai/challenges.ts';
import { HttpError } from './json.ts';
import { dropBody, refuseDeclaredOver } from './body.ts';

/** A request's signature headers, its challenge spent; what {@link verifyClaim} checks against the body. */
export interface SignatureClaim {
	peer: string;
	challenge: string;
	signature: string;
	/** The relay the request is for: this one. */
	relay: string;
}

/**
 * The signature headers of `req`, its challenge spent (it was outstanding), for this relay
 * (`relayId`, its peer id): checked before the body is read.
 * @throws {HttpError} 401 for missing headers or an unknown, used or expired challenge; 403
 *   for a request that names another relay.
 */
export function claimSignature(req: IncomingMessage, challenges: Challenges, relayId: string): SignatureClaim {
	const peer = header(req, SignedHeaders.peer);
	const challenge = header(req, SignedHeaders.challenge);
	const signature = header(req, SignedHeaders.signature);
	const relay = header(req, SignedHeaders.relay);
	if (!peer || !challenge || !signature) throw new HttpError(401, 'sign the request: the x-outpost-peer, -challenge, -relay and -signature headers are required');
	if (!relay) throw new HttpError(401, 'sign the request for this relay: the x-outpost-relay header (its peer id) is required; reload the app if it is older than the relay');
	if (!challenges.spend(challenge)) throw new HttpError(401, 'the challenge is unknown, used or expired: ask for a new one');
	// 403, not 421 Misdirected Request: clients send a 421 again on their own, spent challenge and all.
	if (relay !== relayId) throw new HttpError(403, `the request is signed for relay ${relay}, not this one (${relayId}): nothing was done`);
	return { peer, challenge, signature, relay };
}

/**
 * The peer id that signed the request, once its body is read (`pathAndQuery` as the client sent it).
 * @throws {HttpError} 401 for a bad signature.
 */
export async function verifyClaim(req: IncomingMessage, claim: SignatureClaim, pathAndQuery: string, body: string): Promise<string> {
	const { peer, challenge, signature, relay } = claim;
	const bytes = signedRequestBytes({ method: req.method ?? 'GET', path: pathAndQuery, body, challenge, peer, relay });
	if (!(await verifyBytes(peer, bytes, signature))) throw new HttpError(401, 'the signature does not match the request and its signer');
	return peer;
}

/**
 * {@link claimSignature} (for relay `relayId`) before any of the body is read, for a handler that reads at most
 * `maxBytes`: a declared body over that is `tooLarge()` (413 at once, signed or not), and a
 * refused request's body is dropped as it arrives, never held.
 * @throws {HttpError} as claimSignature, or `tooLarge()`.
 */
export function claimBeforeBody(req: IncomingMessage, challenges: Challenges, relayId: string, maxBytes: number, tooLarge: () => Error): SignatureClaim {
	try {
		refuseDeclaredOver(req, maxBytes, tooLarge);
		return claimSignature(req, challenges, relayId);
	} catch (error) {
		dropBody(req);
		throw error;
	}
}

function header(req: IncomingMessage, name: string): string | undefined {
	const value = req.headers[name];
	return typeof value === 'string' && value.length <= 512 ? value : undefined;
}
