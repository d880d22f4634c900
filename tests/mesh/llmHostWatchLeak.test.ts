/**
 * A model host's watch on the asker's team is always given back (found in review: an answer
 * written into a document subscribed to the team's changes before its first access check, and a
 * check that threw left that subscription behind: every later change of the team ran the
 * check again, a copy of the workspace's root each time, for an answer long over). Real libp2p
 * nodes, the team's checks and watch as the app wires them (hostAccess.ts); only the write
 * check is made to fail, as a document store that fails to read does, and the watch counted.
 */
import '../../src/lib/mesh/polyfills.node.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/lib/ai/engine.js';
import type { LlmHost } from '../../src/lib/ai/llmHost.js';
import { waitFor } from './helpers.js';
import { askOwnerHost, MODEL, ownerAccess, queuedAnswerEntry, startOwnerHost, stopHostAndPeers } from './llmOwnerHost.js';
import { teamOfRoles, type TeamPeer, type TeamWorkspace } from './teamPeers.js';

const engine: Engine = {
	kind: 'node-llama-cpp',
	models: async () => [{ id: MODEL, name: MODEL, engine: 'node-llama-cpp', contextLength: 512 }],
	async *generate() {
		yield { type: 'done', finishReason: 'stop', promptTokens: 1, completionTokens: 0 };
	}
};

let ws: TeamWorkspace;
let owner: TeamPeer;
let bob: TeamPeer;
let host: LlmHost;
/** Subscriptions to the team's changes the host holds now. */
let watching = 0;
let writeChecks = 0;

beforeAll(async () => {
	({ ws, owner, bob } = await teamOfRoles());
	const access = ownerAccess(ws, owner);
	host = await startOwnerHost(owner, {
		engines: [engine],
		targetTimeoutMs: 1500,
		...access,
		// Admitted (the check before queueing holds), then the store fails when the answer starts.
		writeRefusal: async (asker, target, docs) => {
			if (++writeChecks > 1) throw new Error('the workspace root could not be read');
			return access.writeRefusal(asker, target, docs);
		},
		watch: (asker, changed) => {
			watching++;
			const unwatch = access.watch(asker, changed);
			return () => {
				watching--;
				unwatch();
			};
		},
		onError: () => {}
	});
}, 30_000);

afterAll(() => stopHostAndPeers(host), 15_000);

describe('an answer into a chat whose first write check fails', () => {
	it('ends, and the host holds no watch on the team afterwards', async () => {
		const { chat, entryId } = await queuedAnswerEntry(ws, owner, bob, 'hello');
		const answer = await askOwnerHost(ws, owner, bob, 'hello', { kind: 'ai-thread', docId: chat, entryId });
		expect(answer).toMatchObject({ problem: 'failed' });
		await waitFor(() => host.running === 0, 'the request over');
		expect(watching).toBe(0);
	});
});
