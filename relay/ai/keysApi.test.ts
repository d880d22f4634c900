/**
 * API keys made by a workspace's owner through the relay's HTTP API (keysApi.ts), against a
 * relay started in-process on 127.0.0.1 that archives a workspace whose roster a device
 * syncs to it: the owner creates, lists and revokes keys with signed requests (the app's own
 * client, apiKeysClient.ts), the key works on `/v1` like a command-line key and stops working
 * when revoked or when its maker is revoked in the roster; forged, replayed and outsiders'
 * requests change nothing.
 */
import '../../src/lib/mesh/polyfills.node.ts'; // before anything that loads libp2p
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/lib/doc/ids.ts';
import { RosterDoc } from '../../src/lib/doc/RosterDoc.ts';
import { signBytes } from '../../src/lib/doc/signature.ts';
import { WorkspaceDoc } from '../../src/lib/doc/WorkspaceDoc.ts';
import { ModelAdverts } from '../../src/lib/ai/adverts.ts';
import { MeshEngine } from '../../src/lib/ai/meshEngine.ts';
import { ApiKeysClient, type Signer } from '../../src/lib/mesh/apiKeysClient.ts';
import { inviteLink, type Invite } from '../../src/lib/mesh/invite.ts';
import { meshService } from '../../src/lib/mesh/MeshService.ts';
import { createMeshNode } from '../../src/lib/mesh/node.node.ts';
import { newSecret } from '../../src/lib/mesh/secret.ts';
import { API_KEYS_PATH, CHALLENGE_PATH, SignedHeaders, signedRequestBytes } from '../../src/lib/mesh/signedRequest.ts';
import { MemoryDocs } from '../../tests/unit/mesh/memoryDocs.ts';
import { standingOf } from '../archive/roster.ts';
import { runRelay, type RunningRelay } from '../run.ts';
import { ApiKeyStore } from './apiKeys.ts';
import { MAX_KEYS_BODY_BYTES } from './keysApi.ts';

const ADVERTS = { intervalMs: 300, ttlMs: 3000, minRepublishMs: 50 } as const;
let tmp: string;
let relay: RunningRelay;
let url: string;
const invite: Invite = { workspaceId: newId(), secret: newSecret(), name: 'Deck', relays: [] };
const rosterId = newId();
let docs: MemoryDocs;
const cleanups: (() => Promise<void>)[] = [];

async function signer(): Promise<Signer> {
	const privateKey: PrivateKey = await generateKeyPair('Ed25519');
	return { privateKey, peerId: peerIdFromPrivateKey(privateKey).toString() };
}
let owner: Signer;
let member: Signer;
let outsider: Signer;

async function waitFor(check: () => Promise<boolean>, what: string, ms = 10_000): Promise<void> {
	const until = Date.now() + ms;
	while (!(await check())) {
		if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
		await new Promise((resolve) => setTimeout(resolve, 50));
	}
}

/** The owner's device's node and keys, for asking the relay's model host. */
let ownerNode: Awaited<ReturnType<typeof createMeshNode>>;
let ownerMesh: ReturnType<ReturnType<typeof meshService>>;

/** Asks the relay's model host for a model it does not have: how it refuses says whether it served us. */
async function askRelayHost(): Promise<unknown> {
	const keys = ownerMesh.workspaceKeys(invite.workspaceId)!;
	const engine = new MeshEngine({ node: ownerNode, host: relay.node.peerId, keys });
	try {
		for await (const chunk of engine.generate({ model: 'none', messages: [{ role: 'user', content: 'hi' }] })) void chunk;
		return undefined;
	} catch (error) {
		return error;
	}
}

const roster = () => new RosterDoc(docs.get(rosterId));

beforeAll(async () => {
	tmp = await mkdtemp(join(tmpdir(), 'outpost-keys-'));
	await mkdir(join(tmp, 'build'), { recursive: true });
	await writeFile(join(tmp, 'build', 'index.html'), '<!doctype html><title>home</title>');
	relay = await runRelay({
		root: join(tmp, 'build'),
		dataDir: join(tmp, 'data'),
		host: '127.0.0.1',
		port: 0,
		mdns: false,
		lanIps: [],
		log: () => {},
		adverts: ADVERTS
	});
	url = relay.server.url;
	[owner, member, outsider] = await Promise.all([signer(), signer(), signer()]);

	// The owner's device: the workspace's root and roster, synced to the relay once it archives them.
	const node = await createMeshNode({ privateKey: owner.privateKey, listen: [] });
	const mesh = meshService({ antiEntropyIntervalMs: 0 })({ node });
	ownerNode = node;
	ownerMesh = mesh;
	docs = new MemoryDocs();
	new WorkspaceDoc(docs.get(invite.workspaceId)).init({ name: 'Deck', color: '#1f6f5c', createdBy: owner.peerId, createdAt: 1, rosterId });
	roster().upsert({ peerId: owner.peerId, name: 'Owner', role: 'owner', joinedAt: 1 });
	roster().upsert({ peerId: member.peerId, name: 'Member', role: 'member', joinedAt: 2 });
	await mesh.start();
	await mesh.addWorkspace({ id: invite.workspaceId, secret: invite.secret, docs });
	cleanups.push(async () => {
		await mesh.stop();
		await node.stop();
	});
	await node.dial(multiaddr(relay.info().multiaddrs[0]!));
}, 30_000);

