/**
 * Models on the mesh with real libp2p nodes in one process: a host peer serves the tiny
 * generated model (node-llama-cpp, one thread) over `/outpost/llm/1.0.0` to members; they
 * find it through model adverts and use it through a MeshEngine. Two requesters at once
 * (queue positions), the shared engine suite over the mesh, the per-member rate limit,
 * cancellation reaching the host's engine, a non-member refused, the host going away
 * mid-answer, and adverts expiring when their peer leaves. Answers the host writes itself
 * (REQUEST with a target): into an AI-thread message and as a signed model message in a
 * channel, finished when the asker leaves, stopped by CANCEL, refused when impossible.
 */
import '../../src/lib/mesh/polyfills.node.js'; // before anything that loads libp2p
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelAdverts } from '../../src/lib/ai/adverts.js';
import type { Engine, GenerateChunk, GenerateRequest } from '../../src/lib/ai/engine.js';
import { llmHost, type LlmHost } from '../../src/lib/ai/llmHost.js';
import { MeshEngine, type RemoteEngineError } from '../../src/lib/ai/meshEngine.js';
import { collect, describeEngine } from '../ai/engineSuite.js';
import * as Y from 'yjs';
import { runAnswer } from '../../src/lib/ai/chatRunner.js';
import { AiRole, AiThreadDoc } from '../../src/lib/doc/AiThreadDoc.js';
import { AiRecordKind, AiStatus } from '../../src/lib/doc/schema.js';
import { llamaGgufPath, tinyLlama } from '../fixtures/gguf.js';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { ChannelDoc } from '../../src/lib/doc/ChannelDoc.js';
import { ChannelView } from '../../src/lib/doc/ChannelView.js';
import { HybridClock } from '../../src/lib/doc/hlc.js';
import { newId } from '../../src/lib/doc/ids.js';
import { signAiRecord, signMessage, verifyEdit, verifyMessage } from '../../src/lib/doc/signature.js';
import { channelQuestions, provenAsker } from '../../src/lib/doc/channelRights.js';
import type { PrivateKey } from '@libp2p/interface';
import { waitFor } from './helpers.js';
import { connect, newWorkspace, startPeer, stopPeers, type Peer, type TestWorkspace } from './peers.js';

/** The relay's node-llama-cpp engine, as these tests use it. */
interface NodeLlamaEngine extends Engine {
	readonly queueDepth: number;
	dispose(): Promise<void>;
}

/**
 * relay/ai/nodeLlamaEngine.ts, imported at run time: relay/ is Node code with `.ts` import
 * paths, which the app's type check (svelte-check, which covers tests/) does not accept.
 */
async function nodeLlamaEngine(): Promise<NodeLlamaEngine> {
	const file = fileURLToPath(new URL('../../relay/ai/nodeLlamaEngine.ts', import.meta.url));
	const { NodeLlamaEngine } = (await import(/* @vite-ignore */ file)) as {
		NodeLlamaEngine: new (init: { modelPath: string; threads: number; gpu: false }) => NodeLlamaEngine;
	};
	return new NodeLlamaEngine({ modelPath: llamaGgufPath(), threads: 1, gpu: false });
}

const MODEL = tinyLlama.name;
/** Short advert timings, far below the 15 s / 45 s defaults. */
const ADVERTS = { intervalMs: 400, ttlMs: 1500, minRepublishMs: 50 } as const;

interface Host {
	peer: Peer;
	engine: NodeLlamaEngine;
	host: LlmHost;
	adverts: ModelAdverts;
	errors: Error[];
	/** The peer id the host signs channel messages with. */
	signerId: string;
}

interface Asker {
	peer: Peer;
	adverts: ModelAdverts;
	/** The asker's node key (it signs the asker's questions). */
	key: PrivateKey;
}

const cleanups: Array<() => Promise<void>> = [];

afterAll(async () => {
	for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
	await stopPeers();
}, 20_000);

function keysOf(peer: Peer, ws: TestWorkspace) {
	const keys = peer.mesh.workspaceKeys(ws.id);
	if (keys === undefined) throw new Error('workspace not added');
	return keys;
}

