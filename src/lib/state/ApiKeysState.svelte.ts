/**
 * The "API keys" dialog's state: the `/v1` keys of one workspace as the relay that served the
 * app lists them (apiKeysClient.ts), creating one (its secret kept here only until the
 * dialog closes) and revoking one. Whether the relay keeps a copy of the workspace is asked
 * first, so a workspace the relay does not archive, or an unreachable relay, gets its own
 * message instead of a failed call.
 */
import type { ApiKeyInfo, ApiKeysClient, NewApiKey } from '../mesh/apiKeysClient.js';

/** What the dialog can show. */
export const ApiKeysStatus = {
	loading: 'loading',
	ready: 'ready',
	/** The relay does not archive the workspace. */
	notArchived: 'not-archived',
	/** The relay could not be asked (offline, or the app was not served by a relay). */
	unreachable: 'unreachable',
	/** The relay refused or failed the listing; see `error`. */
	failed: 'failed'
} as const;
export type ApiKeysStatus = (typeof ApiKeysStatus)[keyof typeof ApiKeysStatus];

/** Why a create or revoke did not happen. */
export type ApiKeysProblem = { kind: 'empty-name' } | { kind: 'too-long' } | { kind: 'relay'; message: string };

/** Longest key name the relay keeps (relay/ai/keysApi.ts MAX_KEY_NAME). */
export const MAX_KEY_NAME = 100;

/** See the module comment. */
export class ApiKeysState {
	status = $state<ApiKeysStatus>(ApiKeysStatus.loading);
	keys = $state.raw<ApiKeyInfo[]>([]);
	/** The key just created, shown once. */
	created = $state.raw<NewApiKey | undefined>();
	/** Why the last action failed. */
	problem = $state.raw<ApiKeysProblem | undefined>();
	/** A create or revoke is running. */
	busy = $state(false);

	constructor(
		private readonly client: Pick<ApiKeysClient, 'list' | 'create' | 'revoke'>,
		readonly workspaceId: string,
		/** Whether the relay archives the workspace (undefined: it cannot be asked). */
		private readonly archived: () => Promise<boolean | undefined>
	) {}

	/** Asks the relay whether it keeps the workspace, then for its keys. */
	async refresh(): Promise<void> {
		this.status = ApiKeysStatus.loading;
		this.problem = undefined;
		const archived = await this.archived();
		if (archived !== true) {
			this.status = archived === false ? ApiKeysStatus.notArchived : ApiKeysStatus.unreachable;
			return;
		}
		try {
			this.keys = await this.client.list(this.workspaceId);
			this.status = ApiKeysStatus.ready;
		} catch (error) {
			this.status = ApiKeysStatus.failed;
			this.problem = relayProblem(error);
		}
	}

	/** Creates a key named `name`; true when made (then {@link created} holds it). */
	async create(name: string): Promise<boolean> {
		const clean = name.trim();
		if (clean === '') return this.fail({ kind: 'empty-name' });
		if (clean.length > MAX_KEY_NAME) return this.fail({ kind: 'too-long' });
		return this.act(async () => {
			const made = await this.client.create(this.workspaceId, clean);
			this.created = made;
			this.keys = [...this.keys.filter((k) => k.id !== made.entry.id), made.entry];
		});
	}

	/** Revokes the key `id`; true when revoked. */
	async revoke(id: string): Promise<boolean> {
		return this.act(async () => {
			await this.client.revoke(this.workspaceId, id);
			this.keys = this.keys.filter((k) => k.id !== id);
			if (this.created?.entry.id === id) this.created = undefined;
		});
	}

	/** Forgets the key shown once. */
	dismissCreated(): void {
		this.created = undefined;
	}

	private async act(action: () => Promise<void>): Promise<boolean> {
		this.busy = true;
		this.problem = undefined;
		try {
			await action();
			return true;
		} catch (error) {
			return this.fail(relayProblem(error));
		} finally {
			this.busy = false;
		}
	}

	private fail(problem: ApiKeysProblem): false {
		this.problem = problem;
		return false;
	}
}

function relayProblem(error: unknown): ApiKeysProblem {
	return { kind: 'relay', message: error instanceof Error ? error.message : String(error) };
}
