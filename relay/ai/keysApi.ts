/**
 * API keys made by a workspace's owners and admins in the app (issue 4: the `/v1` API is
 * "protected by an API key that the workspace owner creates in the UI"), under `/api/keys`:
 *
 * - `POST /api/keys/challenge` → 201 `{challenge, expiresInMs}`: a single-use challenge
 *   (challenges.ts; the same as `POST /api/challenge`).
 * - `GET /api/keys?workspace=<id>` → 200 `{keys: [{id, name, createdAt, createdBy}]}`: the
 *   keys made for that workspace (command-line keys belong to no workspace and are not listed).
 * - `POST /api/keys` with `{"workspace": "<id>", "name": "<what it is for>"}` → 201
 *   `{key, entry}`: the new key, shown this once; stored hashed in the relay's key store
 *   (apiKeys.ts) beside the command-line keys, so `/v1` takes it the same way.
 * - `DELETE /api/keys/<key id>?workspace=<id>` → 200 `{revoked: true}`; 404 for a key of
 *   another workspace or none.
 *
 * Every call but the challenge is signed (signedRequests.ts). The relay then asks its team of
 * the workspace (the TeamAuthority it archives it with): the signer must be a current device
 * of an **owner or admin**. A key stops working on `/v1` once its maker's device is no
 * longer one (demoted, removed, or its device removed: {@link memberKeys}), and it carries
 * its maker's role: `/v1` offers it only the models the team's model-access rule lets that
 * role use (doc/team/modelAccess.ts). Errors are
 * `{error: "<what to do>"}`: 400 bad request, 401 a bad or spent challenge or signature, 403
 * not an owner or admin, or not a member device of a workspace this relay archives (one
 * answer for both, so a stranger learns nothing about which workspaces it archives), 403 a
 * request signed for another relay, 413 a
 * body over {@link MAX_KEYS_BODY_BYTES}, 415 not JSON.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TeamAuthority } from '../../src/lib/core/TeamAuthority.ts';
import { isId } from '../../src/lib/doc/ids.ts';
import { roleMayUseModel } from '../../src/lib/doc/team/modelAccess.ts';
import { ROLE_RANK } from '../../src/lib/doc/team/ops.ts';
import { API_KEYS_PATH, CHALLENGE_PATH } from '../../src/lib/mesh/signedRequest.ts';
import { dropBody, readBoundedBody } from '../body.ts';
import { addressOf } from '../rateLimit.ts';
import type { RequestHandler } from '../static.ts';
import { bodyField, HttpError, parseJsonBody, sendJson } from '../json.ts';
import { claimBeforeBody, verifyClaim } from '../signedRequests.ts';
import type { ApiKeyEntry, ApiKeyStore, VerifiedKey } from './apiKeys.ts';
import { Challenges } from './challenges.ts';

/** Largest request body accepted. */
export const MAX_KEYS_BODY_BYTES = 2 * 1024;
/** Longest key name kept. */
export const MAX_KEY_NAME = 100;
/**
 * Most keys one workspace holds on a relay (found in review: keys had no bound, so the limit of
 * answers running per key was multiplied by minting keys; the table grew without end).
 */
export const MAX_KEYS_PER_WORKSPACE = 32;

/** Options of {@link createKeysApiHandler}. */
export interface KeysApiInit {
	/** Where keys are kept (the same store `/v1` checks). */
	store: Pick<ApiKeyStore, 'list' | 'create' | 'revoke'>;
	/** The team of each workspace the relay archives (ArchivePeer.authority). */
	teams: TeamsOf;
	/** The challenges; default a fresh {@link Challenges}. */
	challenges?: Challenges;
	/** This relay's peer id: signed requests must name it (signedRequests.ts; 403 otherwise). */
	relayId: string;
	/** Where unexpected failures (an unreadable key file) are reported; default `console.error`. */
	onError?: (error: unknown) => void;
}

/** The relay's team of an archived workspace; undefined when it does not archive it. */
export type TeamsOf = (workspaceId: string) => Pick<TeamAuthority, 'roleOf' | 'team'> | undefined;

/** A key as the app lists it: no hash. */
export interface PublicKeyEntry {
	id: string;
	name: string;
	createdAt: string;
	createdBy: string;
}