afterAll(async () => {
	for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
	await relay?.close();
	await rm(tmp, { recursive: true, force: true });
}, 15_000);

const archive = () =>
	fetch(`${url}/api/archive`, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify({ invite: inviteLink('http://127.0.0.1:1', invite) })
	});

const models = (key: string) => fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });

async function challenge(): Promise<string> {
	const res = await fetch(`${url}${CHALLENGE_PATH}`, { method: 'POST' });
	expect(res.status).toBe(201);
	return ((await res.json()) as { challenge: string }).challenge;
}

/** A signed request made by hand, so tests can tamper with its parts. */
async function signed(
	who: Signer,
	method: string,
	path: string,
	body = '',
	tamper: { challenge?: string; signAs?: Signer; signedBody?: string } = {}
): Promise<{ res: Response; headers: Record<string, string> }> {
	const ch = tamper.challenge ?? (await challenge());
	const sig = await signBytes(
		(tamper.signAs ?? who).privateKey,
		signedRequestBytes({ method, path, body: tamper.signedBody ?? body, challenge: ch, peer: who.peerId })
	);
	const headers = {
		...(body ? { 'content-type': 'application/json' } : {}),
		[SignedHeaders.peer]: who.peerId,
		[SignedHeaders.challenge]: ch,
		[SignedHeaders.signature]: sig
	};
	return { res: await fetch(`${url}${path}`, { method, headers, ...(body ? { body } : {}) }), headers };
}

const createBody = (name = 'scripts') => JSON.stringify({ workspace: invite.workspaceId, name });
const errorOf = async (res: Response) => ((await res.json()) as { error: string }).error;
const keyFile = () => new ApiKeyStore(join(tmp, 'data')).list();

