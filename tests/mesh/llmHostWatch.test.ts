/**
 * A model host ends an answer as soon as it folds a change that ends the asker's access, not
 * at the engine's next chunks (found in review: access was asked again every 16 chunks, so an
 * engine reading a long prompt, producing nothing for a long time, kept a removed member's
 * answer running). Real libp2p nodes; the owner's node hosts an engine that produces no chunk
 * until it is aborted, with the team's checks and watch (hostAccess.ts), as the app does.
 */
import '../../src/lib/mesh/polyfills.node.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnswerTarget, Engine, GenerateRequest } from '../../src/lib/ai/engine.js';
import type { LlmHost } from '../../src/lib/ai/llmHost.js';
import { AiThreadDoc } from '../../src/lib/doc/AiThreadDoc.js';
import { AiStatus } from '../../src/lib/doc/schema.js';
import { waitFor } from './helpers.js';
import { askOwnerHost, MODEL, ownerAccess, queuedAnswerEntry, startOwnerHost, stopHostAndPeers } from './llmOwnerHost.js';
import type { Peer } from './peers.js';
import { teamOfRoles, type TeamPeer, type TeamWorkspace } from './teamPeers.js';

/** An engine still reading its prompt: it yields nothing until its signal aborts. */
function silentEngine(): Engine & { runs: string[]; stopped: string[] } {
	const engine = {
		kind: 'node-llama-cpp' as const,
		runs: [] as string[],
		stopped: [] as string[],
		models: async () => [{ id: MODEL, name: MODEL, engine: 'node-llama-cpp' as const, contextLength: 512 }],
		async *generate(request: GenerateRequest, signal?: AbortSignal) {
			const question = String(request.messages.at(-1)?.content ?? '');
			engine.runs.push(question);
			await new Promise<void>((_, reject) =>
				signal?.addEventListener('abort', () => {
					engine.stopped.push(question);
					reject(signal.reason);
				})
			);
			yield { type: 'done' as const, finishReason: 'stop' as const, promptTokens: 1, completionTokens: 0 };
		}
	};
	return engine;
}

let ws: TeamWorkspace;
let owner: TeamPeer;
let bob: TeamPeer;
let engine: ReturnType<typeof silentEngine>;
let host: LlmHost;

beforeAll(async () => {
	({ ws, owner, bob } = await teamOfRoles());
	engine = silentEngine();
	host = await startOwnerHost(owner, { engines: [engine], targetTimeoutMs: 1500, ...ownerAccess(ws, owner), onError: () => {} });
}, 30_000);

afterAll(() => stopHostAndPeers(host), 15_000);

const ask = (peer: Peer, question: string, target?: AnswerTarget) => askOwnerHost(ws, owner, peer, question, target);

describe('an answer whose engine produces nothing yet', () => {
	it("stops once a model-access rule takes the asker's role away, and the asker is told", async () => {
		const running = ask(bob, 'a long prompt');
		await waitFor(() => host.running === 1 && engine.runs.includes('a long prompt'), 'bob running');
		await owner.authority.write({ t: 'model-access', model: MODEL, roles: ['owner', 'admin'] });
		await waitFor(() => engine.stopped.includes('a long prompt'), 'the generation stopped by the rule');
		expect(await running).toMatchObject({ problem: 'not-allowed' });
		expect(host.running).toBe(0);
		await owner.authority.write({ t: 'model-access', model: MODEL, roles: ['owner', 'admin', 'member'] });
	});

	it('written into a chat for a member removed meanwhile, it stops and the entry ends failed', async () => {
		const { chat, entryId } = await queuedAnswerEntry(ws, owner, bob, 'summarise the archive');
		const onHost = () => new AiThreadDoc(owner.docs.get(chat)).entry(entryId);
		const running = ask(bob, 'the whole archive', { kind: 'ai-thread', docId: chat, entryId });
		await waitFor(() => engine.runs.includes('the whole archive'), 'bob running');
		await owner.authority.write({ t: 'remove', member: bob.peerId });
		await waitFor(() => engine.stopped.includes('the whole archive'), 'the generation stopped by the removal');
		await waitFor(() => onHost()?.get('status') === AiStatus.failed, 'the entry ended');
		expect(await running).toMatchObject({ problem: 'not-allowed' });
	});
});
