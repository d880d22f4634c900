/**
 * `/v1` routes a model id to the mesh engine of the key's workspace the registry holds first,
 * and a peer's engine goes to the end when its advert comes back (a reload). Found in review: a
 * guest advertising the id of a member's shared model took it over after the member's app
 * restarted, and read the prompts of every `/v1` request for it. The relay takes no adverts
 * from a guest's device (relayModels.ts). In-process, on 127.0.0.1: a relay archiving the
 * workspace, bob (member) and gus (guest).
 */
import '../../src/lib/mesh/polyfills.node.ts'; // before anything that loads libp2p
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeysClient } from '../../src/lib/mesh/apiKeysClient.ts';
import { stopPeers } from '../../tests/mesh/peers.ts';
import { stopTeamPeers, teamOfRoles, type TeamPeer, type TeamWorkspace } from '../../tests/mesh/teamPeers.ts';
import { archiveAs, dialRelay, echoEngine, shareModels, signerOf, startTestRelay, type TestRelay, waitUntil } from '../teamFixture.ts';

const MODEL = 'team-llama';
const ADVERTS = { intervalMs: 400, ttlMs: 1500, minRepublishMs: 50 } as const;

let testRelay: TestRelay;
let ws: TeamWorkspace;
let owner: TeamPeer;
let bob: TeamPeer;
let gus: TeamPeer;
let key: string;
const stops: (() => Promise<void>)[] = [];

const url = () => testRelay.relay.server.url;
async function listed(): Promise<{ id: string; where: string }[]> {
	const res = await fetch(`${url()}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
	return ((await res.json()) as { data: { id: string; where: string }[] }).data;
}

beforeAll(async () => {
	testRelay = await startTestRelay('model-takeover', { adverts: ADVERTS });
	({ ws, owner, bob, gus } = await teamOfRoles());
	expect((await archiveAs(owner, testRelay.relay, ws)).created).toBe(true);
	key = (await new ApiKeysClient(signerOf(owner), url()).create(ws.id, 'scripts')).key;
	for (const p of [owner, bob, gus]) await dialRelay(p, testRelay.relay);
	await waitUntil(() => testRelay.relay.archive.authority(ws.id)?.team.members.size === 5, 'the team on the relay');
}, 60_000);

afterAll(async () => {
	for (const stop of stops) await stop().catch(() => {});
	await testRelay?.stop();
	await stopTeamPeers();
	await stopPeers();
}, 30_000);

describe("a model id a member shares on the mesh, as /v1 reaches it", () => {
	it("is not taken over by a guest advertising the same id", async () => {
		const bobEngine = echoEngine(MODEL);
		let bobShare = await shareModels(bob, ws, bobEngine, ADVERTS);
		await waitUntil(async () => (await listed()).some((m) => m.id === MODEL && m.where === bob.peerId), "bob's model on /v1", 20_000);

		const gusEngine = echoEngine(MODEL);
		const gusShare = await shareModels(gus, ws, gusEngine, ADVERTS);
		stops.push(() => gusShare.adverts.stop(), () => gusShare.host.stop());
		await new Promise((r) => setTimeout(r, 1500));

		// Bob's app restarts (a reload): his advert is withdrawn and comes back a moment later.
		await bobShare.adverts.stop();
		await bobShare.host.stop();
		bobShare = await shareModels(bob, ws, bobEngine, ADVERTS);
		stops.push(() => bobShare.adverts.stop(), () => bobShare.host.stop());
		await waitUntil(async () => (await listed()).some((m) => m.id === MODEL && m.where === bob.peerId), "bob's model on /v1 again", 20_000);
		await new Promise((r) => setTimeout(r, 1000)); // gus's adverts go on meanwhile

		const res = await fetch(`${url()}/v1/chat/completions`, {
			method: 'POST',
			headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
			body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'Q3 salaries: …' }] })
		});
		expect(res.status).toBe(200);
		const where = (await listed()).find((m) => m.id === MODEL)?.where;
		expect({ guestRuns: gusEngine.runs, memberRuns: bobEngine.runs, listedWhere: where === gus.peerId ? 'gus (guest)' : where === bob.peerId ? 'bob' : where }).toEqual({
			guestRuns: 0,
			memberRuns: 1,
			listedWhere: 'bob'
		});
	}, 60_000);
});
