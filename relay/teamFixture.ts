/**
 * Test helpers for a relay in a team (not a test file): team peers as tests/mesh/teamPeers.ts
 * builds them (real libp2p nodes with the workspace core), an admin adding the relay to its
 * team and asking it to archive the workspace with the app's own client (relayApi.ts), and
 * signed requests made by hand so tests can tamper with them.
 */
import '../src/lib/mesh/polyfills.node.ts'; // before anything that loads libp2p
import { multiaddr } from '@multiformats/multiaddr';
import { signBytes } from '../src/lib/doc/signature.ts';
import type { Signer } from '../src/lib/mesh/relayHttp.ts';
import { archiveOnRelay, type ArchiveAnswer } from '../src/lib/mesh/relayApi.ts';
import { RELAY_CHALLENGE_PATH, SignedHeaders, signedRequestBytes } from '../src/lib/mesh/signedRequest.ts';
import { encodeSecret } from '../src/lib/mesh/secret.ts';
import { RELAY_INFO_PATH } from '../src/lib/mesh/relayHttp.ts';
import { stopTeamPeers, teamOfRoles, type TeamPeer, type TeamWorkspace } from '../tests/mesh/teamPeers.ts';
import { stopPeers } from '../tests/mesh/peers.ts';
import { ApiKeysClient } from '../src/lib/mesh/apiKeysClient.ts';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelAdverts, type ModelAdvertsInit } from '../src/lib/ai/adverts.ts';
import type { Engine, GenerateRequest } from '../src/lib/ai/engine.ts';
import { teamHostAccess } from '../src/lib/ai/hostAccess.ts';
import { llmHost, type LlmHost } from '../src/lib/ai/llmHost.ts';
import { runRelay, type RunningRelay, type RunRelayInit } from './run.ts';

/** The signer of a team peer's requests: its device key. */
export function signerOf(peer: Pick<TeamPeer, 'peerId' | 'key'>): Signer {
	return { peerId: peer.peerId, privateKey: peer.key };
}

/** Every team operation `peer` holds, encoded (what the app sends). */
export async function opsOf(peer: TeamPeer): Promise<Uint8Array[]> {
	await peer.authority.settled();
	return peer.authority.operations().map((op) => op.bytes);
}

/** `admin` adds the relay to its team (role relay), unless it is there already. */
export async function addRelay(admin: TeamPeer, relay: RunningRelay): Promise<void> {
	const relayId = relay.node.peerId.toString();
	if (!admin.authority.isMember(relayId)) await admin.authority.write({ t: 'add', member: relayId, role: 'relay', name: 'Relay' });
}

/** `admin` adds the relay to the team and asks it to archive `ws`, as the app does. */
export async function archiveAs(admin: TeamPeer, relay: RunningRelay, ws: TeamWorkspace, name = 'Deck crew'): Promise<ArchiveAnswer> {
	await addRelay(admin, relay);
	return archiveOnRelay(
		{ workspaceId: ws.id, secret: ws.secret, name, relays: [], ops: await opsOf(admin), signer: signerOf(admin) },
		relay.server.url
	);
}

/** The archive request body the app sends. */
export function archiveBody(ws: TeamWorkspace, ops: Uint8Array[], extra: Record<string, unknown> = {}): string {
	return JSON.stringify({
		workspaceId: ws.id,
		secret: encodeSecret(ws.secret),
		name: 'Deck crew',
		relays: [],
		ops: ops.map((op) => Buffer.from(op).toString('base64')),
		...extra
	});
}

/** A fresh challenge from the relay. */
export async function challenge(url: string): Promise<string> {
	const res = await fetch(`${url}${RELAY_CHALLENGE_PATH}`, { method: 'POST' });
	if (res.status !== 201) throw new Error(`challenge: HTTP ${res.status}`);
	return ((await res.json()) as { challenge: string }).challenge;
}

/** The peer id the relay at `url` gives in its self-description (what the app signs requests for). */
export async function relayIdAt(url: string): Promise<string> {
	const res = await fetch(`${url}${RELAY_INFO_PATH}`);
	if (!res.ok) throw new Error(`${RELAY_INFO_PATH}: HTTP ${res.status}`);
	return ((await res.json()) as { peerId: string }).peerId;
}

/**
 * A signed request made by hand; returns the answer and the headers sent (to replay them).
 * `tamper.relay` is the relay it is signed for (default: the one at `url`), `tamper.relayHeader`
 * the one its header names (default: the signed one).
 */
export async function signedFetch(
	url: string,
	who: Signer,
	method: string,
	path: string,
	body = '',
	tamper: { challenge?: string; signAs?: Signer; signedBody?: string; relay?: string; relayHeader?: string } = {}
): Promise<{ res: Response; headers: Record<string, string> }> {
	const ch = tamper.challenge ?? (await challenge(url));
	const relay = tamper.relay ?? (await relayIdAt(url));
	const sig = await signBytes(
		(tamper.signAs ?? who).privateKey,
		signedRequestBytes({ method, path, body: tamper.signedBody ?? body, challenge: ch, peer: who.peerId, relay })
	);
	const headers = {
		...(body ? { 'content-type': 'application/json' } : {}),
		[SignedHeaders.peer]: who.peerId,
		[SignedHeaders.challenge]: ch,
		[SignedHeaders.relay]: tamper.relayHeader ?? relay,
		[SignedHeaders.signature]: sig
	};
	return { res: await fetch(`${url}${path}`, { method, headers, ...(body ? { body } : {}) }), headers };
}

