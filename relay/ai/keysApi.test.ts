/**
 * API keys made by a workspace's owners and admins through the relay's HTTP API
 * (keysApi.ts), against a relay started in-process on 127.0.0.1 that archives a team
 * workspace (it is a member device there): owners and admins create, list and revoke keys
 * with signed requests (the app's own client, apiKeysClient.ts); a key works on `/v1` like a
 * command-line key and stops working when revoked, or when its maker is demoted or removed
 * in the team as the relay folds it; members, strangers, forged and replayed requests change
 * nothing; a removed member gets nothing from the relay's model host.
 */
import '../../src/lib/mesh/polyfills.node.ts'; // before anything that loads libp2p
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/lib/doc/ids.ts';
import { MeshEngine } from '../../src/lib/ai/meshEngine.ts';
import { ApiKeysClient, type Signer } from '../../src/lib/mesh/apiKeysClient.ts';
import { API_KEYS_PATH } from '../../src/lib/mesh/signedRequest.ts';
import { connect, stopPeers } from '../../tests/mesh/peers.ts';
import { createTeamWorkspace, invite, newKey, startJoiner, stopTeamPeers, type TeamPeer, type TeamWorkspace } from '../../tests/mesh/teamPeers.ts';
import type { RunningRelay } from '../run.ts';
import { archiveAs, dialRelay, signedFetch, signerOf, startTestRelay, type TestRelay, waitUntil } from '../teamFixture.ts';
import { ApiKeyStore } from './apiKeys.ts';
import { MAX_KEYS_BODY_BYTES } from './keysApi.ts';

let testRelay: TestRelay;
let relay: RunningRelay;
let url: string;
let ws: TeamWorkspace;
let owner: TeamPeer;
/** An admin (a key and an `add`; no running device needed to sign requests). */
let ann: Signer;
let bob: TeamPeer;
let outsider: Signer;

beforeAll(async () => {
	testRelay = await startTestRelay('keys');
	relay = testRelay.relay;
	url = relay.server.url;
	({ ws, owner } = await createTeamWorkspace((await newKey()).key));
	const annKey = await newKey();
	ann = { peerId: annKey.peerId, privateKey: annKey.key };
	await owner.authority.write({ t: 'add', member: ann.peerId, role: 'admin', name: 'ann' });
	const bobInvite = await invite(owner, 'member');
	bob = await startJoiner(ws, (await newKey()).key, 'bob', bobInvite);
	await connect(bob, owner);
	await waitUntil(() => owner.authority.isMember(bob.peerId) && bob.authority.joined, 'bob admitted');
	const out = await newKey();
	outsider = { peerId: out.peerId, privateKey: out.key };
}, 30_000);

afterAll(async () => {
	await stopTeamPeers();
	await stopPeers();
	await testRelay?.stop();
}, 15_000);

const models = (key: string) => fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
const createBody = (name = 'scripts') => JSON.stringify({ workspace: ws.id, name });
const errorOf = async (res: Response) => ((await res.json()) as { error: string }).error;
const keyFile = () => new ApiKeyStore(testRelay.dataDir).list();
const relayTeam = () => relay.archive.authority(ws.id)!;

/** Asks the relay's model host for a model it does not have, as `peer`: how it refuses says whether it served us. */
async function askRelayHost(peer: TeamPeer): Promise<unknown> {
	const engine = new MeshEngine({ node: peer.node, host: relay.node.peerId, keys: peer.mesh.workspaceKeys(ws.id)! });
	try {
		for await (const chunk of engine.generate({ model: 'none', messages: [{ role: 'user', content: 'hi' }] })) void chunk;
		return undefined;
	} catch (error) {
		return error;
	}
}

