/**
 * The relay's MCP tools offered to a workspace's members (toolsApi.ts), with a real relay on
 * 127.0.0.1 running the test's own MCP server (tests/fixtures/mcpServer.ts, over stdio) and a
 * real team: members list and call its tools through the app's own client (relayTools.ts);
 * a guest gets none until an admin's signed `tool-access` rule names guests; a stranger, a
 * forged role and a call of a tool the role may not use change nothing; a server that crashes
 * gives a clear error and comes back.
 */
import '../../src/lib/mesh/polyfills.node.ts'; // before anything that loads libp2p
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callRelayTool, relayTools } from '../../src/lib/mesh/relayTools.ts';
import type { Signer } from '../../src/lib/mesh/relayHttp.ts';
import { stopPeers } from '../../tests/mesh/peers.ts';
import { newKey, ownDevice, stopTeamPeers, teamOfRoles, type TeamPeer, type TeamWorkspace } from '../../tests/mesh/teamPeers.ts';
import type { RunningRelay } from '../run.ts';
import { archiveAs, challenge, dialRelay, signedFetch, signerOf, startTestRelay, type TestRelay, waitUntil } from '../teamFixture.ts';
import { signBytes } from '../../src/lib/doc/signature.ts';
import { SignedHeaders, signedRequestBytes, TOOLS_PATH } from '../../src/lib/mesh/signedRequest.ts';

/** The servers' status as `who` is told it. */
async function servers(who: TeamPeer): Promise<Array<Record<string, unknown>>> {
	const { res } = await signedFetch(url, signerOf(who), 'GET', `${TOOLS_PATH}?workspace=${ws.id}`);
	return ((await res.json()) as { servers: Array<Record<string, unknown>> }).servers;
}

const FIXTURE = fileURLToPath(new URL('../../tests/fixtures/mcpServer.ts', import.meta.url));

let testRelay: TestRelay;
let relay: RunningRelay;
let url: string;
let ws: TeamWorkspace;
let owner: TeamPeer;
let bob: TeamPeer;
let gus: TeamPeer;
let outsider: Signer;

beforeAll(async () => {
	testRelay = await startTestRelay('tools', {
		mcp: [{ transport: 'stdio', name: 'fx', command: process.execPath, args: ['--import', 'tsx', FIXTURE] }]
	});
	relay = testRelay.relay;
	url = relay.server.url;
	({ ws, owner, bob, gus } = await teamOfRoles());
	expect((await archiveAs(owner, relay, ws)).created).toBe(true);
	for (const peer of [owner, bob, gus]) await dialRelay(peer, relay);
	await waitUntil(() => [bob, gus].every((p) => relay.archive.authority(ws.id)?.isMember(p.peerId) === true), 'the relay to know bob and gus');
	await waitUntil(() => (relay.mcp?.tools().length ?? 0) > 0, 'the MCP server to come up', 20_000);
	const out = await newKey();
	outsider = { peerId: out.peerId, privateKey: out.key };
}, 60_000);

afterAll(async () => {
	await stopTeamPeers();
	await stopPeers();
	await testRelay?.stop();
}, 15_000);

