/**
 * Per-role model access on the relay, in-process on 127.0.0.1: a relay running the tiny
 * generated model archives a team workspace (owner, an admin, a member, a guest). Its mesh host
 * decides each request by the team as the relay folds it (a guest refused by default, a
 * member refused a model an admin restricted, the admin served); its `/v1` keys carry the role
 * of the member who made them (keys are made by owners and admins: keysApi.ts), so an admin's
 * key neither sees nor runs a model restricted to owners until the rule is lifted; and a
 * member's model reached through `/v1` is refused by that member's host until the team lets
 * the relay's role use it.
 */
import '../../src/lib/mesh/polyfills.node.ts'; // before anything that loads libp2p
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelAdverts } from '../../src/lib/ai/adverts.ts';
import type { Engine } from '../../src/lib/ai/engine.ts';
import type { LlmHost } from '../../src/lib/ai/llmHost.ts';
import { MeshEngine } from '../../src/lib/ai/meshEngine.ts';
import type { TeamRole } from '../../src/lib/doc/team/ops.ts';
import { ApiKeysClient } from '../../src/lib/mesh/apiKeysClient.ts';
import { llamaGgufPath, tinyLlama } from '../../tests/fixtures/gguf.ts';
import { stopPeers } from '../../tests/mesh/peers.ts';
import { stopTeamPeers, teamOfRoles, type TeamPeer, type TeamWorkspace } from '../../tests/mesh/teamPeers.ts';
import type { RunningRelay } from '../run.ts';
import { archiveAs, dialRelay, echoEngine, shareModels, signerOf, startTestRelay, type TestRelay, waitUntil } from '../teamFixture.ts';

const RELAY_MODEL = tinyLlama.name;
const BOB_MODEL = 'bob-echo';
const ADVERTS = { intervalMs: 400, ttlMs: 1500, minRepublishMs: 50 } as const;

let testRelay: TestRelay;
let relay: RunningRelay;
let ws: TeamWorkspace;
let owner: TeamPeer;
let ann: TeamPeer;
let bob: TeamPeer;
let gus: TeamPeer;
/** The member's own model host and its adverts. */
let bobHost: { host: LlmHost; adverts: ModelAdverts; engine: Engine & { runs: number } };
let annKey: string;
let ownerKey: string;

beforeAll(async () => {
	testRelay = await startTestRelay('model-access', {
		models: [llamaGgufPath()],
		modelThreads: 1,
		modelGpu: false,
		adverts: ADVERTS
	});
	relay = testRelay.relay;
	({ ws, owner, ann, bob, gus } = await teamOfRoles());
	expect((await archiveAs(owner, relay, ws)).created).toBe(true);
	for (const p of [owner, ann, bob, gus]) await dialRelay(p, relay);
	await waitUntil(() => relay.archive.authority(ws.id)?.team.members.size === 5, 'the team on the relay');

	// Bob serves a model of his own, to whom his team allows.
	const engine = echoEngine(BOB_MODEL);
	bobHost = { ...(await shareModels(bob, ws, engine, ADVERTS)), engine };

	annKey = (await new ApiKeysClient(signerOf(ann), relay.server.url).create(ws.id, 'ann scripts')).key;
	ownerKey = (await new ApiKeysClient(signerOf(owner), relay.server.url).create(ws.id, 'owner scripts')).key;
	// The relay's host serves once its model has loaded.
	await waitUntil(async () => typeof (await askRelay(owner, RELAY_MODEL)) === 'string', "the relay's model served", 20_000);
}, 60_000);

afterAll(async () => {
	await bobHost?.adverts.stop();
	await bobHost?.host.stop();
	await testRelay?.stop();
	await stopTeamPeers();
	await stopPeers();
}, 30_000);

const relayTeam = () => relay.archive.authority(ws.id)!;

/** An admin's rule, once the relay (and Bob's host) fold it. */
async function rule(model: string, roles: TeamRole[]): Promise<void> {
	await ann.authority.write({ t: 'model-access', model, roles });
	const same = (p: { team: { modelAccess: Map<string, Set<TeamRole>> } }) => [...(p.team.modelAccess.get(model) ?? [])].sort().join() === [...roles].sort().join();
	await waitUntil(() => same(relayTeam()) && same(bob.authority), `the rule for ${model} on the relay and on Bob`);
}