/** Creates the handler of `/api/keys…`; see the module comment. */
export function createKeysApiHandler(init: KeysApiInit): RequestHandler {
	const challenges = init.challenges ?? new Challenges();
	const onError = init.onError ?? ((error: unknown) => console.error('relay /api/keys:', error));
	return async (req, res) => {
		try {
			const url = new URL(req.url ?? '/', 'http://relay');
			const method = req.method ?? 'GET';
			if (url.pathname === CHALLENGE_PATH) {
				if (method !== 'POST') throw new HttpError(405, 'use POST to get a challenge', { Allow: 'POST' });
				await readBody(req);
				sendJson(res, 201, { challenge: challenges.issue(addressOf(req)), expiresInMs: challenges.ttlMs });
				return;
			}
			const keyId = url.pathname.startsWith(`${API_KEYS_PATH}/`) ? url.pathname.slice(API_KEYS_PATH.length + 1) : undefined;
			if (url.pathname !== API_KEYS_PATH && keyId === undefined) throw new HttpError(404, `no such API: ${url.pathname}`);
			const allowed = keyId === undefined ? ['GET', 'POST'] : ['DELETE'];
			if (!allowed.includes(method)) {
				dropBody(req);
				throw new HttpError(405, `use ${allowed.join(' or ')} here`, { Allow: allowed.join(', ') });
			}
			if (method === 'POST' && contentType(req) !== 'application/json') {
				dropBody(req);
				throw new HttpError(415, 'send JSON (Content-Type: application/json)');
			}
			// Signed or refused before the body is read: a stranger's body is never held.
			const claim = claimBeforeBody(req, challenges, init.relayId, MAX_KEYS_BODY_BYTES, tooLarge);
			const body = await readBody(req);
			const parsed = method === 'POST' ? parseJsonBody(body) : undefined;
			const workspace = method === 'POST' ? bodyField(parsed, 'workspace') : url.searchParams.get('workspace');
			if (!isId(workspace)) throw new HttpError(400, 'name the workspace: a workspace id is missing or malformed');
			const signer = await verifyClaim(req, claim, url.pathname + url.search, body);
			requireAdmin(init.teams, workspace, signer);

			if (method === 'GET') {
				const keys = (await init.store.list()).filter((k) => k.workspace === workspace).map(publicEntry);
				sendJson(res, 200, { keys });
			} else if (method === 'POST') {
				const name = bodyField(parsed, 'name');
				if (typeof name !== 'string' || name.trim() === '') throw new HttpError(400, 'give the key a name that says what it is for');
				if (name.trim().length > MAX_KEY_NAME) throw new HttpError(400, `the key name is over ${MAX_KEY_NAME} characters`);
				const held = (await init.store.list()).filter((k) => k.workspace === workspace).length;
				if (held >= MAX_KEYS_PER_WORKSPACE) throw new HttpError(409, `this workspace holds ${MAX_KEYS_PER_WORKSPACE} keys on this relay, the most it may: revoke one it no longer uses first`);
				const { key, entry } = await init.store.create(name, { workspace, createdBy: signer });
				sendJson(res, 201, { key, entry: publicEntry(entry) });
			} else {
				const ours = (await init.store.list()).find((k) => k.id === keyId && k.workspace === workspace);
				if (ours === undefined || !(await init.store.revoke(ours.id)))
					throw new HttpError(404, 'no such key in this workspace (it may be revoked already)');
				sendJson(res, 200, { revoked: true });
			}
		} catch (error) {
			if (res.headersSent) {
				res.destroy();
				return;
			}
			if (error instanceof HttpError) sendJson(res, error.status, { error: error.message }, error.headers);
			else {
				onError(error);
				sendJson(res, 500, { error: 'the relay could not manage its API keys; see its log' });
			}
		}
	};
}

/** Passes only a current owner or admin device of a workspace the relay archives, as its team there says. */
function requireAdmin(teams: TeamsOf, workspace: string, peer: string): void {
	const role = teams(workspace)?.roleOf(peer);
	if (role === undefined) {
		throw new HttpError(403, 'you are not a member of that workspace on this relay (or it does not keep a copy): archive it on the relay first');
	}
	if (ROLE_RANK[role] < ROLE_RANK.admin) throw new HttpError(403, 'only owners and admins of the workspace can manage its API keys');
}

function publicEntry(entry: ApiKeyEntry): PublicKeyEntry {
	return { id: entry.id, name: entry.name, createdAt: entry.createdAt, createdBy: entry.createdBy ?? '' };
}

function contentType(req: IncomingMessage): string {
	return (req.headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase();
}



function tooLarge(): HttpError {
	return new HttpError(413, `the request body is over ${MAX_KEYS_BODY_BYTES} bytes`);
}

function readBody(req: IncomingMessage): Promise<string> {
	return readBoundedBody(req, {
		maxBytes: MAX_KEYS_BODY_BYTES,
		tooLarge,
		cutOff: () => new HttpError(400, 'the request body was cut off')
	});
}


/**
 * The key check `/v1` uses (openai.ts): a key is valid when the store knows it and, for a key
 * made in the app, the relay still archives its workspace and its maker's device is still a
 * current owner or admin device there (as the relay folds the team now). Such a key carries
 * its maker's role: `mayUse` answers, by the team at the time of asking, whether that role may
 * use a model, and `relayModels` whether the operator shares the relay's own models with its
 * workspace (`serves`, run.ts `serveWorkspaces`). Command-line keys belong to the operator and
 * pass on the store's word alone, for every model.
 */
export function memberKeys(store: Pick<ApiKeyStore, 'verify'>, teams: TeamsOf, serves: (workspaceId: string) => boolean = () => true): { verify(key: string): Promise<VerifiedKey | undefined> } {
	return {
		async verify(key) {
			const entry = await store.verify(key);
			if (entry === undefined || (entry.workspace === undefined && entry.createdBy === undefined)) return entry;
			const { workspace, createdBy } = entry;
			if (workspace === undefined || createdBy === undefined) return undefined;
			const role = teams(workspace)?.roleOf(createdBy);
			if (role === undefined || ROLE_RANK[role] < ROLE_RANK.admin) return undefined;
			return {
				...entry,
				role,
				relayModels: serves(workspace),
				mayUse: (model) => {
					const team = teams(workspace);
					return team !== undefined && roleMayUseModel(team.team, team.roleOf(createdBy), model);
				}
			};
		}
	};
}
