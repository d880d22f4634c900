/**
 * A shared tool call whose caller loses its access while it runs is stopped as soon as the relay
 * folds that change (toolAccessWatch.ts): before, it ran to its end (the relay's 30 s limit),
 * holding the member's slot and a place on the server. A real relay on 127.0.0.1 runs a real
 * slow MCP server (tests/fixtures/slowMcpServer.ts, over stdio, whose `slow` call takes a minute
 * unless cancelled), for a real team: over HTTP (`/api/tools`) a member removed, and a device
 * removed; over the mesh (`/outpost/tools/1.0.0`) a member demoted to guest. Each running call
 * ends with a clear error to its caller, the server is told to cancel it, and the member's slots
 * are free again.
 */
import '../../src/lib/mesh/polyfills.node.ts'; // before anything that loads libp2p
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callMeshTool, type MeshToolsInit } from '../../src/lib/ai/meshTools.ts';
import { MAX_CALLS_PER_PEER } from '../../src/lib/ai/toolHost.ts';
import type { ToolResult } from '../../src/lib/ai/tools/types.ts';
import { callRelayTool } from '../../src/lib/mesh/relayTools.ts';
import { TOOLS_PATH } from '../../src/lib/mesh/signedRequest.ts';
import { stopPeers } from '../../tests/mesh/peers.ts';
import { ownDevice, stopTeamPeers, teamOfRoles, type TeamPeer, type TeamWorkspace } from '../../tests/mesh/teamPeers.ts';
import type { RunningRelay } from '../run.ts';
import { archiveAs, dialRelay, signedFetch, signerOf, startTestRelay, type TestRelay, waitUntil } from '../teamFixture.ts';

const FIXTURE = fileURLToPath(new URL('../../tests/fixtures/slowMcpServer.ts', import.meta.url));
/** Longer than the relay's own 30 s limit and each test's time: only a stop ends these calls in time. */
const SLOW = { ms: 60_000 };
const ENDED = /access to the tool "slow\.slow" ended while it ran/;

let testRelay: TestRelay;
let relay: RunningRelay;
let url: string;
let ws: TeamWorkspace;
let owner: TeamPeer;
let ann: TeamPeer;
let bob: TeamPeer;

const as = (peer: TeamPeer): MeshToolsInit => ({ node: peer.node, keys: peer.mesh.workspaceKeys(ws.id)!, timeoutMs: 5000 });
const team = () => relay.archive.authority(ws.id);

/** A call in flight, and how to end it from the caller's side. */
interface Running {
	stop: AbortController;
	done: Promise<ToolResult | Error>;
}

/**
 * Starts `MAX_CALLS_PER_PEER` slow calls with `start` and waits until they hold all of the
 * slots of `member`'s member (its HTTP probe is refused with 429). A probe that reached the
 * relay before the last of them took its slot, refusing that one as busy: it is started again.
 */
async function holdSlots(member: TeamPeer, start: (stop: AbortController) => Promise<ToolResult | Error>): Promise<Running[]> {
	const begin = (): Running => {
		const stop = new AbortController();
		return { stop, done: start(stop) };
	};
	const calls = Array.from({ length: MAX_CALLS_PER_PEER }, begin);
	const PENDING = Symbol('pending');
	await waitUntil(async () => {
		for (const [i, call] of calls.entries()) if ((await Promise.race([call.done, Promise.resolve(PENDING)])) !== PENDING) calls[i] = begin();
		const { res } = await signedFetch(url, signerOf(member), 'POST', `${TOOLS_PATH}/call`, JSON.stringify({ workspace: ws.id, tool: 'slow.add', arguments: { a: 1, b: 1 } }));
		await res.arrayBuffer();
		return res.status === 429;
	}, `${member.name}’s calls to hold all of his slots`, 10_000);
	return calls;
}

/** How many `slow` calls the server was told to cancel. */
async function cancelledAtServer(): Promise<number> {
	return Number((await callRelayTool(signerOf(owner), url, ws.id, 'slow.cancelled', {})).content);
}

