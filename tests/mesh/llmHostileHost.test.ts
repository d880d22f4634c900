/**
 * An asker bounds what a model host sends it, as the host bounds what it is sent: a host (a
 * member with a modified client) that streams text past any answer's length, or calls more
 * tools than one answer may, gets the request failed with a clear message, not this side's
 * memory. Real libp2p nodes; the host is a hand-written one that proves membership as the
 * real host does (streamMembership.ts) and then misbehaves.
 */
import '../../src/lib/mesh/polyfills.node.js';
import { afterEach, describe, expect, it } from 'vitest';
import { MeshEngine } from '../../src/lib/ai/meshEngine.js';
import { LLM_PROTOCOL_ID, LlmLimits, LlmMessageType, decodeLlmMessage, encodeLlmMessage, type LlmMessage } from '../../src/lib/ai/llmProtocol.js';
import { handleFrames } from '../../src/lib/mesh/frameStream.js';
import { proveAsker } from '../../src/lib/mesh/streamMembership.js';
import { connect, newWorkspace, startPeer, stopPeers, type Peer } from './peers.js';

afterEach(async () => {
	await stopPeers();
});

/** A host that proves membership, reads the REQUEST, then sends `reply`'s messages. */
async function hostileHost(host: Peer, reply: () => Iterable<LlmMessage>): Promise<void> {
	await handleFrames(host.node, LLM_PROTOCOL_ID, async (frames, connection) => {
		const asker = await proveAsker(frames, connection.remotePeer.toString(), {
			keys: (id) => host.mesh.workspaceKeys(id),
			localPeerId: host.node.peerId.toString(),
			timeoutMs: 5000,
			onError: () => {}
		});
		if (asker === undefined) return;
		frames.setBudget(undefined);
		const request = await frames.read();
		if (request === null) return;
		decodeLlmMessage(request, [LlmMessageType.request]);
		try {
			for (const m of reply()) await frames.write(encodeLlmMessage(m));
		} catch {
			// The asker hung up on us: what the test expects.
		}
	}, { maxFrameBytes: LlmLimits.maxRequestBytes });
}

async function askHost(asker: Peer, host: Peer, ws: { id: string }, withTool: boolean): Promise<unknown> {
	const engine = new MeshEngine({ node: asker.node, host: host.node.peerId, keys: asker.mesh.workspaceKeys(ws.id)! });
	const tools = withTool ? { tools: [{ name: 'look', description: 'looks', parameters: { type: 'object', properties: {} } }] } : {};
	try {
		for await (const chunk of engine.generate({ model: 'm', messages: [{ role: 'user', content: 'hi' }], ...tools })) void chunk;
		return 'done';
	} catch (error) {
		return error;
	}
}

describe('what a model host may send an asker', () => {
	it('an endless answer and too many tool calls end the request with a clear error', async () => {
		const ws = newWorkspace();
		const [host, asker] = [await startPeer(ws, { name: 'host' }), await startPeer(ws, { name: 'asker' })];
		let mode: 'text' | 'tools' = 'text';
		let sent = 0;
		await hostileHost(host, function* (): Generator<LlmMessage> {
			sent = 0;
			const text = 'x'.repeat(60_000);
			for (let i = 0; i < 1000; i++) {
				sent++;
				yield mode === 'text' ? { type: LlmMessageType.chunk, text } : { type: LlmMessageType.toolCall, call: { id: `c${i}`, name: 'look', arguments: '{}' } };
			}
			yield { type: LlmMessageType.done, finishReason: 'stop', promptTokens: 1, completionTokens: 1 };
		});
		await connect(asker, host);
		const long = await askHost(asker, host, ws, false);
		expect(long).toMatchObject({ problem: 'failed', message: expect.stringMatching(/longer answer/) });
		expect(sent).toBeLessThan(1000); // the asker stopped reading: the host could not send it all
		mode = 'tools';
		const calls = await askHost(asker, host, ws, true);
		expect(calls).toMatchObject({ problem: 'failed', message: expect.stringMatching(/more tools/) });
	}, 30_000);
});
