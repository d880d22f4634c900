/**
 * The relay's HTTP API under `/api/`, for the app served from the same origin. Every call but
 * the challenge is signed by a device (signedRequests.ts, src/lib/mesh/signedRequest.ts):
 *
 * - `POST /api/challenge` → 201 `{challenge, expiresInMs}`: a single-use challenge.
 * - `POST /api/archive` with `{workspaceId, secret, name?, relays?, ops}` (`secret` base64url,
 *   `ops` the team's encoded operations, base64 each), signed by a current owner or admin
 *   device in whose team this relay is a member device (archive/teamCheck.ts): the relay
 *   archives and syncs the workspace (archivePeer.ts `request`): 201
 *   `{id, name, archived: true, created: true, secretReplaced: false}`, or 200 with
 *   `created: false` for a workspace archived already (its operations merged; a different
 *   secret replaces the listed one). Refused, with nothing stored: 400 malformed JSON,
 *   fields or operations, 401 a missing, bad or spent signature, 403 not an admin or
 *   operations that do not certify the workspace id (one answer for both, the same whether or
 *   not the relay archives the workspace: teamCheck.ts) or, to an admin, the relay not in the
 *   team or, for a workspace new to the relay, as many listed already for the request's address
 *   as one address may list (archivePeer.ts `MAX_ARCHIVES_PER_ADDRESS`), 413 a body over {@link MAX_BODY_BYTES}, 415 not `application/json`, 405 another
 *   method, 403 a request signed for another relay (signedRequests.ts), 503 too many requests
 *   waiting or too many bodies being read, 507 the list is full, the workspace's byte quota
 *   has no room for the request's new operations, or the relay holds as much as it stores in
 *   all (archive/diskBound.ts).
 * - `GET /api/archive/<workspaceId>`, signed: 200 `{archived: true}` when the relay archives
 *   it and the signer is a current member device there, else 200 `{archived: false}`: the
 *   same answer for a workspace the relay does not archive and a signer it does not count,
 *   so nobody learns which ids a relay archives.
 * - `/api/keys…`: API keys made by a workspace's owners and admins (ai/keysApi.ts), when `keys` is given.
 * - `/api/tools…`: the MCP servers' tools, for members whose role may use them (ai/toolsApi.ts), when `tools` is given.
 *
 * The secret reaches only the relay the user chose, in the body of a same-origin HTTPS (or
 * localhost) request; it is never logged. No CORS headers are sent, and a POST must be
 * `application/json`. Errors are `{error: "<what to do>"}`.
 *
 * Nothing is read from a request before it is known to be worth reading: the method, the
 * content type, the signature headers and the challenge (spent then) are checked first, and a
 * refused request's body is dropped as it arrives, never held. Bodies being read at once hold
 * at most {@link MAX_IN_FLIGHT_BODY_BYTES} in all (503 past it).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isId } from '../src/lib/doc/ids.ts';
import { MAX_RELAYS } from '../src/lib/mesh/invite.ts';
import { decodeSecret } from '../src/lib/mesh/secret.ts';
import { API_KEYS_PATH, ARCHIVE_PATH, RELAY_CHALLENGE_PATH, TOOLS_PATH } from '../src/lib/mesh/signedRequest.ts';
import type { ArchivePeer } from './archive/archivePeer.ts';
import { ArchiveRefusal, decodeRequestOps } from './archive/teamCheck.ts';
import type { Challenges } from './ai/challenges.ts';
import type { RequestHandler } from './static.ts';
import { clientGone, HttpError, sendJson } from './json.ts';
import { BodyBudget, dropBody, readBoundedBody, refuseDeclaredOver } from './body.ts';
import { addressOf } from './rateLimit.ts';
import { claimSignature, verifyClaim } from './signedRequests.ts';

export { ARCHIVE_PATH } from '../src/lib/mesh/signedRequest.ts';

/** Largest request body accepted (a team's operations: key rotations carry a box per device). */
export const MAX_BODY_BYTES = 2 * 1024 * 1024;
/** Default of the bytes of archive request bodies read at once, all requests together (sixteen of the largest). */
export const MAX_IN_FLIGHT_BODY_BYTES = 16 * MAX_BODY_BYTES;
const MAX_NAME = 80;
const MAX_ADDR = 300;