beforeAll(async () => {
	testRelay = await startTestRelay('tool-caller-removed', { mcp: [{ transport: 'stdio', name: 'slow', command: process.execPath, args: ['--import', 'tsx', FIXTURE] }] });
	relay = testRelay.relay;
	url = relay.server.url;
	({ ws, owner, ann, bob } = await teamOfRoles());
	expect((await archiveAs(owner, relay, ws)).created).toBe(true);
	for (const peer of [owner, ann, bob]) await dialRelay(peer, relay);
	await waitUntil(() => [ann, bob].every((p) => team()?.isMember(p.peerId) === true), 'the relay to know ann and bob');
	await waitUntil(() => (relay.mcp?.tools().length ?? 0) > 0, 'the MCP server to come up', 20_000);
}, 60_000);

afterAll(async () => {
	await stopTeamPeers();
	await stopPeers();
	await testRelay?.stop();
}, 15_000);

describe('a shared tool call whose caller loses its access while it runs', () => {
	it('over HTTP, a removed member’s calls end with a clear error and the server is told to cancel them', async () => {
		const before = await cancelledAtServer();
		const calls = await holdSlots(ann, (stop) => callRelayTool(signerOf(ann), url, ws.id, 'slow.slow', SLOW, stop.signal).catch((e: unknown) => e as Error));
		await owner.authority.write({ t: 'remove', member: ann.peerId });
		for (const { done } of calls) expect(await done).toEqual({ content: expect.stringMatching(ENDED), isError: true });
		expect(team()?.isMember(ann.peerId)).toBe(false);
		await waitUntil(async () => (await cancelledAtServer()) >= before + MAX_CALLS_PER_PEER, 'the server to be told to cancel ann’s calls');
	}, 20_000);

	it('over HTTP, a removed device’s calls end, and its member’s slots are free at once', async () => {
		const bob2 = await ownDevice(ws, bob, 'bob');
		await dialRelay(bob2, relay);
		await waitUntil(() => team()?.team.devices.get(bob2.peerId) === bob.peerId, 'the relay to count bob’s second device');
		const calls = await holdSlots(bob, (stop) => callRelayTool(signerOf(bob2), url, ws.id, 'slow.slow', SLOW, stop.signal).catch((e: unknown) => e as Error));
		await owner.authority.write({ t: 'remove-device', device: bob2.peerId });
		for (const { done } of calls) expect(await done).toEqual({ content: expect.stringMatching(ENDED), isError: true });
		// Bob's other device is not held to the removed device's calls: his slots were freed with them.
		expect(await callRelayTool(signerOf(bob), url, ws.id, 'slow.add', { a: 1, b: 2 })).toEqual({ content: '3', isError: false });
	}, 20_000);

	it('over the mesh, a member demoted below the tool’s rule has its calls end with a clear error, and its slots freed', async () => {
		const calls = await holdSlots(bob, (stop) => callMeshTool(as(bob), relay.node.peerId, 'slow.slow', SLOW, stop.signal).catch((e: unknown) => e as Error));
		await owner.authority.write({ t: 'role', member: bob.peerId, role: 'guest' });
		for (const { done } of calls) expect(await done).toEqual({ content: expect.stringMatching(ENDED), isError: true });
		// Back as a member, bob has all of his slots: none is still held by the stopped calls.
		await owner.authority.write({ t: 'role', member: bob.peerId, role: 'member' });
		await waitUntil(() => team()?.roleOf(bob.peerId) === 'member', 'the relay to fold bob’s role back');
		const again = await Promise.all(Array.from({ length: MAX_CALLS_PER_PEER }, (_, i) => callMeshTool(as(bob), relay.node.peerId, 'slow.add', { a: i, b: 1 })));
		expect(again.map((r) => r.content)).toEqual(['1', '2', '3', '4']);
	}, 20_000);
});
