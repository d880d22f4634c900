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
import { teamHostAccess } from '../../src/lib/ai/hostAccess.js';
import { llmHost, type LlmHost } from '../../src/lib/ai/llmHost.js';
import { MeshEngine, type RemoteEngineError } from '../../src/lib/ai/meshEngine.js';
import { AiRole, AiThreadDoc } from '../../src/lib/doc/AiThreadDoc.js';
import { HybridClock } from '../../src/lib/doc/hlc.js';
import { newId } from '../../src/lib/doc/ids.js';
import { AiRecordKind, AiStatus } from '../../src/lib/doc/schema.js';
import { signAiRecord } from '../../src/lib/doc/signature.js';
import { WorkspaceDoc } from '../../src/lib/doc/WorkspaceDoc.js';
import { waitFor } from './helpers.js';
import { stopPeers, type Peer } from './peers.js';
import { stopTeamPeers, teamOfRoles, type TeamPeer, type TeamWorkspace } from './teamPeers.js';

const MODEL = 'm';

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
	host = llmHost({ engines: [engine], targetTimeoutMs: 1500, ...teamHostAccess((id) => (id === ws.id ? owner.authority : undefined)), onError: () => {} })({
		node: owner.node,
		keys: (id) => owner.mesh.workspaceKeys(id),
		documents: (id) => owner.mesh.workspaceDocs(id),
		signer: { peerId: owner.peerId, key: owner.key, clock: new HybridClock(owner.peerId) }
	});
	await host.start();
}, 30_000);

afterAll(async () => {
	await host?.stop();
	await stopTeamPeers();
	await stopPeers();
}, 15_000);

async function ask(peer: Peer, question: string, target?: AnswerTarget): Promise<string | RemoteEngineError> {
	const asker = new MeshEngine({ node: peer.node, host: owner.node.peerId, keys: peer.mesh.workspaceKeys(ws.id)! });
	let text = '';
	try {
		for await (const chunk of asker.generate({ model: MODEL, messages: [{ role: 'user', content: question }] }, undefined, target ? { target } : undefined)) {
			if (chunk.type === 'text') text += chunk.text;
		}
		return text;
	} catch (error) {
		return error as RemoteEngineError;
	}
}

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
		const chat = newId();
		new WorkspaceDoc(owner.docs.get(ws.id)).createAiThread({ id: chat, title: 'bob asks', createdAt: Date.now() });
		await waitFor(() => new WorkspaceDoc(bob.docs.get(ws.id)).aiThreads.has(chat), 'the chat on bob');
		const thread = new AiThreadDoc(bob.docs.get(chat));
		thread.addRecord(await signAiRecord(bob.key, { kind: AiRecordKind.user, id: newId(), author: bob.peerId, hlc: '1', text: 'summarise the archive' }, chat));
		const entryId = newId();
		thread.append({ id: entryId, role: AiRole.assistant, hlc: '2', author: owner.peerId, askedBy: bob.peerId, model: MODEL, status: AiStatus.queued, text: '' });
		const onHost = () => new AiThreadDoc(owner.docs.get(chat)).entry(entryId);
		await waitFor(() => onHost() !== undefined, 'the entry on the host');
		const running = ask(bob, 'the whole archive', { kind: 'ai-thread', docId: chat, entryId });
		await waitFor(() => engine.runs.includes('the whole archive'), 'bob running');
		await owner.authority.write({ t: 'remove', member: bob.peerId });
		await waitFor(() => engine.stopped.includes('the whole archive'), 'the generation stopped by the removal');
		await waitFor(() => onHost()?.get('status') === AiStatus.failed, 'the entry ended');
		expect(await running).toMatchObject({ problem: 'not-allowed' });
	});
});