/** An engine that waits `ms` before passing on each chunk of `inner` (a slow GPU). */
function paced(inner: Engine, ms: number): Engine {
	return {
		kind: inner.kind,
		models: () => inner.models(),
		async *generate(request, signal) {
			for await (const chunk of inner.generate(request, signal)) {
				await new Promise((resolve) => setTimeout(resolve, ms));
				yield chunk;
			}
		}
	};
}

async function startHost(ws: TestWorkspace, wrap: (engine: NodeLlamaEngine) => Engine = (e) => e): Promise<Host> {
	const peer = await startPeer(ws, { name: 'host' });
	const engine = await nodeLlamaEngine();
	const errors: Error[] = [];
	const key = await generateKeyPair('Ed25519');
	const signerId = peerIdFromPrivateKey(key).toString();
	const host = llmHost({ engines: [wrap(engine)], maxQueue: 8, perPeer: 2, targetTimeoutMs: 1500, onError: (error) => errors.push(error) })({
		node: peer.node,
		keys: (id) => peer.mesh.workspaceKeys(id),
		documents: (id) => peer.mesh.workspaceDocs(id),
		signer: { peerId: signerId, key, clock: new HybridClock(signerId) }
	});
	await host.start();
	const adverts = new ModelAdverts({
		pubsub: peer.node.services.pubsub,
		keys: keysOf(peer, ws),
		localPeerId: peer.node.peerId.toString(),
		source: host,
		...ADVERTS
	});
	adverts.start();
	cleanups.push(async () => {
		await adverts.stop();
		await host.stop();
		await engine.dispose();
	});
	return { peer, engine, host, adverts, errors, signerId };
}

async function startAsker(ws: TestWorkspace, host: Host, name: string): Promise<Asker> {
	const key = await generateKeyPair('Ed25519');
	const peer = await startPeer(ws, { name, privateKey: key });
	const adverts = new ModelAdverts({
		pubsub: peer.node.services.pubsub,
		keys: keysOf(peer, ws),
		localPeerId: peer.node.peerId.toString(),
		...ADVERTS
	});
	adverts.start();
	cleanups.push(() => adverts.stop());
	await connect(peer, host.peer);
	return { peer, adverts, key };
}

function meshEngine(asker: Asker, host: Host, keysFrom: Peer = asker.peer, ws?: TestWorkspace): MeshEngine {
	return new MeshEngine({
		node: asker.peer.node,
		host: host.peer.node.peerId,
		keys: keysOf(keysFrom, ws ?? shared.ws),
		catalog: asker.adverts
	});
}

const ask = (content: string, maxTokens = 16): GenerateRequest => ({
	model: MODEL,
	messages: [{ role: 'user', content }],
	maxTokens,
	temperature: 0
});

/** One host and two members, shared by the tests below and the engine suite. */
const shared = { ws: newWorkspace() } as { ws: TestWorkspace; host: Host; a: Asker; b: Asker };
let ready: Promise<void> | undefined;
function setup(): Promise<void> {
	ready ??= (async () => {
		shared.host = await startHost(shared.ws);
		shared.a = await startAsker(shared.ws, shared.host, 'a');
		shared.b = await startAsker(shared.ws, shared.host, 'b');
		const hostId = shared.host.peer.node.peerId.toString();
		await waitFor(
			() => [shared.a, shared.b].every((x) => x.adverts.models().some((m) => m.peer === hostId && m.id === MODEL)),
			'both members to see the host model advert',
			5000
		);
	})();
	return ready;
}