describe('the relay’s MCP tools for members', () => {
	it('lists the tools to a member and runs a call of one, asking first (every shared tool counts as changing something)', async () => {
		const tools = await relayTools(signerOf(bob), url, ws.id);
		const names = tools.map((t) => t.spec.name);
		expect(names).toContain('fx.echo');
		expect(names).toContain('fx.add');
		expect(tools.every((t) => t.mutates)).toBe(true);
		const add = tools.find((t) => t.spec.name === 'fx.add')!;
		expect(add.spec.parameters).toMatchObject({ type: 'object' });
		expect(await add.run({ a: 2, b: 3 }, new AbortController().signal)).toEqual({ content: '5', isError: false });
	});

	it('passes an error result through, and refuses arguments that are not an object with a 400 before the server runs', async () => {
		expect(await callRelayTool(signerOf(bob), url, ws.id, 'fx.fail', {})).toMatchObject({ isError: true });
		const { res } = await signedFetch(url, signerOf(bob), 'POST', `${TOOLS_PATH}/call`, JSON.stringify({ workspace: ws.id, tool: 'fx.echo', arguments: [1] }));
		expect(res.status).toBe(400);
		const { res: unknown } = await signedFetch(url, signerOf(bob), 'POST', `${TOOLS_PATH}/call`, JSON.stringify({ workspace: ws.id, tool: 'fx.nothing', arguments: {} }));
		expect(unknown.status).toBe(404);
	});

	it('gives a guest no tools, and refuses its call, until an admin allows guests; a stranger gets none', async () => {
		expect(await relayTools(signerOf(gus), url, ws.id)).toEqual([]);
		// Nor is it told of servers none of whose tools its role may use (found in review).
		expect(await servers(gus)).toEqual([]);
		expect((await servers(owner)).map((s) => s.name)).toEqual(['fx']);
		const { res: refused } = await signedFetch(url, signerOf(gus), 'POST', `${TOOLS_PATH}/call`, JSON.stringify({ workspace: ws.id, tool: 'fx.echo', arguments: { text: 'hi' } }));
		expect(refused.status).toBe(403);
		expect(((await refused.json()) as { error: string }).error).toMatch(/may not use the tool "fx\.echo"/);
		// A stranger gets an empty list (the answer for a workspace not kept here), and no call.
		const { res: stranger } = await signedFetch(url, outsider, 'GET', `${TOOLS_PATH}?workspace=${ws.id}`);
		expect(stranger.status).toBe(200);
		expect(await stranger.json()).toEqual({ tools: [], servers: [] });
		const { res: strangerCall } = await signedFetch(url, outsider, 'POST', `${TOOLS_PATH}/call`, JSON.stringify({ workspace: ws.id, tool: 'fx.echo', arguments: { text: 'x' } }));
		expect(strangerCall.status).toBe(403);

		await owner.authority.write({ t: 'tool-access', tool: 'fx.echo', roles: ['owner', 'admin', 'member', 'guest'] });
		await waitUntil(() => relay.archive.authority(ws.id)?.team.toolAccess.get('fx.echo')?.has('guest') === true, 'the rule to reach the relay');
		const gusTools = await relayTools(signerOf(gus), url, ws.id);
		expect(gusTools.map((t) => t.spec.name)).toEqual(['fx.echo']);
		expect(await gusTools[0]!.run({ text: 'ahoy' }, new AbortController().signal)).toMatchObject({ content: expect.stringContaining('ahoy'), isError: false });
	});

	it('ignores a member’s own tool-access rule: the relay receives the signed op and folds it to nothing', async () => {
		// The member's client signs and sends the rule as a modified client would (write checks nothing locally).
		const forged = await bob.authority.write({ t: 'tool-access', tool: 'fx.add', roles: ['guest'] });
		await waitUntil(() => relay.archive.authority(ws.id)?.team.rejected.has(forged.id) === true, 'the relay to receive and refuse the forged rule');
		expect(relay.archive.authority(ws.id)?.team.rejected.get(forged.id)).toBe('only admins set tool access');
		expect(relay.archive.authority(ws.id)?.team.toolAccess.has('fx.add')).toBe(false);
		expect((await relayTools(signerOf(gus), url, ws.id)).map((t) => t.spec.name)).not.toContain('fx.add');
		const { res } = await signedFetch(url, signerOf(gus), 'POST', `${TOOLS_PATH}/call`, JSON.stringify({ workspace: ws.id, tool: 'fx.add', arguments: { a: 1, b: 2 } }));
		expect(res.status).toBe(403);
	});

	it('holds a member to 4 calls at once, its devices together (a 5th gets 429), and frees them when their callers go away', async () => {
		// Bob's second device, invited by bob himself (any member may): it shares bob's count (found in review).
		const bob2 = await ownDevice(ws, bob, 'bob');
		await dialRelay(bob2, relay);
		await waitUntil(() => relay.archive.authority(ws.id)?.team.devices.get(bob2.peerId) === bob.peerId, 'the relay to count bob’s second device');
		const startHang = async () => {
			const stop = new AbortController();
			const body = JSON.stringify({ workspace: ws.id, tool: 'fx.hang', arguments: {} });
			const path = `${TOOLS_PATH}/call`;
			const ch = await challenge(url);
			const relayId = relay.node.peerId.toString();
			const sig = await signBytes(signerOf(bob).privateKey, signedRequestBytes({ method: 'POST', path, body, challenge: ch, peer: bob.peerId, relay: relayId }));
			const done = fetch(`${url}${path}`, {
				method: 'POST',
				headers: { 'content-type': 'application/json', [SignedHeaders.peer]: bob.peerId, [SignedHeaders.challenge]: ch, [SignedHeaders.relay]: relayId, [SignedHeaders.signature]: sig },
				body,
				signal: stop.signal
			}).catch(() => undefined);
			return { stop, done };
		};
		const hanging = await Promise.all(Array.from({ length: 4 }, startHang));
		const PENDING = Symbol('pending');
		let fifth: Response | undefined;
		// Once the four run at the server, a fifth is refused. A probe can reach the server before
		// the last of them and take its slot (that one then gets 429): it is sent again.
		await waitUntil(async () => {
			for (const [i, h] of hanging.entries()) {
				const settled = await Promise.race([h.done, Promise.resolve(PENDING)]);
				if (settled instanceof Response && settled.status === 429) hanging[i] = await startHang();
			}
			const { res } = await signedFetch(url, signerOf(bob), 'POST', `${TOOLS_PATH}/call`, JSON.stringify({ workspace: ws.id, tool: 'fx.add', arguments: { a: 1, b: 1 } }));
			if (res.status === 429) fifth = res;
			else await res.arrayBuffer();
			return fifth !== undefined;
		}, 'the fifth call refused', 10_000);
		if (fifth === undefined) throw new Error('unreachable: the wait above ends with a refused call');
		expect(fifth.headers.get('retry-after')).toBe('5');
		const second = await signedFetch(url, signerOf(bob2), 'POST', `${TOOLS_PATH}/call`, JSON.stringify({ workspace: ws.id, tool: 'fx.add', arguments: { a: 1, b: 1 } }));
		expect(second.res.status).toBe(429);
		await second.res.arrayBuffer();
		// Another member is not held to bob's count.
		expect(await callRelayTool(signerOf(owner), url, ws.id, 'fx.add', { a: 1, b: 2 })).toEqual({ content: '3', isError: false });
		for (const h of hanging) h.stop.abort();
		await Promise.all(hanging.map((h) => h.done));
		await waitUntil(async () => (await callRelayTool(signerOf(bob), url, ws.id, 'fx.add', { a: 2, b: 2 })).content === '4', 'bob’s calls to be freed');
	}, 20_000);

	it('stopping an answer aborts a running shared tool call: the app’s call ends at once and the relay frees the member’s slot', async () => {
		const hang = (await relayTools(signerOf(bob), url, ws.id)).find((t) => t.spec.name === 'fx.hang')!;
		const start = () => {
			const stop = new AbortController();
			const settled = hang.run({}, stop.signal).then(
				(result) => ({ result }),
				(error: unknown) => ({ error })
			);
			return { stop, settled };
		};
		const PENDING = Symbol('pending');
		const calls = Array.from({ length: 4 }, start);
		let refused = false;
		// Once bob's four calls hold his slots, a fifth is refused (a probe that took a slot first
		// leaves one of them refused: that one is started again).
		await waitUntil(async () => {
			for (const [i, call] of calls.entries()) {
				const settled = await Promise.race([call.settled, Promise.resolve(PENDING)]);
				if (settled !== PENDING) calls[i] = start();
			}
			const probe = await callRelayTool(signerOf(bob), url, ws.id, 'fx.add', { a: 1, b: 1 });
			refused = probe.isError === true && /tool calls running/.test(probe.content);
			return refused;
		}, 'bob’s four calls to hold his slots', 10_000);
		for (const call of calls) call.stop.abort(new DOMException('stopped', 'AbortError'));
		// The app's calls end with the abort, not the relay's 30 s limit.
		const ended = await Promise.race([Promise.all(calls.map((c) => c.settled)), new Promise((resolve) => setTimeout(() => resolve(PENDING), 2_000))]);
		expect(ended).not.toBe(PENDING);
		for (const outcome of ended as Array<{ error?: unknown }>) expect(outcome.error).toMatchObject({ name: 'AbortError' });
		// And the relay, seeing its client go, cancelled the calls and freed bob's slots.
		await waitUntil(async () => (await callRelayTool(signerOf(bob), url, ws.id, 'fx.add', { a: 2, b: 2 })).content === '4', 'bob’s slots to be freed', 5_000);
	}, 30_000);

	it('a server that crashes gives the caller a clear error, and is running again after its backoff', async () => {
		const crashed = await callRelayTool(signerOf(bob), url, ws.id, 'fx.crash', {});
		expect(crashed).toMatchObject({ isError: true, content: expect.stringMatching(/The MCP server "fx"/) });
		// While it is down, why (its command, address or last output) is told to owners and admins only.
		if (relay.mcp?.status()[0]?.state === 'failed') {
			expect((await servers(owner))[0]).toMatchObject({ name: 'fx', state: 'failed', error: expect.any(String) });
			for (const who of [bob, gus]) expect((await servers(who)).some((server) => 'error' in server)).toBe(false);
		}
		await waitUntil(() => relay.mcp?.status()[0]?.state === 'ready', 'the server to restart', 20_000);
		expect(await callRelayTool(signerOf(bob), url, ws.id, 'fx.add', { a: 1, b: 1 })).toEqual({ content: '2', isError: false });
	}, 30_000);
});
