/**
 * The relay's API-key endpoints as the app uses them (relay/ai/keysApi.ts): list, create and
 * revoke the `/v1` keys of a workspace, each call signed with this device's key over a fresh
 * challenge (signedRequest.ts). Only the relay that served the app is asked.
 */
import type { PrivateKey } from '@libp2p/interface';
import { signBytes } from '../doc/signature.js';
import { API_KEYS_PATH, CHALLENGE_PATH, SignedHeaders, signedRequestBytes } from './signedRequest.js';
import { RELAY_API_TIMEOUT_MS, RelayApiError, relayAnswer } from './relayHttp.js';

export { RelayApiError } from './relayHttp.js';

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

/** Who signs: this device's identity. */
export interface Signer {
	peerId: string;
	privateKey: PrivateKey;
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
	private async call(method: string, path: string, body = ''): Promise<unknown> {
		const signal = AbortSignal.timeout(RELAY_API_TIMEOUT_MS);
		const challenge = await this.challenge(signal);
		const { peerId, privateKey } = this.signer;
		const signature = await signBytes(privateKey, signedRequestBytes({ method, path, body, challenge, peer: peerId }));
		const response = await fetch(new URL(path, this.origin), {
			method,
			headers: {
				...(body ? { 'content-type': 'application/json' } : {}),
				[SignedHeaders.peer]: peerId,
				[SignedHeaders.challenge]: challenge,
				[SignedHeaders.signature]: signature
			},
			...(body ? { body } : {}),
			signal
		});
		return relayAnswer(response);
	}

	private async challenge(signal: AbortSignal): Promise<string> {
		const response = await fetch(new URL(CHALLENGE_PATH, this.origin), { method: 'POST', signal });
		const body = (await relayAnswer(response)) as { challenge?: unknown };
		if (typeof body.challenge !== 'string') throw new RelayApiError('the relay gave no challenge', response.status);
		return body.challenge;
	}
}

function isKeyInfo(value: unknown): value is ApiKeyInfo {
	if (typeof value !== 'object' || value === null) return false;
	const k = value as Record<string, unknown>;
	return typeof k.id === 'string' && typeof k.name === 'string' && typeof k.createdAt === 'string' && typeof k.createdBy === 'string';
}