describe('a model hosted on the mesh', () => {
	it('is advertised to members with its engine, context and the peer it runs on', async () => {
		await setup();
		const { a, host } = shared;
		const hostId = host.peer.node.peerId.toString();
		const model = a.adverts.models().find((m) => m.peer === hostId);
		expect(model).toMatchObject({ id: MODEL, engine: 'node-llama-cpp', contextLength: 256, queueDepth: 0, freeSlots: 8, local: false });
		// The host lists its own model too, as local.
		expect(host.adverts.models()).toEqual([expect.objectContaining({ id: MODEL, peer: hostId, local: true })]);
		expect(await meshEngine(a, host).models()).toEqual([
			expect.objectContaining({ id: MODEL, engine: 'mesh', contextLength: 256 })
		]);
	});

	it('serves two members at once: both get complete answers, the later one is told its place', async () => {
		await setup();
		const { a, b, host } = shared;
		const queued: Record<string, number[]> = { a: [], b: [] };
		const run = (asker: Asker, name: 'a' | 'b') =>
			collect(meshEngine(asker, host).generate(ask(`Tell ${name} a story.`, 200), undefined, { onQueued: (p) => queued[name]!.push(p) }));
		// b asks the moment a's generation has started on the host.
		let second: ReturnType<typeof run> | undefined;
		const off = host.host.on('change', () => {
			if (host.host.running === 1 && second === undefined) second = run(b, 'b');
		});
		const first = run(a, 'a');
		const resultA = await first;
		off();
		const resultB = await second!;
		for (const result of [resultA, resultB]) {
			expect(result.done).toHaveLength(1);
			expect(result.done[0]?.completionTokens).toBe(200);
			expect(result.text.length).toBeGreaterThan(0);
		}
		expect(queued.a).toEqual([]);
		expect(queued.b).toEqual([1]);
		// The same prompt through the host gives what the engine gives directly.
		const direct = await collect(host.engine.generate(ask('Tell a a story.', 200)));
		expect(resultA.text).toBe(direct.text);
		expect(host.host.queueDepth).toBe(0);
		// The host measured its speed and advertises it.
		await waitFor(() => (a.adverts.models()[0]?.tokensPerSecond ?? 0) > 0, 'a measured speed in the advert', 3000);
	});

	it('writes "N ahead of you" into a chat answer that waits at a busy host, then the answer', async () => {
		await setup();
		const { a, b, host } = shared;
		const thread = new AiThreadDoc(new Y.Doc());
		thread.append({ id: 'q', role: AiRole.user, hlc: '1', author: 'b', text: 'Wait your turn.' });
		const seen: Array<{ status: string; position?: number }> = [];
		thread.messages.observeDeep(() => {
			const answer = thread.list()[1];
			if (answer) seen.push({ status: answer.status, ...(answer.queuePosition !== undefined ? { position: answer.queuePosition } : {}) });
		});
		let second: Promise<unknown> | undefined;
		const off = host.host.on('change', () => {
			if (host.host.running === 1 && second === undefined) {
				second = runAnswer({ thread, engine: meshEngine(b, host), model: MODEL, askedBy: 'b', servedBy: host.peer.node.peerId.toString(), id: 'r', hlc: '2', maxTokens: 8, temperature: 0 });
			}
		});
		await collect(meshEngine(a, host).generate(ask('Go first.', 200)));
		off();
		await second;
		expect(seen).toContainEqual({ status: AiStatus.queued, position: 1 });
		const answer = thread.list()[1]!;
		expect(answer.status).toBe(AiStatus.done);
		expect(answer.queuePosition).toBeUndefined();
		expect(answer.text.length).toBeGreaterThan(0);
	});

	it('limits each member to its share: a third request gets busy with a retry delay', async () => {
		// A slow host of its own (20 ms a token), so both of a's requests are surely still there
		// when the third one comes, however busy the machine is.
		const ws = newWorkspace();
		const host = await startHost(ws, (engine) => paced(engine, 20));
		const a = await startAsker(ws, host, 'a-share');
		const b = await startAsker(ws, host, 'b-share');
		const controller = new AbortController();
		const engine = meshEngine(a, host, a.peer, ws);
		const consume = (chunks: AsyncIterable<GenerateChunk>) => collect(chunks).catch((error: unknown) => error);
		const positions: number[] = [];
		const first = consume(engine.generate(ask('One.', 100), controller.signal));
		// The second once the first runs: otherwise either may be admitted first.
		await waitFor(() => host.host.running === 1, 'the first request running', 5000);
		const second = consume(engine.generate(ask('Two.', 100), controller.signal, { onQueued: (p) => positions.push(p) }));
		await waitFor(() => host.host.queueDepth === 2, 'both requests admitted', 5000);
		const third = await consume(engine.generate(ask('Three.', 4)));
		expect(third).toMatchObject({ name: 'EngineError', problem: 'busy' });
		expect((third as RemoteEngineError).retryAfterMs).toBeGreaterThan(0);
		expect((third as Error).message).toMatch(/busy/);
		// Another member still gets in while a's share is full.
		const other = await collect(meshEngine(b, host, b.peer, ws).generate(ask('Other.', 4)));
		expect(other.done).toHaveLength(1);
		expect(positions[0]).toBe(1);
		controller.abort();
		await Promise.all([first, second]);
		await waitFor(() => host.host.queueDepth === 0, 'the host queue to empty', 2000);
	});

	it('stops generating on the host at once when the asker aborts mid-stream', async () => {
		await setup();
		const { a, host } = shared;
		const controller = new AbortController();
		let chunks = 0;
		let abortedAt = 0;
		const run = (async () => {
			for await (const chunk of meshEngine(a, host).generate(ask('Go on and on.', 230), controller.signal)) {
				if (chunk.type === 'text' && ++chunks === 2) {
					abortedAt = performance.now();
					controller.abort();
				}
			}
		})();
		await expect(run).rejects.toMatchObject({ name: 'AbortError' });
		await waitFor(() => host.engine.queueDepth === 0 && host.host.queueDepth === 0, 'the host engine to be free', 1000);
		const freedAfter = performance.now() - abortedAt;
		expect(freedAfter).toBeLessThan(500);
		// It is free: the next request runs at once.
		const next = await collect(meshEngine(a, host).generate(ask('Next.', 4)));
		expect(next.done[0]?.completionTokens).toBe(4);
	});

	it('refuses a peer that is not a member (wrong secret), and generates nothing for it', async () => {
		await setup();
		const { host, ws } = shared;
		const eveWs = { id: ws.id, secret: newWorkspace().secret };
		const eve = await startAsker(eveWs, host, 'eve');
		const before = host.errors.length;
		const error = await collect(meshEngine(eve, host, eve.peer, eveWs).generate(ask('Let me in.', 8))).catch((e: unknown) => e);
		expect(error).toMatchObject({ name: 'EngineError', problem: 'failed' });
		expect((error as Error).cause).toMatchObject({ name: 'MembershipDeniedError' });
		expect(host.engine.queueDepth).toBe(0);
		await waitFor(() => host.errors.slice(before).some((e) => e.name === 'MembershipDeniedError'), 'the host to report the denial', 2000);
		// Nor does eve see the host's advert.
		expect(eve.adverts.models()).toEqual([]);
	});
});

