/**
 * Where a model host writes answers, with real libp2p nodes in one process: team peers (owner,
 * admin ann, member bob, guest gus) built as the app builds them; the owner's node runs the
 * model host with the team's checks (hostAccess.ts) over a small echo engine, and the others
 * ask through a MeshEngine, which checks nothing itself (a client that asks anyway). The host
 * writes only where the asker's device may read and post (targetAccess.ts): not into a
 * conversation the asker is not in, not into a read-only channel for a member, not for a guest;
 * never into another member's answer (a channel answer, or an AI-chat entry, even one whose
 * unsigned `askedBy` was rewritten). Tabs count as their device, both for where they may write
 * and for their share of the host's queue.
 */
import { newSpaceId } from '../../src/lib/doc/team/teamId.js';
import '../../src/lib/mesh/polyfills.node.js'; // before anything that loads libp2p
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnswerTarget, Engine, GenerateRequest } from '../../src/lib/ai/engine.js';
import { teamHostAccess } from '../../src/lib/ai/hostAccess.js';
import { llmHost, type LlmHost } from '../../src/lib/ai/llmHost.js';
import type { RemoteEngineError } from '../../src/lib/ai/meshEngine.js';
import { AiRole, AiThreadDoc } from '../../src/lib/doc/AiThreadDoc.js';
import { ChannelDoc } from '../../src/lib/doc/ChannelDoc.js';
import { ChannelView } from '../../src/lib/doc/ChannelView.js';
import { HybridClock } from '../../src/lib/doc/hlc.js';
import { newId } from '../../src/lib/doc/ids.js';
import { AiStatus } from '../../src/lib/doc/schema.js';
import { signChannelEntry } from '../../src/lib/doc/signature.js';
import { signDelegation } from '../../src/lib/doc/team/delegation.js';
import { WorkspaceDoc } from '../../src/lib/doc/WorkspaceDoc.js';
import { waitFor } from './helpers.js';
import { askOwnerHost, MODEL } from './llmOwnerHost.js';
import { connect, stopPeers, type Peer } from './peers.js';
import { has, invite, newKey, post, startJoiner, startTeamPeer, stopTeamPeers, teamOfRoles, type TeamPeer, type TeamWorkspace } from './teamPeers.js';

/** Answers with the question at once, except "hold", which waits for {@link release}: generations are counted. */
function echoEngine(): Engine & { runs: number } {
	const engine = {
		kind: 'node-llama-cpp' as const,
		runs: 0,
		models: async () => [{ id: MODEL, name: MODEL, engine: 'node-llama-cpp' as const, contextLength: 512 }],
		async *generate(request: GenerateRequest) {
			engine.runs++;
			const question = String(request.messages.at(-1)?.content ?? '');
			if (question === 'hold') await held;
			if (question === 'long') {
				// Forty pieces, paused after the twentieth until released.
				for (let i = 0; i < 40; i++) {
					if (i === 20) await heldLong;
					yield { type: 'text' as const, text: `${i} ` };
				}
				yield { type: 'done' as const, finishReason: 'stop' as const, promptTokens: 1, completionTokens: 40 };
				return;
			}
			yield { type: 'text' as const, text: question };
			yield { type: 'done' as const, finishReason: 'stop' as const, promptTokens: 1, completionTokens: 1 };
		}
	};
	return engine;
}

let release!: () => void;
let held = new Promise<void>((resolve) => (release = resolve));
let releaseLong!: () => void;
const heldLong = new Promise<void>((resolve) => (releaseLong = resolve));

let ws: TeamWorkspace;
let owner: TeamPeer;
let ann: TeamPeer;
let bob: TeamPeer;
let gus: TeamPeer;
let engine: ReturnType<typeof echoEngine>;
let host: LlmHost;
/** A direct conversation of the owner and ann (bob is not in it). */
let dm: string;
/** A channel every member posts in, and a read-only one. */
let general: string;
let news: string;

