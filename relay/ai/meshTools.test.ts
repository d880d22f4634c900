/**
 * The relay's MCP tools on the mesh (issue 15: "offered to mesh members through the relay like
 * a model: advertised, permission-checked on the host"), with a real relay on 127.0.0.1 running
 * the test's own MCP server (tests/fixtures/mcpServer.ts, over stdio), a real team and real
 * libp2p nodes: the relay's model advert says it shares tools; a member lists and calls them
 * over `/outpost/tools/1.0.0` with the app's own client (ai/meshTools.ts); a guest gets none
 * until an admin's signed rule names guests; a device the team does not count gets nothing;
 * one member's hanging calls are bounded (its devices and tabs together), and a caller going
 * away cancels its call.
 */
import '../../src/lib/mesh/polyfills.node.ts'; // before anything that loads libp2p
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelAdverts } from '../../src/lib/ai/adverts.ts';
import { callMeshTool, listMeshTools, type MeshToolsInit } from '../../src/lib/ai/meshTools.ts';
import { MAX_CALLS_PER_PEER } from '../../src/lib/ai/toolHost.ts';
import { signDelegation } from '../../src/lib/doc/team/delegation.ts';
import { stopPeers } from '../../tests/mesh/peers.ts';
import { newKey, ownDevice, startTeamPeer, stopTeamPeers, teamOfRoles, type TeamPeer, type TeamWorkspace } from '../../tests/mesh/teamPeers.ts';
import type { RunningRelay } from '../run.ts';
import { archiveAs, dialRelay, startTestRelay, type TestRelay, waitUntil } from '../teamFixture.ts';

const FIXTURE = fileURLToPath(new URL('../../tests/fixtures/mcpServer.ts', import.meta.url));

let testRelay: TestRelay;
let relay: RunningRelay;
let ws: TeamWorkspace;
let owner: TeamPeer;
let bob: TeamPeer;
let gus: TeamPeer;

/** How `peer` reaches the relay's tools. */
const as = (peer: TeamPeer): MeshToolsInit => ({ node: peer.node, keys: peer.mesh.workspaceKeys(ws.id)!, timeoutMs: 5000 });
const never = () => new AbortController().signal;

beforeAll(async () => {
	testRelay = await startTestRelay('mesh-tools', {
		adverts: { intervalMs: 300, ttlMs: 5000, minRepublishMs: 50 },
		mcp: [{ transport: 'stdio', name: 'fx', command: process.execPath, args: ['--import', 'tsx', FIXTURE] }]
	});
	relay = testRelay.relay;
	({ ws, owner, bob, gus } = await teamOfRoles());
	expect((await archiveAs(owner, relay, ws)).created).toBe(true);
	for (const peer of [owner, bob, gus]) await dialRelay(peer, relay);
	await waitUntil(() => [bob, gus].every((p) => relay.archive.authority(ws.id)?.isMember(p.peerId) === true), 'the relay to know bob and gus');
	await waitUntil(() => (relay.mcp?.tools().length ?? 0) > 0, 'the MCP server to come up', 20_000);
}, 60_000);

afterAll(async () => {
	await stopTeamPeers();
	await stopPeers();
	await testRelay?.stop();
}, 15_000);

