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
import { echoEngine, shareModels, startV1Team, type V1Team, waitUntil } from '../teamFixture.ts';

const MODEL = 'team-llama';
const ADVERTS = { intervalMs: 400, ttlMs: 1500, minRepublishMs: 50 } as const;

let team: V1Team;
const stops: (() => Promise<void>)[] = [];

beforeAll(async () => {
	team = await startV1Team('model-takeover', ADVERTS);
}, 60_000);

afterAll(async () => {
	for (const stop of stops) await stop().catch(() => {});
	await team?.stop();
}, 30_000);

describe("a model id a member shares on the mesh, as /v1 reaches it", () => {
	it("is not taken over by a guest advertising the same id", async () => {
		const { ws, bob, gus, key, listed, testRelay } = team;
		const url = () => testRelay.relay.server.url;
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
