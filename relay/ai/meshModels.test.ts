/**
 * The relay as a model peer, in-process on 127.0.0.1: a relay running the tiny generated
 * model (`--model`, one thread) archives a workspace; a member peer sees the relay's model in
 * its adverts and gets an answer through a MeshEngine; another member hosting its own model
 * (llmHost + adverts) is reached through the relay's `/v1` API, streaming and not, and
 * leaves the relay's listing when it withdraws. A busy mesh host's retry delay becomes the
 * HTTP `Retry-After`.
 */
import '../../src/lib/mesh/polyfills.node.ts'; // before anything that loads libp2p
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelAdverts } from '../../src/lib/ai/adverts.ts';
import type { Engine, GenerateChunk } from '../../src/lib/ai/engine.ts';
import { llmHost, type LlmHost } from '../../src/lib/ai/llmHost.ts';
import { MeshEngine, RemoteEngineError } from '../../src/lib/ai/meshEngine.ts';
import { llamaGgufPath, tinyLlama } from '../../tests/fixtures/gguf.ts';
import { waitFor } from '../../tests/mesh/helpers.ts';
import { connect, stopPeers, type Peer } from '../../tests/mesh/peers.ts';
import { createTeamWorkspace, invite, newKey, startJoiner, stopTeamPeers, type TeamPeer, type TeamWorkspace } from '../../tests/mesh/teamPeers.ts';
import { runRelay, type RunningRelay } from '../run.ts';
import { addRelay } from '../teamFixture.ts';
import { ApiKeyStore } from './apiKeys.ts';
import { NodeLlamaEngine } from './nodeLlamaEngine.ts';

const RELAY_MODEL = tinyLlama.name;
const PEER_MODEL = 'tiny-peer';
const ADVERTS = { intervalMs: 400, ttlMs: 1500, minRepublishMs: 50 } as const;
let ws: TeamWorkspace;

let tmp: string;
let relay: RunningRelay;
let key: string;
/** A member that only asks. */
let asker: { peer: Peer; adverts: ModelAdverts };
/** A member hosting its own model. */
let gpu: { peer: Peer; engine: NodeLlamaEngine; host: LlmHost; adverts: ModelAdverts };

function keysOf(peer: Peer) {
	const keys = peer.mesh.workspaceKeys(ws.id);
	if (keys === undefined) throw new Error('workspace not added');
	return keys;
}

async function dialRelay(peer: Peer): Promise<void> {
	const tcp = relay.node.getMultiaddrs().find((ma) => !ma.toString().includes('/ws'));
	await peer.node.dial(tcp!, { signal: AbortSignal.timeout(5000) });
}

async function collect(chunks: AsyncIterable<GenerateChunk>): Promise<{ text: string; done: Extract<GenerateChunk, { type: 'done' }>[] }> {
	let text = '';
	const done: Extract<GenerateChunk, { type: 'done' }>[] = [];
	for await (const chunk of chunks) {
		if (chunk.type === 'text') text += chunk.text;
		else if (chunk.type === 'done') done.push(chunk);
	}
	return { text, done };
}


/** `admin` adds `target` to its team and has it archive the workspace (the HTTP API's check and path, in-process). */
async function archiveOn(target: RunningRelay, admin: TeamPeer, workspace: TeamWorkspace): Promise<void> {
	await addRelay(admin, target);
	await admin.authority.settled();
	await target.archive.request({ id: workspace.id, secret: workspace.secret, ops: admin.authority.operations(), signer: admin.peerId });
}

