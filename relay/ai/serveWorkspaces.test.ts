/**
 * `--serve-workspace`: the relay's own models and MCP tools go to the members of the
 * workspaces its operator lists, never to a workspace anyone else has it archive (found in
 * review: a workspace's model- and tool-access rules bound only the workspace a request named,
 * so a member refused a relay model or tool by its rule used it through a workspace of its own;
 * anyone on the LAN can create one). In-process on 127.0.0.1: a relay with an
 * OpenAI-compatible upstream and an MCP server, serving workspace B only.
 */
import '../../src/lib/mesh/polyfills.node.ts'; // before anything that loads libp2p
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MeshEngine } from '../../src/lib/ai/meshEngine.ts';
import { ApiKeysClient } from '../../src/lib/mesh/apiKeysClient.ts';
import { TOOLS_PATH } from '../../src/lib/mesh/signedRequest.ts';
import { stopPeers } from '../../tests/mesh/peers.ts';
import { createTeamWorkspace, newKey, stopTeamPeers, teamOfRoles, type TeamPeer, type TeamWorkspace } from '../../tests/mesh/teamPeers.ts';
import { archiveAs, dialRelay, signedFetch, signerOf, startTestRelay, type TestRelay, waitUntil } from '../teamFixture.ts';

const MODEL = 'up-model';
const FIXTURE = fileURLToPath(new URL('../../tests/fixtures/mcpServer.ts', import.meta.url));

let upstream: Server;
let upstreamRuns = 0;
let testRelay: TestRelay;
let wsB: TeamWorkspace;
let owner: TeamPeer;
let bob: TeamPeer;
/** A stranger to B, owner of workspace A, which the relay archives but does not serve. */
let stranger: TeamPeer;
let wsA: TeamWorkspace;

const url = () => testRelay.relay.server.url;

beforeAll(async () => {
	upstream = createServer((req, res) => {
		if (req.url?.endsWith('/models')) {
			res.setHeader('content-type', 'application/json');
			res.end(JSON.stringify({ object: 'list', data: [{ id: MODEL, object: 'model' }] }));
			return;
		}
		req.resume();
		upstreamRuns++;
		res.setHeader('content-type', 'text/event-stream');
		const chunk = (o: object) => `data: ${JSON.stringify(o)}\n\n`;
		res.end(
			chunk({ choices: [{ index: 0, delta: { content: 'hi' }, finish_reason: null }] }) +
				chunk({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }) +
				chunk({ choices: [], usage: { prompt_tokens: 1, completion_tokens: 1 } }) +
				'data: [DONE]\n\n'
		);
	});
	await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
	({ ws: wsB, owner, bob } = await teamOfRoles());
	({ ws: wsA, owner: stranger } = await createTeamWorkspace((await newKey()).key));
	testRelay = await startTestRelay('serve-workspaces', {
		openaiUpstreams: [`http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`],
		mcp: [{ transport: 'stdio', name: 'fx', command: process.execPath, args: ['--import', 'tsx', FIXTURE] }],
		serveWorkspaces: [wsB.id]
	});
	const relay = testRelay.relay;
	expect((await archiveAs(owner, relay, wsB)).created).toBe(true);
	expect((await archiveAs(stranger, relay, wsA)).created).toBe(true);
	for (const peer of [owner, bob, stranger]) await dialRelay(peer, relay);
	await waitUntil(() => relay.archive.authority(wsB.id)?.isMember(bob.peerId) === true, 'the relay to know bob');
	await waitUntil(() => (relay.mcp?.tools().length ?? 0) > 0, 'the MCP server to come up', 20_000);
}, 60_000);

afterAll(async () => {
	await testRelay?.stop();
	await stopTeamPeers();
	await stopPeers();
	upstream?.close();
}, 30_000);

const callTool = (who: TeamPeer, workspace: string) =>
	signedFetch(url(), signerOf(who), 'POST', `${TOOLS_PATH}/call`, JSON.stringify({ workspace, tool: 'fx.echo', arguments: { text: 'hi' } }));

const complete = (key: string) =>
	fetch(`${url()}/v1/chat/completions`, {
		method: 'POST',
		headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
		body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'x' }] })
	});

async function listed(key: string): Promise<string[]> {
	const res = await fetch(`${url()}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
	return ((await res.json()) as { data: { id: string }[] }).data.map((m) => m.id);
}

/** `peer` asks the relay's mesh host in `ws`: the answer's text, or the error. */
async function askRelay(peer: TeamPeer, ws: TeamWorkspace): Promise<unknown> {
	const engine = new MeshEngine({ node: peer.node, host: testRelay.relay.node.peerId, keys: peer.mesh.workspaceKeys(ws.id)! });
	let text = '';
	try {
		for await (const chunk of engine.generate({ model: MODEL, messages: [{ role: 'user', content: 'Hi.' }], maxTokens: 4 })) if (chunk.type === 'text') text += chunk.text;
		return text;
	} catch (error) {
		return error;
	}
}

describe("the relay's own models and tools go to the workspaces its operator serves", () => {
	it('tools over HTTP: a member of B calls one; the owner of a workspace the relay only archives is refused and lists none', async () => {
		expect((await callTool(bob, wsB.id)).res.status).toBe(200);
		const { res } = await callTool(stranger, wsA.id);
		expect(res.status).toBe(403);
		expect(((await res.json()) as { error: string }).error).toMatch(/--serve-workspace/);
		const list = await signedFetch(url(), signerOf(stranger), 'GET', `${TOOLS_PATH}?workspace=${wsA.id}`);
		expect(((await list.res.json()) as { tools: unknown[] }).tools).toEqual([]);
	}, 30_000);

	it("/v1: B's key lists and runs the relay's model; a key of the workspace it only archives neither lists nor runs it", async () => {
		const bKey = (await new ApiKeysClient(signerOf(owner), url()).create(wsB.id, 'b')).key;
		const aKey = (await new ApiKeysClient(signerOf(stranger), url()).create(wsA.id, 'a')).key;
		expect(await listed(bKey)).toContain(MODEL);
		const before = upstreamRuns;
		expect((await complete(bKey)).status).toBe(200);
		expect(upstreamRuns - before).toBe(1);
		expect(await listed(aKey)).not.toContain(MODEL);
		expect((await complete(aKey)).status).toBe(404);
		expect(upstreamRuns - before).toBe(1);
	}, 30_000);

	it("the mesh: the relay's host answers B's member and refuses the workspace it only archives", async () => {
		const before = upstreamRuns;
		expect(await askRelay(bob, wsB)).toBe('hi');
		expect(upstreamRuns - before).toBe(1);
		// Refused as for a workspace it does not hold: nothing reaches the model.
		const refused = await askRelay(stranger, wsA);
		expect(refused).toBeInstanceOf(Error);
		expect((refused as Error).message).toMatch(/did not accept this device/);
		expect(upstreamRuns - before).toBe(1);
	}, 30_000);
});
