/**
 * The relay's API-key endpoints as the app uses them (relay/ai/keysApi.ts): list, create and
 * revoke the `/v1` keys of a workspace, each call signed with this device's key over a fresh
 * challenge (signedRequest.ts). Only the relay that served the app is asked.
 */
import { API_KEYS_PATH, CHALLENGE_PATH } from './signedRequest.js';
import { RelayApiError, signedCall, type Signer } from './relayHttp.js';

export { RelayApiError, type Signer } from './relayHttp.js';

/** A key as the relay lists it (never its secret). */
export interface ApiKeyInfo {
	id: string;
	name: string;
	/** ISO 8601. */
	createdAt: string;
	/** Peer id of the member who made it. */
	createdBy: string;
}

/** A key just made: `key` is its secret, shown this once. */
export interface NewApiKey {
	key: string;
	entry: ApiKeyInfo;
}


/** Talks to the API-key endpoints of the relay at `origin`; see the module comment. */
export class ApiKeysClient {
	constructor(
		private readonly signer: Signer,
		/** The relay's origin (the app's own, `location.origin`, when the relay served it). */
		private readonly origin: string
	) {}

	/** The keys of `workspaceId`. */
	async list(workspaceId: string): Promise<ApiKeyInfo[]> {
		const body = await this.call('GET', `${API_KEYS_PATH}?workspace=${encodeURIComponent(workspaceId)}`);
		const keys = (body as { keys?: unknown }).keys;
		return Array.isArray(keys) ? keys.filter(isKeyInfo) : [];
	}

	/** Makes a key named `name` for `workspaceId`. */
	async create(workspaceId: string, name: string): Promise<NewApiKey> {
		const body = (await this.call('POST', API_KEYS_PATH, JSON.stringify({ workspace: workspaceId, name }))) as Partial<NewApiKey>;
		if (typeof body.key !== 'string' || !isKeyInfo(body.entry)) throw new RelayApiError('the relay answered with no key', 500);
		return { key: body.key, entry: body.entry };
	}

	/** Revokes key `keyId` of `workspaceId`. */
	async revoke(workspaceId: string, keyId: string): Promise<void> {
		await this.call('DELETE', `${API_KEYS_PATH}/${encodeURIComponent(keyId)}?workspace=${encodeURIComponent(workspaceId)}`);
	}

	/** One signed call; the JSON answer, or a {@link RelayApiError} with the relay's explanation. */
	private call(method: string, path: string, body = ''): Promise<unknown> {
		return signedCall(this.signer, this.origin, method, path, body, CHALLENGE_PATH);
	}
}

function isKeyInfo(value: unknown): value is ApiKeyInfo {
	if (typeof value !== 'object' || value === null) return false;
	const k = value as Record<string, unknown>;
	return typeof k.id === 'string' && typeof k.name === 'string' && typeof k.createdAt === 'string' && typeof k.createdBy === 'string';
}
