/**
 * A model host on the team owner's node, for the in-process mesh tests of what a host lets an
 * asker have: the host as the app wires it (its documents and signer), members asking it over
 * real libp2p streams, and an AI chat whose queued answer entry the host is asked to write.
 */
import '../../src/lib/mesh/polyfills.node.js';
import type { AnswerTarget } from '../../src/lib/ai/engine.js';
import { teamHostAccess, type ModelHostAccess } from '../../src/lib/ai/hostAccess.js';
import { llmHost, type LlmHost, type LlmHostInit } from '../../src/lib/ai/llmHost.js';
import { MeshEngine, type RemoteEngineError } from '../../src/lib/ai/meshEngine.js';
import { AiRole, AiThreadDoc } from '../../src/lib/doc/AiThreadDoc.js';
import { HybridClock } from '../../src/lib/doc/hlc.js';
import { newId } from '../../src/lib/doc/ids.js';
import { AiRecordKind, AiStatus } from '../../src/lib/doc/schema.js';
import { signAiRecord } from '../../src/lib/doc/signature.js';
import { WorkspaceDoc } from '../../src/lib/doc/WorkspaceDoc.js';
import { waitFor } from './helpers.js';
import { stopPeers, type Peer } from './peers.js';
import { stopTeamPeers, type TeamPeer, type TeamWorkspace } from './teamPeers.js';

/** The model the tests' engines serve. */
export const MODEL = 'm';

/** The team's checks and watch for a host on `owner`'s node (hostAccess.ts), by the owner's folded team. */
export const ownerAccess = (ws: TeamWorkspace, owner: TeamPeer): ModelHostAccess => teamHostAccess((id) => (id === ws.id ? owner.authority : undefined));

/** `owner`'s node serving `init`, with the workspace's documents and the owner's signer as the app gives them; started. */
export async function startOwnerHost(owner: TeamPeer, init: LlmHostInit): Promise<LlmHost> {
	const host = llmHost(init)({
		node: owner.node,
		keys: (id) => owner.mesh.workspaceKeys(id),
		documents: (id) => owner.mesh.workspaceDocs(id),
		signer: { peerId: owner.peerId, key: owner.key, clock: new HybridClock(owner.peerId) }
	});
	await host.start();
	return host;
}

/** Stops `host`, then every team peer and node. */
export async function stopHostAndPeers(host: LlmHost | undefined): Promise<void> {
	await host?.stop();
	await stopTeamPeers();
	await stopPeers();
}

/**
 * `peer` asks `owner`'s host in `ws` (to write into `target` when given; showing `admission` in
 * HELLO when given): the answer's text, or the error.
 */
export async function askOwnerHost(ws: TeamWorkspace, owner: TeamPeer, peer: Peer, question: string, target?: AnswerTarget, admission?: Uint8Array): Promise<string | RemoteEngineError> {
	const asker = new MeshEngine({ node: peer.node, host: owner.node.peerId, keys: peer.mesh.workspaceKeys(ws.id)!, ...(admission ? { admission: () => admission } : {}) });
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

/**
 * A new AI chat in `ws` where `asker` signed `question` and appended a queued answer entry for
 * `owner`'s host, once the entry has reached the host.
 */
export async function queuedAnswerEntry(ws: TeamWorkspace, owner: TeamPeer, asker: TeamPeer, question: string): Promise<{ chat: string; entryId: string }> {
	const chat = newId();
	new WorkspaceDoc(owner.docs.get(ws.id)).createAiThread({ id: chat, title: `${asker.name} asks`, createdAt: Date.now() });
	await waitFor(() => new WorkspaceDoc(asker.docs.get(ws.id)).aiThreads.has(chat), `the chat on ${asker.name}`);
	const thread = new AiThreadDoc(asker.docs.get(chat));
	thread.addRecord(await signAiRecord(asker.key, { kind: AiRecordKind.user, id: newId(), author: asker.peerId, hlc: '1', text: question }, chat));
	const entryId = newId();
	thread.append({ id: entryId, role: AiRole.assistant, hlc: '2', author: owner.peerId, askedBy: asker.peerId, model: MODEL, status: AiStatus.queued, text: '' });
	await waitFor(() => new AiThreadDoc(owner.docs.get(chat)).entry(entryId) !== undefined, 'the entry on the host');
	return { chat, entryId };
}
