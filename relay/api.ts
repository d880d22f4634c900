/**
 * The relay's HTTP API under `/api/`, for the app served from the same origin:
 *
 * - `POST /api/archive` with `{"invite": "<invite link, or its #invite?… fragment>"}` makes the
 *   relay an archive peer of that workspace at once (archivePeer.ts `add`): 201
 *   `{id, name, archived: true, created: true}`, or 200 with `created: false` when it was
 *   archived already. Refused: 400 malformed JSON or invite, 409 the workspace is archived
 *   with another secret, 413 a body over {@link MAX_BODY_BYTES}, 415 a body that is not
 *   `application/json`, 405 any other method. Errors are `{error: "<what to do>"}`.
 * - `GET /api/archive/<workspaceId>`: 200 `{archived: true}` or 404 `{archived: false}`.
 * - `/api/keys…`: API keys made by a workspace's owner (ai/keysApi.ts), when `keys` is given.
 *
 * The invite's secret reaches only the relay the user chose, in the body of a same-origin
 * HTTPS (or localhost) request; it is never logged. No CORS headers are sent, and a POST must
 * be `application/json`, which a cross-site page cannot send without a CORS preflight that
 * this API never grants, so another site cannot post invites through a visitor's browser.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isId } from '../src/lib/doc/ids.ts';
import { InviteFormatError, parseInvite } from '../src/lib/mesh/invite.ts';
import { API_KEYS_PATH } from '../src/lib/mesh/signedRequest.ts';
import type { ArchivePeer } from './archive/archivePeer.ts';
import type { RequestHandler } from './static.ts';
import { HttpError, sendJson } from './json.ts';
import { readBoundedBody } from './body.ts';

/** Largest request body accepted. */
export const MAX_BODY_BYTES = 8 * 1024;
/** Beyond this much of an oversized body the connection is cut rather than drained. */
const MAX_DRAIN_BYTES = 1024 * 1024;

/** Path of the archive resource. */
export const ARCHIVE_PATH = '/api/archive';

/** Options of {@link createApiHandler}. */
export interface ApiInit {
	/** The relay's archive peer. */
	archive: Pick<ArchivePeer, 'add' | 'has'>;
	/** Handles `/api/keys…` (ai/keysApi.ts); 404 without it. */
	keys?: RequestHandler;
	/** Where unexpected failures are reported (default: `console.error`). */
	onError?: (error: unknown) => void;
}


/** Why an invite was refused, in words (InviteFormatError's `reason`). */
const INVITE_PROBLEMS: Record<string, string> = {
	'not-an-invite': 'that is not an invite link (it should contain #invite?w=…)',
	'too-long': 'the invite link is too long',
	'bad-workspace': 'the invite link names no valid workspace id (it may be cut off)',
	'bad-secret': 'the invite link carries no valid workspace secret (it may be cut off)',
	'bad-relay': 'the invite link lists a malformed relay address'
};

/** Creates the handler of every request under `/api/`. */
export function createApiHandler(init: ApiInit): RequestHandler {
	const onError = init.onError ?? ((error: unknown) => console.error('relay api:', error));
	return async (req, res) => {
		try {
			const path = (req.url ?? '').split('?', 1)[0]!;
			if (init.keys !== undefined && (path === API_KEYS_PATH || path.startsWith(`${API_KEYS_PATH}/`))) await init.keys(req, res);
			else if (path === ARCHIVE_PATH) await postArchive(req, res, init.archive);
			else if (path.startsWith(`${ARCHIVE_PATH}/`)) getArchive(req, res, init.archive, path.slice(ARCHIVE_PATH.length + 1));
			else throw new HttpError(404, `no such API: ${path}`);
		} catch (error) {
			if (res.headersSent) {
				res.destroy();
				return;
			}
			if (error instanceof HttpError) {
				sendJson(res, error.status, { error: error.message }, error.headers);
				return;
			}
			onError(error);
			sendJson(res, 500, { error: 'the relay could not archive the workspace; see its log' });
		}
	};
}

async function postArchive(req: IncomingMessage, res: ServerResponse, archive: ApiInit['archive']): Promise<void> {
	if (req.method !== 'POST') throw new HttpError(405, 'use POST with {"invite": "<invite link>"}', { Allow: 'POST' });
	const type = (req.headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase();
	if (type !== 'application/json') {
		await drain(req);
		throw new HttpError(415, 'send the invite as JSON (Content-Type: application/json)');
	}
	const text = await readBody(req);
	let body: unknown;
	try {
		body = JSON.parse(text);
	} catch {
		throw new HttpError(400, 'the request body is not valid JSON');
	}
	const inviteText = typeof body === 'object' && body !== null ? (body as { invite?: unknown }).invite : undefined;
	if (typeof inviteText !== 'string') {
		throw new HttpError(400, 'send {"invite": "<invite link>"}: the invite link as a string');
	}
	let invite;
	try {
		invite = parseInvite(inviteText);
	} catch (error) {
		if (!(error instanceof InviteFormatError)) throw error;
		const why = INVITE_PROBLEMS[error.reason] ?? 'the invite link is not valid';
		throw new HttpError(400, `${why}; copy the whole link from the Invite dialog`);
	}
	let result;
	try {
		result = await archive.add({ id: invite.workspaceId, secret: invite.secret, name: invite.name, relays: invite.relays });
	} catch (error) {
		if (error instanceof Error && error.name === 'ArchiveConflictError') {
			throw new HttpError(409, 'this relay already archives that workspace with a different secret; nothing was changed');
		}
		if (error instanceof Error && error.name === 'WorkspaceLimitError') throw new HttpError(507, error.message);
		if (error instanceof Error && error.name === 'ArchiveClosedError') throw new HttpError(503, 'the relay is shutting down; try again');
		throw error;
	}
	sendJson(res, result.created ? 201 : 200, { id: result.id, name: result.name, archived: true, created: result.created });
}

function getArchive(req: IncomingMessage, res: ServerResponse, archive: ApiInit['archive'], id: string): void {
	if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'use GET', { Allow: 'GET, HEAD' });
	if (!isId(id)) throw new HttpError(400, 'that is not a workspace id');
	const archived = archive.has(id);
	sendJson(res, archived ? 200 : 404, { archived }, {}, req.method === 'HEAD');
}

/** The body as UTF-8, at most {@link MAX_BODY_BYTES} (see body.ts). */
function readBody(req: IncomingMessage): Promise<string> {
	return readBoundedBody(req, {
		maxBytes: MAX_BODY_BYTES,
		drainBytes: MAX_DRAIN_BYTES,
		tooLarge,
		cutOff: () => new HttpError(400, 'the request body was cut off')
	});
}

/** Reads and drops a refused body (see {@link readBody}). */
async function drain(req: IncomingMessage): Promise<void> {
	await readBody(req).catch(() => undefined);
}

function tooLarge(): HttpError {
	return new HttpError(413, `the request body is over ${MAX_BODY_BYTES} bytes; send only {"invite": "<invite link>"}`);
}