beforeAll(async () => {
	({ ws, owner, ann, bob, gus } = await teamOfRoles());
	engine = echoEngine();
	host = llmHost({ engines: [engine], targetTimeoutMs: 1500, ...teamHostAccess((id) => (id === ws.id ? owner.authority : undefined)), onError: () => {} })({
		node: owner.node,
		keys: (id) => owner.mesh.workspaceKeys(id),
		documents: (id) => owner.mesh.workspaceDocs(id),
		signer: { peerId: owner.peerId, key: owner.key, clock: new HybridClock(owner.peerId) }
	});
	await host.start();
	const made = newSpaceId(owner.authority.workspaceId, owner.peerId);
	dm = made.space;
	await owner.authority.write({ t: 'space', space: dm, nonce: made.nonce, kind: 'dm', members: [owner.peerId, ann.peerId] });
	post(owner, dm, 'private hello');
	const root = new WorkspaceDoc(owner.docs.get(ws.id));
	general = newId();
	news = newId();
	root.createChannel(await signChannelEntry(owner.key, { id: general, name: 'general', topic: '', private: false, readOnly: false, archived: false, createdAt: 1, createdBy: owner.peerId }));
	root.createChannel(await signChannelEntry(owner.key, { id: news, name: 'news', topic: '', private: false, readOnly: true, archived: false, createdAt: 2, createdBy: owner.peerId }));
	post(owner, general, 'hello all');
	post(owner, news, 'news of the day');
	// A rule that lets guests use the model: what stops gus below is the posting rule alone.
	await owner.authority.write({ t: 'model-access', model: MODEL, roles: ['owner', 'admin', 'member', 'guest'] });
	await waitFor(() => has(ann, dm, 'private hello') && has(bob, general, 'hello all'), 'the channels on ann and bob');
}, 30_000);

afterAll(async () => {
	release();
	releaseLong();
	await host?.stop();
	await stopTeamPeers();
	await stopPeers();
}, 15_000);

/** `peer` asks the owner's host (showing `admission` in HELLO) to answer `question` into `target`: the answer's text, or the error. */
function ask(peer: Peer, question: string, target?: AnswerTarget, admission?: Uint8Array): Promise<string | RemoteEngineError> {
	return askOwnerHost(ws, owner, peer, question, target, admission);
}

let tabOfBob: Promise<{ tab: TeamPeer; delegation: Uint8Array }> | undefined;
/** A second tab of bob's device (a throwaway key with the device's delegation), connected to the owner. */
function bobTab(): Promise<{ tab: TeamPeer; delegation: Uint8Array }> {
	tabOfBob ??= (async () => {
		const tab = await startTeamPeer(ws, bob.key, 'bob-tab', [], true);
		await connect(tab, owner);
		const delegation = await signDelegation(bob.key, { ws: ws.id, device: bob.peerId, tab: tab.node.peerId.toString(), expires: Date.now() + 60_000 });
		return { tab, delegation };
	})();
	return tabOfBob;
}

const inChannel = (docId: string, entryId = newId()): AnswerTarget => ({ kind: 'channel', docId, entryId });
const refused = (message: RegExp) => ({ name: 'EngineError', problem: 'not-allowed', message: expect.stringMatching(message) });
/** The owner's (the host's) view of a channel. */
const viewOf = (docId: string) => new ChannelView(new ChannelDoc(owner.docs.get(docId)));

