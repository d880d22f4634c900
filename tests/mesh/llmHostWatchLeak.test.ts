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
import type { AnswerTarget, Engine } from '../../src/lib/ai/engine.js';
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
import { stopPeers } from './peers.js';
import { stopTeamPeers, teamOfRoles, type TeamPeer, type TeamWorkspace } from './teamPeers.js';

const MODEL = 'm';

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
	const access = teamHostAccess((id) => (id === ws.id ? owner.authority : undefined));
	host = llmHost({
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
	})({
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

async function ask(question: string, target: AnswerTarget): Promise<string | RemoteEngineError> {
	const asker = new MeshEngine({ node: bob.node, host: owner.node.peerId, keys: bob.mesh.workspaceKeys(ws.id)! });
	try {
		for await (const _ of asker.generate({ model: MODEL, messages: [{ role: 'user', content: question }] }, undefined, { target }));
		return '';
	} catch (error) {
		return error as RemoteEngineError;
	}
}

describe('an answer into a chat whose first write check fails', () => {
	it('ends, and the host holds no watch on the team afterwards', async () => {
		const chat = newId();
		new WorkspaceDoc(owner.docs.get(ws.id)).createAiThread({ id: chat, title: 'bob asks', createdAt: Date.now() });
		await waitFor(() => new WorkspaceDoc(bob.docs.get(ws.id)).aiThreads.has(chat), 'the chat on bob');
		const thread = new AiThreadDoc(bob.docs.get(chat));
		thread.addRecord(await signAiRecord(bob.key, { kind: AiRecordKind.user, id: newId(), author: bob.peerId, hlc: '1', text: 'hello' }, chat));
		const entryId = newId();
		thread.append({ id: entryId, role: AiRole.assistant, hlc: '2', author: owner.peerId, askedBy: bob.peerId, model: MODEL, status: AiStatus.queued, text: '' });
		await waitFor(() => new AiThreadDoc(owner.docs.get(chat)).entry(entryId) !== undefined, 'the entry on the host');
		const answer = await ask('hello', { kind: 'ai-thread', docId: chat, entryId });
		expect(answer).toMatchObject({ problem: 'failed' });
		await waitFor(() => host.running === 0, 'the request over');
		expect(watching).toBe(0);
	});
});