describe('API keys made by the owner', () => {
	it('refuses a workspace the relay does not archive (404), before and changes nothing', async () => {
		const client = new ApiKeysClient(owner, url);
		await expect(client.create(invite.workspaceId, 'early')).rejects.toMatchObject({ status: 404, message: expect.stringMatching(/does not keep a copy/) });
		await expect(client.list(newId())).rejects.toMatchObject({ status: 404 });
		expect(await keyFile()).toEqual([]);

		expect((await archive()).status).toBe(201);
		await waitFor(async () => (await standingOf(relay.archive.archives, invite.workspaceId, owner.peerId)).kind === 'member', 'the roster on the relay', 15_000);
	}, 30_000);

	it('creates a key shown once that works on /v1, lists it, and revokes it (then 401)', async () => {
		const client = new ApiKeysClient(owner, url);
		expect(await client.list(invite.workspaceId)).toEqual([]);
		const made = await client.create(invite.workspaceId, '  Editor plugin ');
		expect(made.key).toMatch(/^sk-outpost-[0-9a-f]{12}-/);
		expect(made.entry).toMatchObject({ name: 'Editor plugin', createdBy: owner.peerId });
		expect((await models(made.key)).status).toBe(200);
		const listed = await client.list(invite.workspaceId);
		expect(listed).toEqual([made.entry]);
		expect(JSON.stringify(listed)).not.toContain(made.key.slice(-20)); // the secret is never listed
		expect((await keyFile())[0]).toMatchObject({ workspace: invite.workspaceId, createdBy: owner.peerId });

		await client.revoke(invite.workspaceId, made.entry.id);
		expect((await models(made.key)).status).toBe(401);
		expect(await client.list(invite.workspaceId)).toEqual([]);
		await expect(client.revoke(invite.workspaceId, made.entry.id)).rejects.toMatchObject({ status: 404 });
	});

	it('refuses members who are not the owner (403) and strangers (403)', async () => {
		await expect(new ApiKeysClient(member, url).create(invite.workspaceId, 'mine')).rejects.toMatchObject({
			status: 403,
			message: expect.stringMatching(/only the owner/)
		});
		await expect(new ApiKeysClient(outsider, url).list(invite.workspaceId)).rejects.toMatchObject({
			status: 403,
			message: expect.stringMatching(/not a member/)
		});
		expect(await keyFile()).toEqual([]);
	});

	it('refuses forged signatures, replays, missing headers, bad bodies', async () => {
		// Signed by someone else while claiming to be the owner.
		const forged = await signed(owner, 'POST', API_KEYS_PATH, createBody(), { signAs: outsider });
		expect([forged.res.status, await errorOf(forged.res)]).toEqual([401, 'the signature does not match the request and its signer']);
		// Signed over another body (a name swapped in transit).
		const swapped = await signed(owner, 'POST', API_KEYS_PATH, createBody('evil'), { signedBody: createBody('good') });
		expect(swapped.res.status).toBe(401);
		// A challenge the relay never issued.
		const invented = await signed(owner, 'POST', API_KEYS_PATH, createBody(), { challenge: 'made-up' });
		expect([invented.res.status, await errorOf(invented.res)]).toEqual([401, 'the challenge is unknown, used or expired: ask for a new one']);
		// A valid request, then the same bytes again.
		const path = `${API_KEYS_PATH}?workspace=${invite.workspaceId}`;
		const first = await signed(owner, 'GET', path);
		expect(first.res.status).toBe(200);
		const replay = await fetch(`${url}${path}`, { headers: first.headers });
		expect(replay.status).toBe(401);
		// No signature at all.
		expect((await fetch(`${url}${path}`)).status).toBe(401);
		// Not JSON, not JSON typed, too large, no name.
		const notJson = await signed(owner, 'POST', API_KEYS_PATH, '{nope');
		expect(notJson.res.status).toBe(400);
		const untyped = await fetch(`${url}${API_KEYS_PATH}`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: createBody() });
		expect(untyped.status).toBe(415);
		const big = await fetch(`${url}${API_KEYS_PATH}`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ workspace: invite.workspaceId, name: 'x'.repeat(MAX_KEYS_BODY_BYTES) })
		});
		expect(big.status).toBe(413);
		const unnamed = await signed(owner, 'POST', API_KEYS_PATH, createBody('   '));
		expect([unnamed.res.status, await errorOf(unnamed.res)]).toEqual([400, 'give the key a name that says what it is for']);
		const badWorkspace = await signed(owner, 'POST', API_KEYS_PATH, JSON.stringify({ workspace: '../x', name: 'a' }));
		expect(badWorkspace.res.status).toBe(400);
		expect((await fetch(`${url}${API_KEYS_PATH}`, { method: 'PUT' })).status).toBe(405);
		expect(await keyFile()).toEqual([]);
	});

	it("stops a key once its maker is revoked in the roster, and refuses the revoked owner's calls, model requests, adverts and sync sessions", async () => {
		// The owner advertises a model of its own: the relay offers it on /v1 while the owner is a member.
		const adverts = new ModelAdverts({
			pubsub: ownerNode.services.pubsub,
			keys: ownerMesh.workspaceKeys(invite.workspaceId)!,
			localPeerId: owner.peerId,
			source: {
				advertisedModels: () => [{ id: 'owner-model', engine: 'wllama', contextLength: 256, queueDepth: 0, freeSlots: 1 }],
				on: () => () => {}
			},
			...ADVERTS
		});
		adverts.start();
		cleanups.push(() => adverts.stop());
		const relayHas = async (id: string) => (await relay.registry.models()).some((m) => m.id === id);
		await waitFor(() => relayHas('owner-model'), "the owner's model on the relay");
		const client = new ApiKeysClient(owner, url);
		const made = await client.create(invite.workspaceId, 'before revocation');
		expect((await models(made.key)).status).toBe(200);
		// A member: the relay's model host serves it (and says it has no such model).
		expect(await askRelayHost()).toMatchObject({ problem: 'unknown-model', message: expect.stringMatching(/does not serve/) });
		// A command-line key is the operator's: the roster does not concern it.
		const operator = await new ApiKeyStore(join(tmp, 'data')).create('operator');

		roster().revoked.set(owner.peerId, Date.now());
		await waitFor(async () => (await standingOf(relay.archive.archives, invite.workspaceId, owner.peerId)).kind === 'revoked', 'the revocation on the relay', 15_000);
		expect((await models(made.key)).status).toBe(401);
		expect((await models(operator.key)).status).toBe(200);
		await expect(client.list(invite.workspaceId)).rejects.toMatchObject({ status: 403, message: expect.stringMatching(/revoked/) });
		// Revoked: the model host refuses it during the membership exchange, before any request.
		const refused = (await askRelayHost()) as { problem?: string; cause?: { name?: string } };
		expect(refused).toMatchObject({ problem: 'failed' });
		expect(refused.cause?.name).toBe('MembershipDeniedError');
		// Its adverts are no longer taken: the relay stops routing to it at the next renewal.
		await waitFor(async () => !(await relayHas('owner-model')), "the revoked owner's model leaving the relay");
		// Nor does the relay's archive sync with it any more: a new session is refused.
		const errors: string[] = [];
		const off = ownerMesh.on('error', ({ error }) => errors.push(error.name));
		await ownerNode.hangUp(relay.node.peerId);
		await ownerNode.dial(multiaddr(relay.info().multiaddrs[0]!));
		await waitFor(async () => errors.includes('MembershipDeniedError'), 'the relay to refuse the revoked owner a sync session');
		expect(ownerMesh.status(invite.workspaceId)?.livePeers ?? 0).toBe(0);
		off();
	}, 30_000);
});
