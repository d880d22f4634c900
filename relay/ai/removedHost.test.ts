/**
 * A member sharing a model on the mesh, made a guest: the relay stops sending `/v1` requests to
 * its device at once, not when its advert expires (a review asked whether prompts went on
 * reaching such a device for the advert's lifetime: this shows they do not). In-process, on
 * 127.0.0.1, adverts living a minute.
 */
import '../../src/lib/mesh/polyfills.node.ts'; // before anything that loads libp2p
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoEngine, shareModels, startV1Team, type V1Team, waitUntil } from '../teamFixture.ts';

const MODEL = 'bobs-llama';
/** Adverts that live a minute: what ends bob's serving below is the team, not their expiry. */
const ADVERTS = { intervalMs: 400, ttlMs: 60_000, minRepublishMs: 50 } as const;

let team: V1Team;
const stops: (() => Promise<void>)[] = [];

beforeAll(async () => {
	team = await startV1Team('removed-host', ADVERTS);
}, 60_000);

afterAll(async () => {
	for (const stop of stops) await stop().catch(() => {});
	await team?.stop();
}, 30_000);

describe('a member who shares a model, made a guest', () => {
	it('stops getting /v1 requests as soon as the relay folds the change', async () => {
		const { ws, owner, bob, key, testRelay } = team;
		const url = () => testRelay.relay.server.url;
		const listed = async () => (await team.listed()).map((m) => m.id);
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
