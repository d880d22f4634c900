/**
 * A member sharing a model on the mesh, made a guest: the relay stops sending `/v1` requests to
 * its device at once, not when its advert expires (a review asked whether prompts went on
 * reaching such a device for the advert's lifetime: this shows they do not). In-process, on
 * 127.0.0.1, adverts living a minute.
 */
import '../../src/lib/mesh/polyfills.node.ts'; // before anything that loads libp2p
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeysClient } from '../../src/lib/mesh/apiKeysClient.ts';
import { stopPeers } from '../../tests/mesh/peers.ts';
import { stopTeamPeers, teamOfRoles, type TeamPeer, type TeamWorkspace } from '../../tests/mesh/teamPeers.ts';
import { archiveAs, dialRelay, echoEngine, shareModels, signerOf, startTestRelay, type TestRelay, waitUntil } from '../teamFixture.ts';

const MODEL = 'bobs-llama';
/** Adverts that live a minute: what ends bob's serving below is the team, not their expiry. */
const ADVERTS = { intervalMs: 400, ttlMs: 60_000, minRepublishMs: 50 } as const;

let testRelay: TestRelay;
let ws: TeamWorkspace;
let owner: TeamPeer;
let bob: TeamPeer;
let key: string;
const stops: (() => Promise<void>)[] = [];

const url = () => testRelay.relay.server.url;
async function listed(): Promise<string[]> {
	const res = await fetch(`${url()}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
	return ((await res.json()) as { data: { id: string }[] }).data.map((m) => m.id);
}

beforeAll(async () => {
	testRelay = await startTestRelay('removed-host', { adverts: ADVERTS });
	({ ws, owner, bob } = await teamOfRoles());
	expect((await archiveAs(owner, testRelay.relay, ws)).created).toBe(true);
	key = (await new ApiKeysClient(signerOf(owner), url()).create(ws.id, 'scripts')).key;
	for (const p of [owner, bob]) await dialRelay(p, testRelay.relay);
	await waitUntil(() => testRelay.relay.archive.authority(ws.id)?.isMember(bob.peerId) === true, 'bob on the relay');
}, 60_000);

afterAll(async () => {
	for (const stop of stops) await stop().catch(() => {});
	await testRelay?.stop();
	await stopTeamPeers();
	await stopPeers();
}, 30_000);

describe('a member who shares a model, made a guest', () => {
	it('stops getting /v1 requests as soon as the relay folds the change', async () => {
		const engine = echoEngine(MODEL);
		const share = await shareModels(bob, ws, engine, ADVERTS);
		stops.push(() => share.adverts.stop(), () => share.host.stop());
		await waitUntil(async () => (await listed()).includes(MODEL), "bob's model on /v1", 20_000);

		const member = owner.authority.team.devices.get(bob.peerId)!;
		await owner.authority.write({ t: 'role', member, role: 'guest' });
		await waitUntil(() => testRelay.relay.archive.authority(ws.id)?.roleOf(bob.peerId) === 'guest', 'the change on the relay', 10_000);
		// Well within the advert's minute.
		await waitUntil(async () => !(await listed()).includes(MODEL), "bob's model gone from /v1", 5_000);
		const runs = engine.runs;
		const res = await fetch(`${url()}/v1/chat/completions`, {
			method: 'POST',
			headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
			body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'Q3 salaries: …' }] })
		});
		expect(res.status).toBe(404);
		await res.body?.cancel();
		expect(engine.runs).toBe(runs);
	}, 60_000);
});