/** Options of {@link createApiHandler}. */
export interface ApiInit {
	/** The relay's archive peer. */
	archive: Pick<ArchivePeer, 'request' | 'authority'>;
	/** The challenges signed requests spend (shared with the keys API). */
	challenges: Challenges;
	/** This relay's peer id: signed requests must name it (signedRequests.ts; 403 otherwise). */
	relayId: string;
	/** Handles `/api/keys…` (ai/keysApi.ts); 404 without it. */
	keys?: RequestHandler;
	/** Handles `/api/tools…` (ai/toolsApi.ts: the MCP servers' tools); 404 without it. */
	tools?: RequestHandler;
	/** Bytes of request bodies read at once, all requests together (503 past it); default {@link MAX_IN_FLIGHT_BODY_BYTES}. */
	maxInFlightBodyBytes?: number;
	/** Where unexpected failures are reported (default: `console.error`). */
	onError?: (error: unknown) => void;
	/** Where refusals for want of room are logged, once per burst (default: `console.log`). */
	log?: (line: string) => void;
}

/** What a request handler here needs besides the request. */
interface ApiContext extends ApiInit {
	/** Shared by every body this handler reads. */
	budget: BodyBudget;
}

/** Creates the handler of every request under `/api/`. */
export function createApiHandler(init: ApiInit): RequestHandler {
	const onError = init.onError ?? ((error: unknown) => console.error('relay api:', error));
	const log = init.log ?? ((line: string) => console.log(line));
	const maxInFlight = init.maxInFlightBodyBytes ?? MAX_IN_FLIGHT_BODY_BYTES;
	const budget = new BodyBudget(maxInFlight, (inUse) =>
		log(`API request bodies being read hold ${inUse} of at most ${maxInFlight} bytes; refusing more (503) until there is room`)
	);
	const context: ApiContext = { ...init, budget };
	return async (req, res) => {
		try {
			const path = (req.url ?? '').split('?', 1)[0]!;
			if (init.keys !== undefined && (path === API_KEYS_PATH || path.startsWith(`${API_KEYS_PATH}/`))) await init.keys(req, res);
			else if (init.tools !== undefined && (path === TOOLS_PATH || path.startsWith(`${TOOLS_PATH}/`))) await init.tools(req, res);
			else if (path === RELAY_CHALLENGE_PATH) await challenge(req, res, init.challenges);
			else if (path === ARCHIVE_PATH) await postArchive(req, res, context);
			else if (path.startsWith(`${ARCHIVE_PATH}/`)) await getArchive(req, res, context, path.slice(ARCHIVE_PATH.length + 1));
			else throw new HttpError(404, `no such API: ${path}`);
		} catch (error) {
			// Answered already, or the client went away: nothing more to tell it, nothing to report.
			if (res.headersSent || clientGone(res, error)) {
				res.destroy();
				return;
			}
			if (error instanceof HttpError) {
				// Whatever of a refused body is still coming is dropped as it arrives.
				if (!req.complete) dropBody(req);
				sendJson(res, error.status, { error: error.message }, error.headers);
				return;
			}
			onError(error);
			sendJson(res, 500, { error: 'the relay could not archive the workspace; see its log' });
		}
	};
}

async function challenge(req: IncomingMessage, res: ServerResponse, challenges: Challenges): Promise<void> {
	if (req.method !== 'POST') throw new HttpError(405, 'use POST to get a challenge', { Allow: 'POST' });
	dropBody(req);
	// Counted per address as the rate limit counts it (an IPv6 host by its /64).
	sendJson(res, 201, { challenge: challenges.issue(addressOf(req)), expiresInMs: challenges.ttlMs });
}

