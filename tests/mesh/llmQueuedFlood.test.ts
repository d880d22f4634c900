/**
 * A hostile model host (a member device) answering an AI-chat request with an endless run of
 * QUEUED frames, positions alternating, gets the request failed: a queue only moves forward, and
 * an asker takes at most 64 such frames (found in review: each position was written into the
 * shared chat, an update stored and sent to every member in the asker's name). Real libp2p
 * nodes; the host side is the project's own membership exchange (proveAsker), then hostile frames.
 */
import '../../src/lib/mesh/polyfills.node.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAnswer } from '../../src/lib/ai/chatRunner.js';
import { LLM_PROTOCOL_ID, LlmLimits, LlmMessageType, decodeLlmMessage, encodeLlmMessage } from '../../src/lib/ai/llmProtocol.js';
import { MeshEngine } from '../../src/lib/ai/meshEngine.js';
import { AiRole, AiThreadDoc } from '../../src/lib/doc/AiThreadDoc.js';
import { HybridClock } from '../../src/lib/doc/hlc.js';
import { newId } from '../../src/lib/doc/ids.js';
import { WorkspaceDoc } from '../../src/lib/doc/WorkspaceDoc.js';
import { handleFrames } from '../../src/lib/mesh/frameStream.js';
import { proveAsker } from '../../src/lib/mesh/streamMembership.js';
import { waitFor } from './helpers.js';
import { stopPeers } from './peers.js';
import { stopTeamPeers, teamOfRoles, type TeamPeer, type TeamWorkspace } from './teamPeers.js';

const FRAMES = 3000;
let ws: TeamWorkspace;
let owner: TeamPeer;
let bob: TeamPeer;

beforeAll(async () => {
	({ ws, owner, bob } = await teamOfRoles());
	// The owner's device, hostile: proves itself as any host does, then only ever says "queued".
	await handleFrames(owner.node, LLM_PROTOCOL_ID, async (frames, connection) => {
		const asker = await proveAsker(frames, connection.remotePeer.toString(), { keys: (id) => owner.mesh.workspaceKeys(id), localPeerId: owner.peerId, timeoutMs: 5000, onError: () => {} });
		if (asker === undefined) return;
		frames.setBudget(undefined);
		const req = await frames.read();
		if (req === null) return;
		decodeLlmMessage(req, [LlmMessageType.request]);
		for (let i = 0; i < FRAMES; i++) await frames.write(encodeLlmMessage({ type: LlmMessageType.queued, position: 1 + (i % 2) }));
		await frames.write(encodeLlmMessage({ type: LlmMessageType.error, problem: 'busy', message: 'busy' }));
	}, { maxFrameBytes: LlmLimits.maxRequestBytes, runOnLimitedConnection: true, onError: () => {} });
}, 30_000);

afterAll(async () => {
	await stopTeamPeers();
	await stopPeers();
}, 15_000);

describe('an asker and a hostile host', () => {
	it('writes a bounded number of updates into the chat, whatever the host says while queued', async () => {
		const chat = newId();
		new WorkspaceDoc(bob.docs.get(ws.id)).createAiThread({ id: chat, title: 'chat', createdAt: Date.now() });
		const doc = bob.docs.get(chat);
		const thread = new AiThreadDoc(doc);
		thread.append({ id: newId(), role: AiRole.user, hlc: '1', author: bob.peerId, text: 'hello' });
		let updates = 0;
		doc.on('update', () => updates++);
		const engine = new MeshEngine({ node: bob.node, host: owner.node.peerId, keys: bob.mesh.workspaceKeys(ws.id)! });
		const result = await runAnswer({
			thread, engine, model: 'm', askedBy: bob.peerId, servedBy: owner.peerId, id: newId(), hlc: '2', docId: chat,
			origin: 'local', signer: { peerId: bob.peerId, key: bob.key, clock: new HybridClock(bob.peerId) }
		});
		expect(result.status).toBe('failed');
		await waitFor(() => true, 'settle');
		// Honest hosts tell a position when queued and when it changes: a few dozen at most.
		expect(updates).toBeLessThan(100);
	}, 60_000);
});