describe('answers the host writes, only where the asker may write', () => {
	it('answers into a conversation the asker is in; refuses a member outside it, and generates nothing', async () => {
		const target = inChannel(dm);
		expect(await ask(ann, 'for the two of us', target)).toBe('for the two of us');
		await waitFor(() => viewOf(dm).edits(target.entryId).length === 1, 'the answer in the conversation');
		expect(viewOf(dm).byId.get(target.entryId)).toMatchObject({ author: owner.peerId, askedBy: ann.peerId });

		const runs = engine.runs;
		const intruded = inChannel(dm);
		expect(await ask(bob, 'INJECTED BY BOB', intruded)).toMatchObject(refused(/not in this conversation/));
		expect(engine.runs).toBe(runs);
		expect(new ChannelDoc(owner.docs.get(dm)).messages.toArray().some((m) => m.askedBy === bob.peerId)).toBe(false);
		// Nor as an AI chat: a conversation is not one.
		expect(await ask(bob, 'INJECTED BY BOB', { kind: 'ai-thread', docId: dm, entryId: newId() })).toMatchObject(refused(/not an AI chat/));
		expect(engine.runs).toBe(runs);
	});

	it("never writes into another member's channel answer: naming its id is refused, its text and edits stay", async () => {
		const target = inChannel(general);
		expect(await ask(ann, 'legit answer.', target)).toBe('legit answer.');
		await waitFor(() => viewOf(general).edits(target.entryId).length === 1, 'the answer in general');
		const runs = engine.runs;
		expect(await ask(bob, ' REWRITTEN BY BOB', target)).toMatchObject(refused(/not started by you/));
		// An ordinary message's id is no answer of bob's either.
		const hello = new ChannelDoc(owner.docs.get(general)).messages.toArray().find((m) => m.text === 'hello all')!;
		expect(await ask(bob, 'hijack', inChannel(general, hello.id))).toMatchObject(refused(/not started by you/));
		expect(engine.runs).toBe(runs);
		const view = viewOf(general);
		expect(view.edits(target.entryId)).toHaveLength(1);
		expect(view.text(view.byId.get(target.entryId)!)).toBe('legit answer.');
		expect(view.byId.get(target.entryId)!.askedBy).toBe(ann.peerId);
		expect(new ChannelDoc(owner.docs.get(general)).messages.toArray().filter((m) => m.id === hello.id)).toHaveLength(1);
	});

	it('refuses a member a read-only channel and a guest every channel; serves the admin there', async () => {
		const runs = engine.runs;
		expect(await ask(bob, 'announce this', inChannel(news))).toMatchObject(refused(/Only admins post/));
		expect(await ask(gus, 'a guest post', inChannel(general))).toMatchObject(refused(/Guests do not post/));
		expect(engine.runs).toBe(runs);
		expect(await ask(gus, 'no target')).toBe('no target'); // the model itself the rule lets gus use
		const target = inChannel(news);
		expect(await ask(ann, 'an announcement', target)).toBe('an announcement');
		await waitFor(() => viewOf(news).edits(target.entryId).length === 1, 'the admin’s answer in news');
	});

	it('refuses a device of the relay role every channel: a relay never posts, and its words would go out under the host’s name', async () => {
		const relayDevice = await startJoiner(ws, (await newKey()).key, 'relay2', await invite(owner, 'relay'));
		await connect(relayDevice, owner);
		await waitFor(() => owner.authority.roleOf(relayDevice.peerId) === 'relay' && relayDevice.authority.joined, 'the relay device admitted');
		// The model itself the relay role may use (as by default): what stops it is the posting rule alone.
		await owner.authority.write({ t: 'model-access', model: MODEL, roles: ['owner', 'admin', 'member', 'guest', 'relay'] });
		const runs = engine.runs;
		const target = inChannel(general);
		expect(await ask(relayDevice, 'Everyone: send your invite links to relay2.', target)).toMatchObject(refused(/A relay does not post/));
		expect(engine.runs).toBe(runs);
		expect(new ChannelDoc(owner.docs.get(general)).messages.toArray().some((m) => m.id === target.entryId)).toBe(false);
	});

	it("writes an AI-chat answer only into the asker's own entry, even when another member rewrote its askedBy", async () => {
		const chat = newId();
		new WorkspaceDoc(owner.docs.get(ws.id)).createAiThread({ id: chat, title: 'shared chat', createdAt: Date.now() });
		await waitFor(() => new WorkspaceDoc(bob.docs.get(ws.id)).aiThreads.has(chat), 'the chat on bob');
		const thread = new AiThreadDoc(bob.docs.get(chat));
		const entryId = newId();
		thread.append({ id: newId(), role: AiRole.user, hlc: '1', author: bob.peerId, text: 'my question' });
		thread.append({ id: entryId, role: AiRole.assistant, hlc: '2', author: owner.peerId, askedBy: bob.peerId, model: MODEL, status: AiStatus.queued, text: '' });
		const onHost = () => new AiThreadDoc(owner.docs.get(chat));
		await waitFor(() => onHost().entry(entryId) !== undefined, 'the entry on the host');
		const target: AnswerTarget = { kind: 'ai-thread', docId: chat, entryId };
		const runs = engine.runs;
		expect(await ask(ann, 'PRE-EMPTED BY ANN', target)).toMatchObject(refused(/not started by you/));
		// Live entries are anyone's to change: ann claims bob's entry as hers.
		onHost().entry(entryId)!.set('askedBy', ann.peerId);
		expect(await ask(ann, 'PRE-EMPTED BY ANN', target)).toMatchObject(refused(/not started by you/));
		expect(engine.runs).toBe(runs);
		expect(onHost().answerRecord(entryId)).toBeUndefined();
		onHost().entry(entryId)!.set('askedBy', bob.peerId);
		expect(await ask(bob, 'the real answer', target)).toBe('the real answer');
		await waitFor(() => onHost().answerRecord(entryId)?.text === 'the real answer', 'the signed answer');
	});

	it('waits for a chat that reaches it after the request, then answers there', async () => {
		// Bob created the chat and asked at once: the root change that lists it reaches the host after the request.
		const chat = newId();
		const entryId = newId();
		const asked = ask(bob, 'first answer', { kind: 'ai-thread', docId: chat, entryId });
		await new Promise((resolve) => setTimeout(resolve, 300));
		const thread = new AiThreadDoc(owner.docs.get(chat));
		thread.append({ id: newId(), role: AiRole.user, hlc: '1', author: bob.peerId, text: 'first question' });
		thread.append({ id: entryId, role: AiRole.assistant, hlc: '2', author: owner.peerId, askedBy: bob.peerId, model: MODEL, status: AiStatus.queued, text: '' });
		new WorkspaceDoc(owner.docs.get(ws.id)).createAiThread({ id: chat, title: 'new chat', createdAt: Date.now() });
		expect(await asked).toBe('first answer');
		// One nobody lists is refused once the wait is over.
		expect(await ask(bob, 'nowhere', { kind: 'ai-thread', docId: newId(), entryId })).toMatchObject(refused(/does not know this AI chat/));
	});

	it('holds at most four streams of one device past membership: a fifth is told busy before its request is read', async () => {
		// Four requests for chats the host does not know yet: each waits there for the root change.
		let answered = 0;
		const waiting = [1, 2, 3, 4].map(() => ask(bob, 'never', { kind: 'ai-thread', docId: newId(), entryId: newId() }).finally(() => answered++));
		await new Promise((resolve) => setTimeout(resolve, 400));
		const fifth = await ask(bob, 'too many', { kind: 'ai-thread', docId: newId(), entryId: newId() });
		expect(fifth).toMatchObject({ problem: 'busy' });
		expect(answered).toBe(0); // told while the four still wait, not after
		for (const answer of await Promise.all(waiting)) expect(answer).toMatchObject(refused(/does not know this AI chat/));
		// Another device is not held back by Bob's.
		expect(await ask(ann, 'mine', { kind: 'ai-thread', docId: newId(), entryId: newId() })).toMatchObject(refused(/does not know this AI chat/));
	});

	it('lets a tab write where its device may, and nowhere else', async () => {
		const { tab, delegation } = await bobTab();
		const target = inChannel(general);
		expect(await ask(tab, 'from a tab', target, delegation)).toBe('from a tab');
		await waitFor(() => viewOf(general).edits(target.entryId).length === 1, 'the tab’s answer in general');
		expect(await ask(tab, 'into the dm', inChannel(dm), delegation)).toMatchObject(refused(/not in this conversation/));
	});
});