describeEngine('mesh', async () => {
	await setup();
	return { engine: meshEngine(shared.a, shared.host), model: MODEL, close: async () => {} };
});

describe('a host that goes away', () => {
	it('interrupts the answer with a clear error after the chunks that arrived, and its advert expires', async () => {
		const ws = newWorkspace();
		const host = await startHost(ws, (engine) => paced(engine, 15));
		const asker = await startAsker(ws, host, 'asker');
		const hostId = host.peer.node.peerId.toString();
		await waitFor(() => asker.adverts.models().some((m) => m.peer === hostId), 'the advert', 5000);

		const texts: string[] = [];
		const run = (async () => {
			for await (const chunk of meshEngine(asker, host, asker.peer, ws).generate(ask('Keep talking.', 200))) {
				if (chunk.type !== 'text') continue;
				texts.push(chunk.text);
				if (texts.length === 3) void host.peer.node.stop(); // the host leaves without a word
			}
		})();
		const error = await run.catch((e: unknown) => e);
		expect(error).toMatchObject({ name: 'EngineError', problem: 'failed', interrupted: true });
		expect((error as Error).message).toMatch(/interrupted/);
		expect(texts.length).toBeGreaterThanOrEqual(3);
		expect(texts.length).toBeLessThan(200);

		// No withdrawal came (the node just stopped): the advert expires when not renewed.
		const left = performance.now();
		await waitFor(() => !asker.adverts.models().some((m) => m.peer === hostId), 'the advert to expire', ADVERTS.ttlMs + 2000);
		expect(performance.now() - left).toBeGreaterThan(ADVERTS.ttlMs - ADVERTS.intervalMs - 200);
		await host.peer.mesh.stop().catch(() => {}); // its node is gone already
	});
});