/** A relay on 127.0.0.1 hosting the tiny model on one thread, its data in `dataDir`. */
function relayInit(dataDir: string) {
	return {
		root: join(tmp, 'build'),
		dataDir,
		host: '127.0.0.1',
		port: 0,
		mdns: false,
		lanIps: [],
		log: () => {},
		models: [llamaGgufPath()],
		modelThreads: 1,
		modelGpu: false as const,
		adverts: ADVERTS
	};
}
beforeAll(async () => {
	tmp = await mkdtemp(join(tmpdir(), 'outpost-mesh-models-'));
	const root = join(tmp, 'build');
	await mkdir(root, { recursive: true });
	await writeFile(join(root, 'index.html'), '<!doctype html><title>home</title>');
	relay = await runRelay(relayInit(join(tmp, 'relay')));
	({ key } = await new ApiKeyStore(join(tmp, 'relay')).create('test'));

	// The asker owns the workspace; the gpu member joins by invitation; both are members on the relay.
	const { ws: made, owner: askerPeer } = await createTeamWorkspace((await newKey()).key);
	ws = made;
	const gpuPeer = await startJoiner(ws, (await newKey()).key, 'gpu', await invite(askerPeer, 'member'));
	await connect(gpuPeer, askerPeer);
	await waitFor(() => askerPeer.authority.isMember(gpuPeer.peerId), 'the gpu member admitted');
	await archiveOn(relay, askerPeer, ws);
	const askerAdverts = new ModelAdverts({
		pubsub: askerPeer.node.services.pubsub,
		keys: keysOf(askerPeer),
		localPeerId: askerPeer.node.peerId.toString(),
		...ADVERTS
	});
	askerAdverts.start();
	asker = { peer: askerPeer, adverts: askerAdverts };
	await dialRelay(askerPeer);

	const engine = new NodeLlamaEngine({ modelPath: llamaGgufPath({ name: PEER_MODEL }), gpu: false, threads: 1 });
	const host = llmHost({ engines: [engine] })({ node: gpuPeer.node, keys: (id) => gpuPeer.mesh.workspaceKeys(id) });
	await host.start();
	const adverts = new ModelAdverts({
		pubsub: gpuPeer.node.services.pubsub,
		keys: keysOf(gpuPeer),
		localPeerId: gpuPeer.node.peerId.toString(),
		source: host,
		...ADVERTS
	});
	adverts.start();
	gpu = { peer: gpuPeer, engine, host, adverts };
	await dialRelay(gpuPeer);
}, 60_000);

afterAll(async () => {
	await asker?.adverts.stop();
	await gpu?.adverts.stop();
	await gpu?.host.stop();
	await gpu?.engine.dispose();
	await relay?.close();
	await stopTeamPeers();
	await stopPeers();
	await rm(tmp, { recursive: true, force: true });
}, 30_000);

const auth = (): Record<string, string> => ({ authorization: `Bearer ${key}`, 'content-type': 'application/json' });
const chatBody = (model: string, stream: boolean) =>
	JSON.stringify({ model, messages: [{ role: 'user', content: 'Say something.' }], max_tokens: 8, temperature: 0, stream });

describe('the relay hosting its --model on the mesh', () => {
	it('advertises it to the members of an archived workspace', async () => {
		const relayId = relay.node.peerId.toString();
		await waitFor(() => asker.adverts.models().some((m) => m.peer === relayId && m.id === RELAY_MODEL), 'the relay advert', 20_000);
		expect(asker.adverts.models().find((m) => m.peer === relayId)).toMatchObject({
			id: RELAY_MODEL,
			engine: 'node-llama-cpp',
			contextLength: tinyLlama.contextLength,
			local: false
		});
	}, 25_000);

	it('answers a member through a MeshEngine', async () => {
		const engine = new MeshEngine({ node: asker.peer.node, host: relay.node.peerId, keys: keysOf(asker.peer), catalog: asker.adverts });
		expect((await engine.models()).map((m) => m.id)).toContain(RELAY_MODEL);
		const answer = await collect(engine.generate({ model: RELAY_MODEL, messages: [{ role: 'user', content: 'Hi.' }], maxTokens: 8, temperature: 0 }));
		expect(answer.done).toHaveLength(1);
		expect(answer.done[0]?.completionTokens).toBe(8);
		expect(answer.text.length).toBeGreaterThan(0);
	}, 20_000);

	it('does not list its own model twice in /v1/models', async () => {
		const response = await fetch(`${relay.server.url}/v1/models`, { headers: auth() });
		const body = (await response.json()) as { data: { id: string; where: string }[] };
		expect(body.data.filter((m) => m.id === RELAY_MODEL)).toEqual([expect.objectContaining({ where: 'relay' })]);
	});
});