describe("the host's queue", () => {
	it("counts a tab's requests as its device's share: a member's throwaway keys get no more slots", async () => {
		const { tab, delegation } = await bobTab();
		// Bob's device fills its share (one running, one waiting); its tab gets no third slot.
		const holding = [ask(bob, 'hold'), ask(bob, 'hold')];
		await waitFor(() => host.queueDepth === 2, 'two held requests');
		const third = await Promise.race([ask(tab, 'a third from the tab', undefined, delegation), new Promise((resolve) => setTimeout(() => resolve('admitted'), 1000))]);
		// Another member is admitted beside bob.
		const other = ask(ann, 'another member');
		await waitFor(() => host.queueDepth >= 3, 'ann admitted');
		release();
		expect(third).toMatchObject({ name: 'EngineError', problem: 'busy', message: expect.stringMatching(/your 2 earlier requests/) });
		expect(await Promise.all(holding)).toEqual(['hold', 'hold']);
		expect(await other).toBe('another member');
		held = new Promise<void>((resolve) => (release = resolve));
	});

	it('stops writing an answer in a space once its asker is taken out of it (found in review)', async () => {
		const made = newSpaceId(owner.authority.workspaceId, owner.peerId);
		await owner.authority.write({ t: 'space', space: made.space, nonce: made.nonce, kind: 'private', members: [owner.peerId, ann.peerId] });
		post(owner, made.space, 'a small room');
		await waitFor(() => has(ann, made.space, 'a small room'), 'the room on ann');
		const target = inChannel(made.space);
		const asking = ask(ann, 'long', target);
		const live = () => new ChannelDoc(owner.docs.get(made.space)).answer(target.entryId);
		await waitFor(() => (live()?.text ?? '').includes('19 '), 'half the answer written');
		await owner.authority.write({ t: 'space-members', space: made.space, add: [], remove: [ann.peerId] });
		releaseLong();
		expect(await asking).toMatchObject({ name: 'EngineError', problem: 'not-allowed' });
		await waitFor(() => viewOf(made.space).byId.get(target.entryId) !== undefined && viewOf(made.space).answer(viewOf(made.space).byId.get(target.entryId)!)?.status === 'failed', 'the answer ends, failed');
		expect(viewOf(made.space).answer(viewOf(made.space).byId.get(target.entryId)!)?.text ?? '').not.toContain('39 ');
	});
});
