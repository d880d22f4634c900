/**
 * One member's running tool calls on the relay, counted over both ways it runs them: the mesh
 * (`/outpost/tools/1.0.0`, relayTools.ts) and HTTP (`/api/tools/call`, toolsApi.ts). Each way
 * counted alone, so a member held twice its share of the MCP servers (found in review). A real
 * relay on 127.0.0.1 runs the test's own MCP server (tests/fixtures/mcpServer.ts, over stdio).
 */
import '../../src/lib/mesh/polyfills.node.ts'; // before anything that loads libp2p
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callMeshTool, type MeshToolsInit } from '../../src/lib/ai/meshTools.ts';
import { MAX_CALLS_PER_PEER } from '../../src/lib/ai/toolHost.ts';
import { TOOLS_PATH } from '../../src/lib/mesh/signedRequest.ts';
import { callRelayTool } from '../../src/lib/mesh/relayTools.ts';
import { stopPeers } from '../../tests/mesh/peers.ts';
import { stopTeamPeers, teamOfRoles, type TeamPeer, type TeamWorkspace } from '../../tests/mesh/teamPeers.ts';
import type { RunningRelay } from '../run.ts';
import { archiveAs, dialRelay, signedFetch, signerOf, startTestRelay, type TestRelay, waitUntil } from '../teamFixture.ts';

const FIXTURE = fileURLToPath(new URL('../../tests/fixtures/mcpServer.ts', import.meta.url));

let testRelay: TestRelay;
let relay: RunningRelay;
let ws: TeamWorkspace;
let owner: TeamPeer;
let bob: TeamPeer;

const as = (peer: TeamPeer): MeshToolsInit => ({ node: peer.node, keys: peer.mesh.workspaceKeys(ws.id)!, timeoutMs: 5000 });

beforeAll(async () => {
	testRelay = await startTestRelay('tool-slots', { mcp: [{ transport: 'stdio', name: 'fx', command: process.execPath, args: ['--import', 'tsx', FIXTURE] }] });
	relay = testRelay.relay;
	({ ws, owner, bob } = await teamOfRoles());
	expect((await archiveAs(owner, relay, ws)).created).toBe(true);
	for (const peer of [owner, bob]) await dialRelay(peer, relay);
	await waitUntil(() => relay.archive.authority(ws.id)?.isMember(bob.peerId) === true, 'the relay to know bob');
	await waitUntil(() => (relay.mcp?.tools().length ?? 0) > 0, 'the MCP server to come up', 20_000);
}, 60_000);

afterAll(async () => {
	await stopTeamPeers();
	await stopPeers();
	await testRelay?.stop();
}, 15_000);

describe('a member’s running tool calls, over the mesh and HTTP together', () => {
	it('holding its share on the mesh, it is refused over HTTP (and freed after)', async () => {
		const url = relay.server.url;
		const hang = (stop: AbortController) => callMeshTool(as(bob), relay.node.peerId, 'fx.hang', {}, stop.signal).catch((e: unknown) => e);
		const hangs = Array.from({ length: MAX_CALLS_PER_PEER }, () => new AbortController()).map((stop) => ({ stop, call: hang(stop) }));
		const busy = (result: unknown) => typeof result === 'object' && result !== null && String((result as { content?: unknown }).content).includes('tool calls running');
		const PENDING = Symbol('pending');
		// Once the mesh host runs all of them, bob's HTTP call is refused. (A mesh call that
		// reached the host after a probe took a slot is refused as busy: it is sent again.)
		let refused: Response | undefined;
		await waitUntil(async () => {
			for (const h of hangs) if (busy(await Promise.race([h.call, Promise.resolve(PENDING)]))) h.call = hang(h.stop);
			const { res } = await signedFetch(url, signerOf(bob), 'POST', `${TOOLS_PATH}/call`, JSON.stringify({ workspace: ws.id, tool: 'fx.add', arguments: { a: 1, b: 1 } }));
			if (res.status === 429) refused = res;
			else await res.arrayBuffer();
			return refused !== undefined;
		}, 'bob’s HTTP call refused while his mesh calls run', 10_000);
		expect(await refused!.json()).toMatchObject({ error: expect.stringContaining('over HTTP and the mesh') });
		// Another member is not held to bob's count.
		expect(await callRelayTool(signerOf(owner), url, ws.id, 'fx.add', { a: 1, b: 2 })).toEqual({ content: '3', isError: false });
		for (const { stop } of hangs) stop.abort(new Error('the user stopped the answer'));
		for (const { call } of hangs) expect(await call).toBeInstanceOf(Error);
		await waitUntil(async () => (await callRelayTool(signerOf(bob), url, ws.id, 'fx.add', { a: 2, b: 2 })).content === '4', 'bob’s slots freed', 10_000);
	}, 30_000);
});