describe("a member's model through the relay's /v1 API", () => {
	it('is listed with the peer it runs on', async () => {
		const gpuId = gpu.peer.node.peerId.toString();
		let listed: { id: string; where: string; engine: string }[] = [];
		await (async () => {
			const until = Date.now() + 20_000;
			while (Date.now() < until) {
				const response = await fetch(`${relay.server.url}/v1/models`, { headers: auth() });
				listed = ((await response.json()) as { data: typeof listed }).data;
				if (listed.some((m) => m.id === PEER_MODEL)) return;
				await new Promise((resolve) => setTimeout(resolve, 200));
			}
		})();
		expect(listed.find((m) => m.id === PEER_MODEL)).toMatchObject({ where: gpuId, engine: 'mesh' });
	}, 25_000);

	it('answers a non-streaming chat completion from that peer', async () => {
		const before = gpu.host.running + gpu.host.queueDepth;
		expect(before).toBe(0);
		let served = 0;
		const off = gpu.host.on('change', () => (served = Math.max(served, gpu.host.running)));
		const response = await fetch(`${relay.server.url}/v1/chat/completions`, { method: 'POST', headers: auth(), body: chatBody(PEER_MODEL, false) });
		off();
		expect(response.status).toBe(200);
		const body = (await response.json()) as { model: string; choices: { message: { content: string } }[]; usage: { completion_tokens: number } };
		expect(body.model).toBe(PEER_MODEL);
		expect(body.usage.completion_tokens).toBe(8);
		expect(body.choices[0]?.message.content.length).toBeGreaterThan(0);
		// The peer's host ran it (not the relay's own engine: it has no such model).
		expect(served).toBe(1);
		// The same answer as the peer's engine gives directly.
		const direct = await collect(gpu.engine.generate({ model: PEER_MODEL, messages: [{ role: 'user', content: 'Say something.' }], maxTokens: 8, temperature: 0 }));
		expect(body.choices[0]?.message.content).toBe(direct.text);
	}, 20_000);

	it('streams a chat completion from that peer as server-sent events', async () => {
		const response = await fetch(`${relay.server.url}/v1/chat/completions`, { method: 'POST', headers: auth(), body: chatBody(PEER_MODEL, true) });
		expect(response.status).toBe(200);
		expect(response.headers.get('content-type')).toMatch(/text\/event-stream/);
		const events = (await response.text())
			.split('\n\n')
			.map((e) => e.replace(/^data: /, '').trim())
			.filter((e) => e !== '');
		expect(events.at(-1)).toBe('[DONE]');
		const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as { model: string; choices: { delta: { content?: string } }[] });
		expect(chunks.every((c) => c.model === PEER_MODEL)).toBe(true);
		expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('').length).toBeGreaterThan(0);
	}, 20_000);

	it("maps a busy mesh host's retry delay to Retry-After", async () => {
		const busy: Engine = {
			kind: 'mesh',
			models: async () => [{ id: 'busy-peer', name: 'busy-peer', engine: 'mesh', contextLength: 64 }],
			// eslint-disable-next-line require-yield -- refuses before its first chunk
			async *generate() {
				throw new RemoteEngineError('busy', 'The model host is busy: 3 requests ahead of you.', 7200);
			}
		};
		relay.registry.add(busy, 'somewhere');
		try {
			const response = await fetch(`${relay.server.url}/v1/chat/completions`, { method: 'POST', headers: auth(), body: chatBody('busy-peer', false) });
			expect(response.status).toBe(429);
			expect(response.headers.get('retry-after')).toBe('8');
			await response.body?.cancel();
		} finally {
			relay.registry.remove(busy);
		}
	});

	it('leaves the listing when the peer withdraws its advert', async () => {
		await gpu.adverts.stop();
		await waitFor(
			() => !relay.registry.engines.some((e) => e.kind === 'mesh'),
			'the relay to drop the peer engine',
			5000
		);
		const response = await fetch(`${relay.server.url}/v1/models`, { headers: auth() });
		const body = (await response.json()) as { data: { id: string }[] };
		expect(body.data.map((m) => m.id)).not.toContain(PEER_MODEL);
		const chat = await fetch(`${relay.server.url}/v1/chat/completions`, { method: 'POST', headers: auth(), body: chatBody(PEER_MODEL, false) });
		expect(chat.status).toBe(404);
		await chat.body?.cancel();
	}, 10_000);
});

describe('a relay restarted with an archived workspace', () => {
	it('advertises its model there from the start', async () => {
		const init = relayInit(join(tmp, 'restarted'));
		const first = await runRelay(init);
		const { ws: other, owner: member } = await createTeamWorkspace((await newKey()).key);
		await archiveOn(first, member, other);
		await first.close();
		const again = await runRelay(init);
		try {
			expect(again.archive.has(other.id)).toBe(true);
			const adverts = new ModelAdverts({
				pubsub: member.node.services.pubsub,
				keys: member.mesh.workspaceKeys(other.id)!,
				localPeerId: member.node.peerId.toString(),
				...ADVERTS
			});
			adverts.start();
			try {
				const tcp = again.node.getMultiaddrs().find((ma) => !ma.toString().includes('/ws'));
				await member.node.dial(tcp!, { signal: AbortSignal.timeout(5000) });
				const againId = again.node.peerId.toString();
				await waitFor(() => adverts.models().some((m) => m.peer === againId && m.id === RELAY_MODEL), 'the restarted relay advert', 20_000);
			} finally {
				await adverts.stop();
			}
		} finally {
			await again.close();
		}
	}, 40_000);
});
