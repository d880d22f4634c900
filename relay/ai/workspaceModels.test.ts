/**
 * The models a `/v1` key reaches: the relay's own, and those members of the key's workspace
 * share on the mesh, never another workspace's (found in review). Anyone can make a workspace
 * of their own, have the relay archive it and make a key there; the relay asks a member's host
 * as that member's workspace's relay, which the host lets use its models by default, so a key
 * of another workspace ran a member's shared model on the member's device. In-process, on
 * 127.0.0.1: a relay archiving workspace B, B's member Bob sharing an echo model.
 */
import '../../src/lib/mesh/polyfills.node.ts'; // before anything that loads libp2p
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelAdverts } from '../../src/lib/ai/adverts.ts';
import type { Engine } from '../../src/lib/ai/engine.ts';
import type { LlmHost } from '../../src/lib/ai/llmHost.ts';
import { ApiKeysClient } from '../../src/lib/mesh/apiKeysClient.ts';
import { stopPeers } from '../../tests/mesh/peers.ts';
import { createTeamWorkspace, newKey, stopTeamPeers, teamOfRoles, type TeamPeer, type TeamWorkspace } from '../../tests/mesh/teamPeers.ts';
import { archiveAs, dialRelay, echoEngine, shareModels, signerOf, startTestRelay, type TestRelay, waitUntil } from '../teamFixture.ts';

const BOB_MODEL = 'bob-shared-echo';
const ADVERTS = { intervalMs: 400, ttlMs: 1500, minRepublishMs: 50 } as const;

let testRelay: TestRelay;
let wsB: TeamWorkspace;
let owner: TeamPeer;
let gus: TeamPeer;
let bobHost: { host: LlmHost; adverts: ModelAdverts; engine: Engine & { runs: number } };
/** B's owner's key: the control, which must reach Bob's model. */
let ownerKey: string;

const url = () => testRelay.relay.server.url;

async function listed(key: string): Promise<string[]> {
	const res = await fetch(`${url()}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
	return ((await res.json()) as { data: { id: string }[] }).data.map((m) => m.id);
}

const complete = (key: string, model: string) =>
	fetch(`${url()}/v1/chat/completions`, {
		method: 'POST',
		headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
		body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hello' }], max_tokens: 4 })
	});

/** A key made in the app by `admin` of `ws`, which the relay archives. */
async function keyOf(admin: TeamPeer, ws: TeamWorkspace): Promise<string> {
	expect((await archiveAs(admin, testRelay.relay, ws)).created).toBe(true);
	return (await new ApiKeysClient(signerOf(admin), url()).create(ws.id, 'key')).key;
}

beforeAll(async () => {
	testRelay = await startTestRelay('workspace-models', { adverts: ADVERTS });
	const relay = testRelay.relay;
	let bob: TeamPeer;
	({ ws: wsB, owner, bob, gus } = await teamOfRoles());
	ownerKey = await keyOf(owner, wsB);
	for (const p of [owner, bob, gus]) await dialRelay(p, relay);
	await waitUntil(() => relay.archive.authority(wsB.id)?.team.members.size === 5, 'the team on the relay');
	const engine = echoEngine(BOB_MODEL);
	bobHost = { ...(await shareModels(bob, wsB, engine, ADVERTS)), engine };
	await waitUntil(async () => (await listed(ownerKey)).includes(BOB_MODEL), "Bob's model listed for B's key", 20_000);
}, 60_000);

afterAll(async () => {
	await bobHost?.adverts.stop();
	await bobHost?.host.stop();
	await testRelay?.stop();
	await stopTeamPeers();
	await stopPeers();
}, 30_000);

describe('/v1 keys reach their own workspace’s shared models only', () => {
	it("B's key runs B's member's model; a stranger's key of a workspace of its own neither lists nor runs it", async () => {
		const before = bobHost.engine.runs;
		const ok = await complete(ownerKey, BOB_MODEL);
		expect(ok.status).toBe(200);
		expect(bobHost.engine.runs - before).toBe(1);

		const { ws: wsA, owner: stranger } = await createTeamWorkspace((await newKey()).key);
		const key = await keyOf(stranger, wsA);
		expect(await listed(key)).not.toContain(BOB_MODEL);
		const res = await complete(key, BOB_MODEL);
		expect(res.status).toBe(404);
		expect(((await res.json()) as { error: { code: string } }).error.code).toBe('model_not_found');
		expect(bobHost.engine.runs - before).toBe(1);
	}, 40_000);

	it("B's guest, whom Bob's host refuses, does not run Bob's model through a workspace of its own", async () => {
		const { ws: wsG, owner: gusOwn } = await createTeamWorkspace(gus.key);
		const key = await keyOf(gusOwn, wsG);
		const before = bobHost.engine.runs;
		const res = await complete(key, BOB_MODEL);
		expect(res.status).toBe(404);
		expect(bobHost.engine.runs - before).toBe(0);
	}, 40_000);
});