describe('answers the host writes into the target document', () => {
	/** An AI chat in the workspace with one question, on `asker`'s side. */
	function chatWithQuestion(asker: Asker, question: string): { id: string; thread: AiThreadDoc } {
		const id = newId();
		const thread = new AiThreadDoc(asker.peer.docs.get(id));
		thread.append({ id: newId(), role: AiRole.user, hlc: '1', author: asker.peer.node.peerId.toString(), text: question });
		return { id, thread };
	}

	const hostThread = (host: Host, id: string) => new AiThreadDoc(host.peer.docs.get(id));

	it('writes an AI-chat answer with its usage trace into the document; the asker sees the same text', async () => {
		await setup();
		const { a, host } = shared;
		const { id, thread } = chatWithQuestion(a, 'Write it yourself.');
		const result = await runAnswer({
			thread,
			docId: id,
			engine: meshEngine(a, host),
			model: MODEL,
			askedBy: a.peer.node.peerId.toString(),
			servedBy: host.peer.node.peerId.toString(),
			id: 'answer',
			hlc: '2',
			maxTokens: 12,
			temperature: 0
		});
		expect(result.status).toBe(AiStatus.done);
		const onHost = () => hostThread(host, id).list()[1];
		await waitFor(() => onHost()?.status === AiStatus.done, 'the host to record the end', 3000);
		const written = onHost()!;
		expect(written.stats).toMatchObject({ tokensOut: 12 });
		expect(written.stats!.tokensIn).toBeGreaterThan(0);
		expect(written.text).toBe(result.text);
		expect(written.text.length).toBeGreaterThan(0);
		await waitFor(() => thread.list()[1]?.status === AiStatus.done && thread.list()[1]?.text === written.text, 'the asker to see it', 3000);
		expect(thread.list()[1]!.stats).toEqual(written.stats);
	});

	it('names the signed question it answers, so the answer shows as asked by its asker', async () => {
		await setup();
		const { a, host } = shared;
		const id = newId();
		const thread = new AiThreadDoc(a.peer.docs.get(id));
		const me = a.peer.node.peerId.toString();
		// The asker signs its question naming the model and the host's signing key (schema.ts AskTarget).
		const question = await signAiRecord(a.key, { kind: AiRecordKind.user, id: newId(), author: me, hlc: '1', text: 'Who asked?', ask: { model: MODEL, host: host.signerId } }, id);
		thread.addRecord(question);
		const result = await runAnswer({
			thread,
			docId: id,
			engine: meshEngine(a, host),
			model: MODEL,
			askedBy: me,
			question: question.id,
			servedBy: host.signerId,
			id: 'answer',
			hlc: '2',
			maxTokens: 6,
			temperature: 0
		});
		expect(result.status).toBe(AiStatus.done);
		await waitFor(() => thread.answerRecord('answer') !== undefined, 'the host’s signed answer', 3000);
		expect(thread.answerRecord('answer')).toMatchObject({ author: host.signerId, askedBy: me, question: question.id });
		expect(thread.list()[1]).toMatchObject({ askedBy: me, text: result.text });
	});

	it('finishes the answer when the asker leaves mid-answer; another member gets all of it', async () => {
		const ws = newWorkspace();
		const host = await startHost(ws, (engine) => paced(engine, 10));
		const asker = await startAsker(ws, host, 'leaver');
		const other = await startAsker(ws, host, 'other');
		const { id, thread } = chatWithQuestion(asker, 'Keep going without me.');
		let leaving = false;
		const left = new Promise<void>((resolve) => {
			thread.messages.observeDeep(() => {
				if (!leaving && (thread.list()[1]?.text.length ?? 0) > 0) {
					leaving = true;
					void Promise.resolve(asker.peer.node.stop()).then(resolve); // the tab is closed: no CANCEL, the connection drops
				}
			});
		});
		const asked = runAnswer({
			thread,
			docId: id,
			engine: meshEngine(asker, host, asker.peer, ws),
			model: MODEL,
			askedBy: asker.peer.node.peerId.toString(),
			servedBy: host.peer.node.peerId.toString(),
			id: 'answer',
			hlc: '2',
			maxTokens: 40,
			temperature: 0
		});
		await left;
		await asked; // the asker's side ends however it ends; the host goes on
		const seen = () => new AiThreadDoc(other.peer.docs.get(id)).list()[1];
		await waitFor(() => seen()?.status === AiStatus.done, 'the other member to see the finished answer', 8000);
		expect(seen()!.stats?.tokensOut).toBe(40);
		const direct = await collect(host.engine.generate({ ...ask('Keep going without me.', 40), messages: [{ role: 'user', content: 'Keep going without me.' }] }));
		expect(seen()!.text).toBe(direct.text);
		await asker.peer.mesh.stop().catch(() => {});
	});

	it('stops on CANCEL: the answer is recorded as cancelled and the host is free at once', async () => {
		await setup();
		const { a, host } = shared;
		const { id, thread } = chatWithQuestion(a, 'Stop me.');
		const stop = new AbortController();
		thread.messages.observeDeep(() => {
			if ((thread.list()[1]?.text.length ?? 0) > 0) stop.abort();
		});
		const result = await runAnswer({
			thread,
			docId: id,
			engine: meshEngine(a, host),
			model: MODEL,
			askedBy: a.peer.node.peerId.toString(),
			servedBy: host.peer.node.peerId.toString(),
			id: 'answer',
			hlc: '2',
			maxTokens: 230,
			temperature: 0,
			signal: stop.signal
		});
		expect(result.status).toBe(AiStatus.cancelled);
		await waitFor(() => hostThread(host, id).list()[1]?.status === AiStatus.cancelled, 'the host to record the cancellation', 3000);
		await waitFor(() => host.host.queueDepth === 0 && host.engine.queueDepth === 0, 'the host to be free', 2000);
		expect(hostThread(host, id).list()[1]!.stats).toBeUndefined();
	});

	it('posts a signed model message into a channel, streams it there and ends it with a signed edit', async () => {
		await setup();
		const { a, b, host } = shared;
		const channelId = newId();
		// The asker signs its question, naming the model and the host's signing key (schema.ts AskTarget).
		const me = a.peer.node.peerId.toString();
		const clock = new HybridClock(me);
		const asks = { model: MODEL, host: host.signerId };
		const question = await signMessage(a.key, { id: newId(), author: me, hlc: clock.tick(), text: `@${MODEL} Say something.`, ask: asks }, channelId);
		const channel = new ChannelDoc(a.peer.docs.get(channelId));
		channel.post(question);
		const answerId = newId();
		const target = { kind: 'channel' as const, docId: channelId, entryId: answerId, after: question.hlc };
		const streamed = await collect(meshEngine(a, host).generate(ask('Say something.', 10), undefined, { target }));
		expect(streamed.done).toHaveLength(1);
		// b, a third member, watches the channel.
		const watched = new ChannelView(new ChannelDoc(b.peer.docs.get(channelId)));
		await waitFor(() => watched.answer(watched.byId.get(answerId) ?? question)?.status === AiStatus.done && watched.edits(answerId).length === 1, 'b to see the finished answer', 3000);
		const record = watched.byId.get(answerId)!;
		expect(record).toMatchObject({ model: MODEL, text: '' });
		// Signed by the host as written in this channel (the id it names), and nowhere else.
		expect(await verifyMessage(record, channelId)).toBe(true);
		expect(await verifyMessage(record, newId())).toBe(false);
		expect(await verifyMessage({ ...record, model: 'another-model' }, channelId)).toBe(false);
		expect(record.hlc > question.hlc).toBe(true);
		expect(watched.top.map((m) => m.id)).toEqual([question.id, answerId]);
		const [final] = watched.edits(answerId);
		expect(await verifyEdit(final!)).toBe(true);
		expect(watched.text(record)).toBe(streamed.text);
		expect(record.askedBy).toBe(a.peer.node.peerId.toString()); // signed by the host with the message
		expect(record.question).toBe(question.id); // and the question it answers
		expect(provenAsker(record, channelQuestions(watched.byId, channelId))).toBe(me);
		expect(await verifyMessage({ ...record, askedBy: host.peer.node.peerId.toString() })).toBe(false);
		expect(watched.answer(record)).toMatchObject({ stats: { tokensOut: 10 } });
	});

	it('refuses a target it cannot write, before generating anything', async () => {
		await setup();
		const { a, host } = shared;
		const missing = { kind: 'ai-thread' as const, docId: newId(), entryId: 'nowhere' };
		const error = await collect(meshEngine(a, host).generate(ask('Into the void.', 4), undefined, { target: missing })).catch((e: unknown) => e);
		expect(error).toMatchObject({ name: 'EngineError', problem: 'failed' });
		expect((error as Error).message).toMatch(/has not received this conversation/);
		expect(host.host.queueDepth).toBe(0);

		const ws = newWorkspace();
		const peer = await startPeer(ws, { name: 'no-docs' });
		const bare = llmHost({ engines: [host.engine] })({ node: peer.node, keys: (id) => peer.mesh.workspaceKeys(id) });
		await bare.start();
		const asker = await startPeer(ws, { name: 'asks-bare' });
		await connect(asker, peer);
		const engine = new MeshEngine({ node: asker.node, host: peer.node.peerId, keys: keysOf(asker, ws) });
		const refused = await collect(engine.generate(ask('Hi.', 4), undefined, { target: { kind: 'ai-thread', docId: newId(), entryId: 'x' } })).catch((e: unknown) => e);
		expect((refused as Error).message).toMatch(/does not keep the workspace's documents/);
		await bare.stop();
	});

	it('refuses a call of a tool it did not offer from a modified host: the answer fails, nothing runs', async () => {
		const ws = newWorkspace();
		// The host's engine calls "rm" whatever it was offered.
		const rogue = await startHost(ws, (engine) => ({
			kind: engine.kind,
			models: () => engine.models(),
			async *generate() {
				yield { type: 'tool-call', call: { id: 'c1', name: 'rm', arguments: '{"path":"/"}' } };
				yield { type: 'done', finishReason: 'tool-calls', promptTokens: 1, completionTokens: 1 };
			}
		}));
		const asker = await startAsker(ws, rogue, 'offered-pick');
		const tools = [{ name: 'pick', description: 'Picks.', parameters: { type: 'object' } }];
		const error = await collect(meshEngine(asker, rogue, asker.peer, ws).generate({ ...ask('Pick.', 8), tools })).catch((e: unknown) => e);
		expect(error).toMatchObject({ name: 'EngineError', problem: 'failed' });
		expect((error as Error).message).toMatch(/called a tool that was not offered \("rm"\)/);
	});

	it('refuses a request with tools and a target: the asker runs the tools, so the asker writes that answer', async () => {
		await setup();
		const { a, host } = shared;
		const tools = [{ name: 'pick', description: 'Picks.', parameters: { type: 'object', properties: { c: { enum: ['x'] } } } }];
		const target = { kind: 'ai-thread' as const, docId: newId(), entryId: 'with-tools' };
		const error = await collect(meshEngine(a, host).generate({ ...ask('Pick.', 40), tools, toolChoice: 'required' }, undefined, { target })).catch((e: unknown) => e);
		expect(error).toMatchObject({ name: 'EngineError', problem: 'failed' });
		expect((error as Error).message).toMatch(/the asker runs the tools/);
		expect(host.host.queueDepth).toBe(0);
	});
});