async function postArchive(req: IncomingMessage, res: ServerResponse, init: ApiContext): Promise<void> {
	if (req.method !== 'POST') throw new HttpError(405, 'use POST with the workspace and its team operations, signed', { Allow: 'POST' });
	const type = (req.headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase();
	if (type !== 'application/json') throw new HttpError(415, 'send the request as JSON (Content-Type: application/json)');
	refuseDeclaredOver(req, MAX_BODY_BYTES, tooLarge);
	const claim = claimSignature(req, init.challenges, init.relayId);
	const text = await readBody(req, init);
	const signer = await verifyClaim(req, claim, req.url ?? ARCHIVE_PATH, text);
	let body: unknown;
	try {
		body = JSON.parse(text);
	} catch {
		throw new HttpError(400, 'the request body is not valid JSON');
	}
	const fields = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
	const { workspaceId, name, relays } = fields;
	if (!isId(workspaceId)) throw new HttpError(400, 'name the workspace: "workspaceId" is missing or malformed');
	let secret: Uint8Array;
	try {
		secret = decodeSecret(typeof fields.secret === 'string' ? fields.secret : '');
	} catch {
		throw new HttpError(400, '"secret" is not a workspace secret (base64url, 32 bytes)');
	}
	if (name !== undefined && (typeof name !== 'string' || name.length > MAX_NAME)) throw new HttpError(400, `"name" is a string of at most ${MAX_NAME} characters`);
	if (
		relays !== undefined &&
		(!Array.isArray(relays) || relays.length > MAX_RELAYS || relays.some((r) => typeof r !== 'string' || !r.startsWith('/') || r.length > MAX_ADDR))
	) {
		throw new HttpError(400, `"relays" is a list of at most ${MAX_RELAYS} multiaddrs`);
	}
	let result;
	try {
		const ops = decodeRequestOps(fields.ops);
		result = await init.archive.request({
			id: workspaceId,
			secret,
			name: typeof name === 'string' ? name.trim() : '',
			relays: (relays as string[] | undefined) ?? [],
			ops,
			signer,
			from: addressOf(req)
		});
	} catch (error) {
		if (error instanceof Error && error.name === 'ArchiveRefusedError') {
			const { reason } = error as Error & { reason: ArchiveRefusal };
			throw new HttpError(reason === ArchiveRefusal.malformed ? 400 : 403, error.message);
		}
		if (error instanceof Error && error.name === 'WorkspaceLimitError') throw new HttpError(507, error.message);
		// No room for the request's new team operations: the workspace's quota, or the relay's in all.
		if (error instanceof Error && (error.name === 'WorkspaceQuotaError' || error.name === 'RelayFullError')) throw new HttpError(507, error.message);
		if (error instanceof Error && error.name === 'AddressArchiveLimitError') throw new HttpError(403, error.message);
		if (error instanceof Error && error.name === 'ArchiveBusyError') throw new HttpError(503, error.message, { 'Retry-After': '5' });
		if (error instanceof Error && error.name === 'ArchiveClosedError') throw new HttpError(503, 'the relay is shutting down; try again');
		throw error;
	}
	sendJson(res, result.created ? 201 : 200, {
		id: result.id,
		name: result.name,
		archived: true,
		created: result.created,
		secretReplaced: result.secretReplaced
	});
}

async function getArchive(req: IncomingMessage, res: ServerResponse, init: ApiContext, id: string): Promise<void> {
	if (req.method !== 'GET') throw new HttpError(405, 'use GET, signed', { Allow: 'GET' });
	refuseDeclaredOver(req, MAX_BODY_BYTES, tooLarge);
	const claim = claimSignature(req, init.challenges, init.relayId);
	const body = await readBody(req, init);
	const signer = await verifyClaim(req, claim, req.url ?? '', body);
	if (!isId(id)) throw new HttpError(400, 'that is not a workspace id');
	// Only a current member device learns that this relay archives the workspace.
	const archived = init.archive.authority(id)?.isMember(signer) ?? false;
	sendJson(res, 200, { archived });
}

/** The body as UTF-8, at most {@link MAX_BODY_BYTES}, within the handler's budget (see body.ts). */
function readBody(req: IncomingMessage, { budget }: ApiContext): Promise<string> {
	return readBoundedBody(req, {
		maxBytes: MAX_BODY_BYTES,
		budget,
		busy: () => new HttpError(503, 'the relay is reading too many requests at once: try again in a few seconds', { 'Retry-After': '5' }),
		tooLarge,
		cutOff: () => new HttpError(400, 'the request body was cut off')
	});
}

function tooLarge(): HttpError {
	return new HttpError(413, `the request body is over ${MAX_BODY_BYTES} bytes`);
}