/** `peer` asks the relay's host: the answer's text, or the error. */
async function askRelay(peer: TeamPeer, model: string): Promise<unknown> {
	const engine = new MeshEngine({ node: peer.node, host: relay.node.peerId, keys: peer.mesh.workspaceKeys(ws.id)! });
	let text = '';
	try {
		for await (const chunk of engine.generate({ model, messages: [{ role: 'user', content: 'Hi.' }], maxTokens: 4, temperature: 0 })) if (chunk.type === 'text') text += chunk.text;
		return text;
	} catch (error) {
		return error;
	}
}

const listed = async (key: string): Promise<string[]> => {
	const res = await fetch(`${relay.server.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
	expect(res.status).toBe(200);
	return ((await res.json()) as { data: { id: string }[] }).data.map((m) => m.id);
};

const complete = (key: string, model: string) =>
	fetch(`${relay.server.url}/v1/chat/completions`, {
		method: 'POST',
		headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
		body: JSON.stringify({ model, messages: [{ role: 'user', content: 'Say something.' }], max_tokens: 4, temperature: 0 })
	});

const notAllowed = { name: 'EngineError', problem: 'not-allowed' };

describe("the relay's model host", () => {
	it('refuses a guest by default and serves a member a model no rule names', async () => {
		expect(await askRelay(gus, RELAY_MODEL)).toMatchObject(notAllowed);
		expect(typeof (await askRelay(bob, RELAY_MODEL))).toBe('string');
	}, 20_000);

	it('refuses a member a model an admin restricted to owners and admins, and serves the admin', async () => {
		await rule(RELAY_MODEL, ['owner', 'admin']);
		expect(await askRelay(bob, RELAY_MODEL)).toMatchObject({ ...notAllowed, message: expect.stringMatching(/may not use/) });
		expect(typeof (await askRelay(ann, RELAY_MODEL))).toBe('string');
	}, 20_000);
});

describe('/v1 keys carry the role of the member who made them', () => {
	it("an admin's key neither lists nor runs a model restricted to owners (403); the owner's does; lifting the rule opens it", async () => {
		await rule(RELAY_MODEL, ['owner']);
		expect(await listed(annKey)).not.toContain(RELAY_MODEL);
		const refused = await complete(annKey, RELAY_MODEL);
		expect(refused.status).toBe(403);
		expect(await refused.json()).toEqual({
			error: { message: expect.stringMatching(/\(admin\) may not use the model/), type: 'invalid_request_error', code: 'model_not_allowed', param: 'model' }
		});
		expect((await fetch(`${relay.server.url}/v1/models/${RELAY_MODEL}`, { headers: { authorization: `Bearer ${annKey}` } })).status).toBe(404);
		expect(await listed(ownerKey)).toContain(RELAY_MODEL);
		expect((await complete(ownerKey, RELAY_MODEL)).status).toBe(200);

		await rule(RELAY_MODEL, ['owner', 'admin']);
		expect(await listed(annKey)).toContain(RELAY_MODEL);
		const served = await complete(annKey, RELAY_MODEL);
		expect(served.status).toBe(200);
		expect(((await served.json()) as { usage: { completion_tokens: number } }).usage.completion_tokens).toBe(4);
	}, 30_000);

	it("a member's model is refused to the relay by that member's host once a rule leaves the relay's role out", async () => {
		await waitUntil(async () => (await listed(annKey)).includes(BOB_MODEL), "Bob's model on the relay", 20_000);
		const before = bobHost.engine.runs;
		expect((await complete(annKey, BOB_MODEL)).status).toBe(200); // no rule: the relay may ask
		expect(bobHost.engine.runs).toBe(before + 1);
		await rule(BOB_MODEL, ['owner', 'admin', 'member']);
		const runs = bobHost.engine.runs;
		const refused = await complete(annKey, BOB_MODEL);
		expect(refused.status).toBe(403);
		expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('model_not_allowed');
		expect(bobHost.engine.runs).toBe(runs);

		await rule(BOB_MODEL, ['owner', 'admin', 'member', 'relay']);
		const served = await complete(annKey, BOB_MODEL);
		expect(served.status).toBe(200);
		expect(((await served.json()) as { choices: { message: { content: string } }[] }).choices[0]?.message.content).toBe('echo Say something.');
		expect(bobHost.engine.runs).toBe(runs + 1);
	}, 30_000);
});