describe('the relay’s MCP tools on the mesh', () => {
	it('are advertised with the relay’s models, and a member lists and calls them', async () => {
		const adverts = new ModelAdverts({ pubsub: bob.node.services.pubsub, keys: bob.mesh.workspaceKeys(ws.id)!, localPeerId: bob.peerId, onError: () => {} });
		adverts.start();
		try {
			await waitUntil(() => adverts.toolHosts().includes(relay.node.peerId.toString()), 'the relay’s advert saying it shares tools', 15_000);
		} finally {
			await adverts.stop();
		}
		const tools = await listMeshTools(as(bob), relay.node.peerId);
		const names = tools.map((t) => t.spec.name);
		expect(names).toEqual(expect.arrayContaining(['fx.echo', 'fx.add', 'fx.fail']));
		expect(tools.every((t) => t.mutates)).toBe(true); // a server's tool could do anything: each call asks first
		const add = tools.find((t) => t.spec.name === 'fx.add')!;
		expect(add.spec.parameters).toMatchObject({ type: 'object' });
		expect(await add.run({ a: 2, b: 3 }, never())).toEqual({ content: '5' });
		expect(await callMeshTool(as(bob), relay.node.peerId, 'fx.fail', {})).toMatchObject({ isError: true, content: expect.stringContaining('on purpose') });
		expect(await callMeshTool(as(bob), relay.node.peerId, 'fx.nothing', {})).toEqual({ content: expect.stringMatching(/offers no tool "fx\.nothing"/), isError: true });
	});

	it('gives a guest none, and refuses its call, until an admin allows guests', async () => {
		expect(await listMeshTools(as(gus), relay.node.peerId)).toEqual([]);
		expect(await callMeshTool(as(gus), relay.node.peerId, 'fx.echo', { text: 'hi' })).toEqual({ content: expect.stringMatching(/may not use the tool "fx\.echo"/), isError: true });
		await owner.authority.write({ t: 'tool-access', tool: 'fx.echo', roles: ['owner', 'admin', 'member', 'guest'] });
		await waitUntil(() => relay.archive.authority(ws.id)?.team.toolAccess.get('fx.echo')?.has('guest') === true, 'the rule to reach the relay');
		const gusTools = await listMeshTools(as(gus), relay.node.peerId);
		expect(gusTools.map((t) => t.spec.name)).toEqual(['fx.echo']);
		expect(await gusTools[0]!.run({ text: 'ahoy' }, never())).toMatchObject({ content: expect.stringContaining('ahoy') });
	});

	it('lists and runs nothing for a device that holds the workspace’s secret but is no member', async () => {
		const stranger = await startTeamPeer(ws, (await newKey()).key, 'stranger');
		await dialRelay(stranger, relay);
		expect(await listMeshTools(as(stranger), relay.node.peerId)).toEqual([]);
		expect(await callMeshTool(as(stranger), relay.node.peerId, 'fx.echo', { text: 'x' })).toMatchObject({ isError: true, content: expect.stringMatching(/could not be run/) });
	});

	it('bounds one member’s running calls, its devices together, and a caller going away frees its call', async () => {
		const hang = (stop: AbortController) => callMeshTool(as(bob), relay.node.peerId, 'fx.hang', {}, stop.signal).catch((e: unknown) => e);
		const hangs = Array.from({ length: MAX_CALLS_PER_PEER }, () => new AbortController()).map((stop) => ({ stop, call: hang(stop) }));
		const busy = (result: unknown) => typeof result === 'object' && result !== null && String((result as { content?: unknown }).content).includes('tool calls running');
		const PENDING = Symbol('pending');
		// The host counts them once they run: the next call is refused as busy. A probe can reach
		// the host before the last of them and take its slot (streams are served as they come),
		// which refuses that call as busy: it is asked again.
		await waitUntil(async () => {
			for (const h of hangs) if (busy(await Promise.race([h.call, Promise.resolve(PENDING)]))) h.call = hang(h.stop);
			return (await callMeshTool(as(bob), relay.node.peerId, 'fx.echo', { text: 'one more' })).content.includes('already have 4 tool calls running');
		}, 'the fifth call refused', 10_000);
		// Another device is not held up by bob's calls.
		expect(await callMeshTool(as(owner), relay.node.peerId, 'fx.echo', { text: 'owner' })).toMatchObject({ content: expect.stringContaining('owner') });
		// A modified client of bob's mints a delegation to a throwaway key (as a second tab does): it shares bob's slots.
		const throwaway = await startTeamPeer(ws, (await newKey()).key, 'bob-tab');
		await dialRelay(throwaway, relay);
		const delegation = await signDelegation(bob.key, { ws: ws.id, device: bob.peerId, tab: throwaway.peerId, expires: Date.now() + 60_000 });
		const asTab: MeshToolsInit = { ...as(throwaway), admission: () => delegation };
		expect(await callMeshTool(asTab, relay.node.peerId, 'fx.echo', { text: 'tab' })).toMatchObject({ content: expect.stringContaining('already have 4 tool calls running') });
		// So does a second device bob invites for himself (any member may): counted as bob (found in review).
		const bob2 = await ownDevice(ws, bob, 'bob');
		await dialRelay(bob2, relay);
		await waitUntil(() => relay.archive.authority(ws.id)?.isMember(bob2.peerId) === true, 'the relay to count bob’s second device');
		expect(relay.archive.authority(ws.id)?.team.devices.get(bob2.peerId)).toBe(bob.peerId);
		expect(await callMeshTool(as(bob2), relay.node.peerId, 'fx.echo', { text: 'second device' })).toMatchObject({ content: expect.stringContaining('already have 4 tool calls running') });
		for (const { stop } of hangs) stop.abort(new Error('the user stopped the answer'));
		for (const { call } of hangs) expect(await call).toBeInstanceOf(Error);
		await waitUntil(async () => (await callMeshTool(as(bob), relay.node.peerId, 'fx.echo', { text: 'freed' })).content.includes('freed'), 'bob’s slots freed', 10_000);
	}, 30_000);
});
