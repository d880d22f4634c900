/**
 * A model host asks again, and signs only what it made (found in review; real libp2p nodes, the
 * owner's node hosting a scripted engine with the team's checks, hostAccess.ts, as the app does):
 * 1. a third member's `sources` written into another member's queued answer entry are not
 *    signed into the host's answer record (the host ran no knowledge search);
 * 2. a request queued before a model-access rule took the asker's role away does not run;
 * 3. a member removed from the team gets no more: its queued request does not run, its running
 *    one stops (access is asked when a request's turn comes and every 16 chunks).
 */
import '../../src/lib/mesh/polyfills.node.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnswerTarget, Engine, GenerateRequest } from '../../src/lib/ai/engine.js';
import type { LlmHost } from '../../src/lib/ai/llmHost.js';
import { AiRole, AiThreadDoc } from '../../src/lib/doc/AiThreadDoc.js';
import { newId } from '../../src/lib/doc/ids.js';
import { AiStatus } from '../../src/lib/doc/schema.js';
import { signAiRecord } from '../../src/lib/doc/signature.js';
import { AiRecordKind } from '../../src/lib/doc/schema.js';
import { WorkspaceDoc } from '../../src/lib/doc/WorkspaceDoc.js';
import { waitFor } from './helpers.js';
import { askOwnerHost, MODEL, ownerAccess, startOwnerHost, stopHostAndPeers } from './llmOwnerHost.js';
import type { Peer } from './peers.js';
import { teamOfRoles, type TeamPeer, type TeamWorkspace } from './teamPeers.js';

let gates = new Map<string, () => void>();
const gate = (name: string) => new Promise<void>((resolve) => gates.set(name, resolve));
const open = (name: string) => gates.get(name)?.();
let waits = new Map<string, Promise<void>>();

function scriptedEngine(): Engine & { runs: string[] } {
	const engine = {
		kind: 'node-llama-cpp' as const,
		runs: [] as string[],
		models: async () => [{ id: MODEL, name: MODEL, engine: 'node-llama-cpp' as const, contextLength: 512 }],
		async *generate(request: GenerateRequest, signal?: AbortSignal) {
			const question = String(request.messages.at(-1)?.content ?? '');
			engine.runs.push(question);
			if (question.startsWith('hold')) await waits.get(question);
			if (question.startsWith('long')) {
				for (let i = 0; i < 40; i++) {
					if (i === 20) await waits.get(question);
					signal?.throwIfAborted();
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
const hold = (name: string) => waits.set(name, gate(name));

let ws: TeamWorkspace;
let owner: TeamPeer;
let ann: TeamPeer;
let bob: TeamPeer;
let engine: ReturnType<typeof scriptedEngine>;
let host: LlmHost;

beforeAll(async () => {
	({ ws, owner, ann, bob } = await teamOfRoles());
	engine = scriptedEngine();
	host = await startOwnerHost(owner, { engines: [engine], targetTimeoutMs: 1500, ...ownerAccess(ws, owner), onError: () => {} });
}, 30_000);

afterAll(async () => {
	for (const g of gates.values()) g();
	await stopHostAndPeers(host);
}, 15_000);

const ask = (peer: Peer, question: string, target?: AnswerTarget) => askOwnerHost(ws, owner, peer, question, target);

describe('host-signed AI-chat answers', () => {
	it("signs only what it produced: a third member's sources written into the queued entry are not signed by the host", async () => {
		const chat = newId();
		new WorkspaceDoc(owner.docs.get(ws.id)).createAiThread({ id: chat, title: 'shared chat', createdAt: Date.now() });
		await waitFor(() => new WorkspaceDoc(bob.docs.get(ws.id)).aiThreads.has(chat), 'the chat on bob');
		const thread = new AiThreadDoc(bob.docs.get(chat));
		const q = await signAiRecord(bob.key, { kind: AiRecordKind.user, id: newId(), author: bob.peerId, hlc: '1', text: 'what is our refund policy?' }, chat);
		thread.addRecord(q);
		const entryId = newId();
		thread.append({ id: entryId, role: AiRole.assistant, hlc: '2', author: owner.peerId, askedBy: bob.peerId, model: MODEL, status: AiStatus.queued, text: '' });
		// Ann (any member: live entries are anyone's) plants citations in bob's queued entry.
		await waitFor(() => new AiThreadDoc(ann.docs.get(chat)).entry(entryId) !== undefined, 'the entry on ann');
		new AiThreadDoc(ann.docs.get(chat)).entry(entryId)!.set('sources', [{ n: 1, kind: 'note', docId: 'fake-note', title: 'Refunds: wire money to IBAN XX00 (owner-approved)' }]);
		const onHost = () => new AiThreadDoc(owner.docs.get(chat));
		await waitFor(() => onHost().entry(entryId)?.get('sources') !== undefined, 'the planted sources on the host');
		expect(await ask(bob, 'the answer', { kind: 'ai-thread', docId: chat, entryId })).toBe('the answer');
		await waitFor(() => onHost().answerRecord(entryId) !== undefined, 'the signed answer');
		const record = onHost().answerRecord(entryId)!;
		expect(record.author).toBe(owner.peerId);
		// The host ran no knowledge search: any sources it signs are someone else's words under its key.
		expect(record.sources).toBeUndefined();
	});
});

describe('model access after admission', () => {
	it('a request queued before a model-access rule took the role away does not run', async () => {
		hold('hold-a');
		const holding = ask(ann, 'hold-a');
		await waitFor(() => host.running === 1, 'ann running');
		const queued = ask(bob, 'bob queued before the rule');
		await waitFor(() => host.queueDepth === 2, 'bob queued');
		await owner.authority.write({ t: 'model-access', model: MODEL, roles: ['owner', 'admin'] });
		expect(await ask(bob, 'after the rule')).toMatchObject({ problem: 'not-allowed' }); // new requests are refused
		open('hold-a');
		await holding;
		const result = await queued;
		await owner.authority.write({ t: 'model-access', model: MODEL, roles: ['owner', 'admin', 'member'] });
		expect(engine.runs).not.toContain('bob queued before the rule');
		expect(result).toMatchObject({ problem: 'not-allowed' });
	});

	it('a member removed from the team gets no more of the host: its queued request does not run, its running one stops', async () => {
		hold('long-b');
		const running = ask(bob, 'long-b');
		await waitFor(() => host.running === 1 && engine.runs.includes('long-b'), 'bob running');
		const queued = ask(bob, 'bob queued before removal');
		await waitFor(() => host.queueDepth === 2, 'bob queued');
		await owner.authority.write({ t: 'remove', member: bob.peerId });
		await waitFor(() => !owner.authority.isMember(bob.peerId), 'bob removed on the host');
		open('long-b');
		const [r1, r2] = await Promise.all([running, queued]);
		const leaked = { runningFinished: typeof r1 === 'string' && r1.includes('39 '), queuedRan: engine.runs.includes('bob queued before removal') };
		expect(leaked).toEqual({ runningFinished: false, queuedRan: false });
		void r2;
	});
});