describe('API keys made by owners and admins', () => {
	it('refuses a workspace the relay does not archive with the answer a stranger gets (403), and changes nothing', async () => {
		const notArchived = await new ApiKeysClient(signerOf(owner), url).create(ws.id, 'early').catch((error: unknown) => error);
		expect(notArchived).toMatchObject({ status: 403 });
		await expect(new ApiKeysClient(signerOf(owner), url).list(newId())).rejects.toMatchObject({ status: 403 });
		expect(await keyFile()).toEqual([]);

		expect((await archiveAs(owner, relay, ws)).created).toBe(true);
		expect(relayTeam().isMember(bob.peerId)).toBe(true);
		// The devices stay connected: team changes reach the relay by sync.
		await dialRelay(owner, relay);
		await dialRelay(bob, relay);
		const stranger = await new ApiKeysClient(outsider, url).list(ws.id).catch((error: unknown) => error);
		expect(stranger).toMatchObject({ status: 403 });
		expect((stranger as Error).message).toBe((notArchived as Error).message);
	}, 30_000);

	it('the owner creates a key shown once that works on /v1, lists it, and revokes it (then 401)', async () => {
		const client = new ApiKeysClient(signerOf(owner), url);
		expect(await client.list(ws.id)).toEqual([]);
		const made = await client.create(ws.id, '  Editor plugin ');
		expect(made.key).toMatch(/^sk-outpost-[0-9a-f]{12}-/);
		expect(made.entry).toMatchObject({ name: 'Editor plugin', createdBy: owner.peerId });
		expect((await models(made.key)).status).toBe(200);
		const listed = await client.list(ws.id);
		expect(listed).toEqual([made.entry]);
		expect(JSON.stringify(listed)).not.toContain(made.key.slice(-20)); // the secret is never listed
		expect((await keyFile())[0]).toMatchObject({ workspace: ws.id, createdBy: owner.peerId });

		await client.revoke(ws.id, made.entry.id);
		expect((await models(made.key)).status).toBe(401);
		expect(await client.list(ws.id)).toEqual([]);
		await expect(client.revoke(ws.id, made.entry.id)).rejects.toMatchObject({ status: 404 });
	});

	it('refuses members who are not owners or admins (403) and strangers (403)', async () => {
		await expect(new ApiKeysClient(signerOf(bob), url).create(ws.id, 'mine')).rejects.toMatchObject({
			status: 403,
			message: 'only owners and admins of the workspace can manage its API keys'
		});
		await expect(new ApiKeysClient(outsider, url).create(ws.id, 'mine')).rejects.toMatchObject({ status: 403, message: expect.stringMatching(/not a member/) });
		expect(await keyFile()).toEqual([]);
	});

	it('refuses forged signatures, replays, missing headers, bad bodies', async () => {
		const own = signerOf(owner);
		const forged = await signedFetch(url, own, 'POST', API_KEYS_PATH, createBody(), { signAs: outsider });
		expect([forged.res.status, await errorOf(forged.res)]).toEqual([401, 'the signature does not match the request and its signer']);
		const swapped = await signedFetch(url, own, 'POST', API_KEYS_PATH, createBody('evil'), { signedBody: createBody('good') });
		expect(swapped.res.status).toBe(401);
		const invented = await signedFetch(url, own, 'POST', API_KEYS_PATH, createBody(), { challenge: 'made-up' });
		expect([invented.res.status, await errorOf(invented.res)]).toEqual([401, 'the challenge is unknown, used or expired: ask for a new one']);
		// Signed by the owner for another relay (a challenge of this one slipped in): no key is made here.
		const elsewhere = (await newKey()).peerId;
		const misdirected = await signedFetch(url, own, 'POST', API_KEYS_PATH, createBody(), { relay: elsewhere });
		expect([misdirected.res.status, await errorOf(misdirected.res)]).toEqual([
			403,
			`the request is signed for relay ${elsewhere}, not this one (${relay.node.peerId.toString()}): nothing was done`
		]);
		// Its header relabelled for this relay, the signature still for the other: a bad signature.
		const relabelled = await signedFetch(url, own, 'POST', API_KEYS_PATH, createBody(), { relay: elsewhere, relayHeader: relay.node.peerId.toString() });
		expect(relabelled.res.status).toBe(401);
		const path = `${API_KEYS_PATH}?workspace=${ws.id}`;
		const first = await signedFetch(url, own, 'GET', path);
		expect(first.res.status).toBe(200);
		expect((await fetch(`${url}${path}`, { headers: first.headers })).status).toBe(401);
		expect((await fetch(`${url}${path}`)).status).toBe(401);
		expect((await signedFetch(url, own, 'POST', API_KEYS_PATH, '{nope')).res.status).toBe(400);
		const untyped = await fetch(`${url}${API_KEYS_PATH}`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: createBody() });
		expect(untyped.status).toBe(415);
		const big = await fetch(`${url}${API_KEYS_PATH}`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ workspace: ws.id, name: 'x'.repeat(MAX_KEYS_BODY_BYTES) })
		});
		expect(big.status).toBe(413);
		// 8 MB sent unsigned in chunks with no length: refused (401) before any of it is read.
		let sent = 0;
		const chunk = new TextEncoder().encode('x'.repeat(64 * 1024));
		const huge = await fetch(`${url}${API_KEYS_PATH}`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: new ReadableStream<Uint8Array>({
				pull(controller) {
					if (sent >= 8 * 1024 * 1024) return controller.close();
					sent += chunk.length;
					controller.enqueue(chunk);
				}
			}),
			duplex: 'half'
		} as RequestInit);
		expect(huge.status).toBe(401);
		expect(sent).toBeLessThan(8 * 1024 * 1024);
		const unnamed = await signedFetch(url, own, 'POST', API_KEYS_PATH, createBody('   '));
		expect([unnamed.res.status, await errorOf(unnamed.res)]).toEqual([400, 'give the key a name that says what it is for']);
		const badWorkspace = await signedFetch(url, own, 'POST', API_KEYS_PATH, JSON.stringify({ workspace: '../x', name: 'a' }));
		expect(badWorkspace.res.status).toBe(400);
		expect((await fetch(`${url}${API_KEYS_PATH}`, { method: 'PUT' })).status).toBe(405);
		expect(await keyFile()).toEqual([]);
	});

	it("an admin's key stops working once the admin is demoted, and again once removed; command-line keys are the operator's", async () => {
		const client = new ApiKeysClient(ann, url);
		const made = await client.create(ws.id, 'ann');
		expect((await models(made.key)).status).toBe(200);
		const operator = await new ApiKeyStore(testRelay.dataDir).create('operator');

		await owner.authority.write({ t: 'role', member: ann.peerId, role: 'member' });
		await waitUntil(() => relayTeam().roleOf(ann.peerId) === 'member', 'the demotion on the relay');
		expect((await models(made.key)).status).toBe(401);
		await expect(client.list(ws.id)).rejects.toMatchObject({ status: 403 });

		await owner.authority.write({ t: 'role', member: ann.peerId, role: 'admin' });
		await waitUntil(() => relayTeam().roleOf(ann.peerId) === 'admin', 'the promotion on the relay');
		expect((await models(made.key)).status).toBe(200);

		await owner.authority.write({ t: 'remove', member: ann.peerId });
		await waitUntil(() => !relayTeam().isMember(ann.peerId), 'the removal on the relay');
		expect((await models(made.key)).status).toBe(401);
		await expect(client.create(ws.id, 'again')).rejects.toMatchObject({ status: 403 });
		expect((await models(operator.key)).status).toBe(200);
	});

	it('the model host serves a member, and refuses it once removed; the removed member gets no new sync session', async () => {
		expect(await askRelayHost(bob)).toMatchObject({ problem: 'unknown-model', message: expect.stringMatching(/does not serve/) });
		await owner.authority.write({ t: 'remove', member: bob.peerId });
		await waitUntil(() => !relayTeam().isMember(bob.peerId), 'the removal on the relay');
		const refused = (await askRelayHost(bob)) as { problem?: string; cause?: { name?: string } };
		expect(refused).toMatchObject({ problem: 'failed' });
		expect(refused.cause?.name).toBe('MembershipDeniedError');
	});
});