/** `peer` dials the relay's TCP address. */
export async function dialRelay(peer: Pick<TeamPeer, 'node'>, relay: RunningRelay): Promise<void> {
	const tcp = relay.node.getMultiaddrs().find((ma) => !ma.toString().includes('/ws'));
	if (tcp === undefined) throw new Error('the relay has no TCP address');
	// libp2p lets one host open five connections a second: a test dialling many peers in a row
	// is refused past that (ECONNRESET) and tries again, as the app does (mesh/dial.ts).
	for (let attempt = 1; ; attempt++) {
		try {
			await peer.node.dial(multiaddr(tcp.toString()), { signal: AbortSignal.timeout(5000) });
			return;
		} catch (error) {
			if (attempt >= 3) throw error;
			await new Promise((resolve) => setTimeout(resolve, 1100));
		}
	}
}

/** Waits until `check` holds. */
export async function waitUntil(check: () => Promise<boolean> | boolean, what: string, ms = 10_000): Promise<void> {
	const until = Date.now() + ms;
	while (!(await check())) {
		if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
		await new Promise((resolve) => setTimeout(resolve, 50));
	}
}

/** A relay of a test: see {@link startTestRelay}. */
export interface TestRelay {
	relay: RunningRelay;
	/** Its data folder. */
	dataDir: string;
	/** Closes the relay and removes its folders. */
	stop(): Promise<void>;
}

/**
 * A relay on 127.0.0.1 (a free port, no mDNS, quiet) over a fresh data folder, serving a
 * one-page app; `init` adds to or overrides that (models, MCP servers, advert timings).
 */
export async function startTestRelay(name: string, init: Partial<RunRelayInit> = {}): Promise<TestRelay> {
	const tmp = await mkdtemp(join(tmpdir(), `outpost-${name}-`));
	const root = join(tmp, 'build');
	await mkdir(root, { recursive: true });
	await writeFile(join(root, 'index.html'), '<!doctype html><title>home</title>');
	const dataDir = join(tmp, 'data');
	const relay = await runRelay({ root, dataDir, host: '127.0.0.1', port: 0, mdns: false, lanIps: [], log: () => {}, ...init });
	return {
		relay,
		dataDir,
		async stop() {
			await relay.close();
			await rm(tmp, { recursive: true, force: true });
		}
	};
}

/** A member's model engine for tests: it answers at once with an echo of the question, and counts its runs. */
export function echoEngine(id: string): Engine & { runs: number } {
	const engine = {
		kind: 'node-llama-cpp' as const,
		runs: 0,
		models: async () => [{ id, name: id, engine: 'node-llama-cpp' as const, contextLength: 512 }],
		async *generate(request: GenerateRequest) {
			engine.runs++;
			yield { type: 'text' as const, text: `echo ${request.messages.at(-1)?.content ?? ''}` };
			yield { type: 'done' as const, finishReason: 'stop' as const, promptTokens: 1, completionTokens: 2 };
		}
	};
	return engine;
}

/** `peer` shares `engine`'s models in workspace `ws` as the app does: a host deciding by its team, and adverts (stop both when done). */
export async function shareModels(
	peer: TeamPeer,
	ws: TeamWorkspace,
	engine: Engine,
	timings: Pick<ModelAdvertsInit, 'intervalMs' | 'ttlMs' | 'minRepublishMs'>
): Promise<{ host: LlmHost; adverts: ModelAdverts }> {
	const host = llmHost({ engines: [engine], ...teamHostAccess((id) => (id === ws.id ? peer.authority : undefined)), onError: () => {} })({
		node: peer.node,
		keys: (id) => peer.mesh.workspaceKeys(id)
	});
	await host.start();
	const keys = peer.mesh.workspaceKeys(ws.id);
	if (keys === undefined) throw new Error(`${peer.peerId} has not added workspace ${ws.id}`);
	const adverts = new ModelAdverts({ pubsub: peer.node.services.pubsub, keys, localPeerId: peer.node.peerId.toString(), source: host, ...timings });
	adverts.start();
	return { host, adverts };
}

/** A relay archiving a team of every role (owner, admin ann, member bob, guest gus), with an API key the owner made in the app. */
export interface V1Team {
	testRelay: TestRelay;
	ws: TeamWorkspace;
	owner: TeamPeer;
	bob: TeamPeer;
	gus: TeamPeer;
	/** The owner's `/v1` key of the workspace. */
	key: string;
	/** What `/v1/models` lists to that key: each model's id and the peer it runs on. */
	listed(): Promise<{ id: string; where: string }[]>;
	/** Stops the relay and every peer. */
	stop(): Promise<void>;
}

/** Starts a {@link V1Team}: its relay takes model adverts with `adverts`' timings; every peer dialled it. */
export async function startV1Team(name: string, adverts: Pick<ModelAdvertsInit, 'intervalMs' | 'ttlMs' | 'minRepublishMs'>): Promise<V1Team> {
	const testRelay = await startTestRelay(name, { adverts });
	const { ws, owner, bob, gus } = await teamOfRoles();
	const url = testRelay.relay.server.url;
	if (!(await archiveAs(owner, testRelay.relay, ws)).created) throw new Error('the relay did not archive the team');
	const key = (await new ApiKeysClient(signerOf(owner), url).create(ws.id, 'scripts')).key;
	for (const p of [owner, bob, gus]) await dialRelay(p, testRelay.relay);
	await waitUntil(() => testRelay.relay.archive.authority(ws.id)?.team.members.size === 5, 'the team on the relay');
	return {
		testRelay,
		ws,
		owner,
		bob,
		gus,
		key,
		listed: async () => {
			const res = await fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
			return ((await res.json()) as { data: { id: string; where: string }[] }).data;
		},
		stop: async () => {
			await testRelay.stop();
			await stopTeamPeers();
			await stopPeers();
		}
	};
}
