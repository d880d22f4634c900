/**
 * The "API keys" dialog's state (ApiKeysState): what it shows for a workspace the relay does
 * not keep or cannot be asked about, and that a bad name or a refusal changes nothing. The
 * relay's side is tested against a real relay in relay/ai/keysApi.test.ts; here a small
 * in-memory key list stands in for it.
 */
import { describe, expect, it } from 'vitest';
import { ApiKeysClient, RelayApiError, type ApiKeyInfo } from '../../../src/lib/mesh/apiKeysClient';
import { ApiKeysState, ApiKeysStatus } from '../../../src/lib/state/ApiKeysState.svelte';

type Client = Pick<ApiKeysClient, 'list' | 'create' | 'revoke'>;

function memoryClient(refuse?: string): Client & { calls: string[] } {
	const keys: ApiKeyInfo[] = [];
	const calls: string[] = [];
	return {
		calls,
		async list() {
			calls.push('list');
			if (refuse) throw new RelayApiError(refuse, 403);
			return [...keys];
		},
		async create(_ws, name) {
			calls.push(`create ${name}`);
			if (refuse) throw new RelayApiError(refuse, 403);
			const entry = { id: String(keys.length), name, createdAt: '2026-11-21T00:00:00.000Z', createdBy: 'me' };
			keys.push(entry);
			return { key: `sk-outpost-${entry.id}`, entry };
		},
		async revoke(_ws, id) {
			calls.push(`revoke ${id}`);
			keys.splice(keys.findIndex((k) => k.id === id), 1);
		}
	};
}

describe('ApiKeysState', () => {
	it('says when the relay does not keep the workspace, or cannot be asked, without calling it', async () => {
		const client = memoryClient();
		const notArchived = new ApiKeysState(client, 'w', async () => false);
		await notArchived.refresh();
		expect(notArchived.status).toBe(ApiKeysStatus.notArchived);
		const unreachable = new ApiKeysState(client, 'w', async () => undefined);
		await unreachable.refresh();
		expect(unreachable.status).toBe(ApiKeysStatus.unreachable);
		expect(client.calls).toEqual([]);
	});

	it('creates a key shown once, lists it, revokes it', async () => {
		const client = memoryClient();
		const state = new ApiKeysState(client, 'w', async () => true);
		await state.refresh();
		expect([state.status, state.keys]).toEqual([ApiKeysStatus.ready, []]);
		expect(await state.create('  Editor  ')).toBe(true);
		expect(state.created?.key).toBe('sk-outpost-0');
		expect(state.keys.map((k) => k.name)).toEqual(['Editor']);
		state.dismissCreated();
		expect(state.created).toBeUndefined();
		expect(await state.revoke('0')).toBe(true);
		expect(state.keys).toEqual([]);
	});

	it('refuses an empty or over-long name without asking the relay, and keeps the relay refusal', async () => {
		const client = memoryClient();
		const state = new ApiKeysState(client, 'w', async () => true);
		await state.refresh();
		expect(await state.create('   ')).toBe(false);
		expect(state.problem).toEqual({ kind: 'empty-name' });
		expect(await state.create('x'.repeat(101))).toBe(false);
		expect(state.problem).toEqual({ kind: 'too-long' });
		expect(client.calls).toEqual(['list']);

		const refusing = new ApiKeysState(memoryClient('only the owner of the workspace can manage its API keys'), 'w', async () => true);
		await refusing.refresh();
		expect(refusing.status).toBe(ApiKeysStatus.failed);
		expect(refusing.problem).toEqual({ kind: 'relay', message: 'only the owner of the workspace can manage its API keys' });
	});
});
