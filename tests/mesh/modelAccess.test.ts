/**
 * Per-role model access, enforced by the host, with real libp2p nodes in one process: team
 * peers (owner, admin, member, guest) built as the app builds them; the owner's node runs the
 * model host (llmHost with the team's checks, hostAccess.ts) over a small echo engine, and
 * the others ask through a MeshEngine, which consults no rule of its own (a client that asks
 * anyway). A guest is refused by default; a model an admin restricts to admins refuses the
 * member and serves the admin, also when the member signs a rule of its own; tabs are
 * served as their device's member (a forged delegation is not); lifting the rule serves the
 * member, and demoting the admin refuses it on the next request.
 */
import '../../src/lib/mesh/polyfills.node.js'; // before anything that loads libp2p
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine, GenerateRequest } from '../../src/lib/ai/engine.js';
import { teamHostAccess } from '../../src/lib/ai/hostAccess.js';
import { llmHost, type LlmHost } from '../../src/lib/ai/llmHost.js';
import { MeshEngine, type RemoteEngineError } from '../../src/lib/ai/meshEngine.js';
import { signDelegation } from '../../src/lib/doc/team/delegation.js';
import type { PrivateKey } from '@libp2p/interface';
import { waitFor } from './helpers.js';
import { connect, stopPeers, type Peer } from './peers.js';
import { startTeamPeer, stopTeamPeers, teamOfRoles, type TeamPeer, type TeamWorkspace } from './teamPeers.js';

const OPEN = 'open-model';
const RESTRICTED = 'admins-model';

/** An engine that answers at once with the model id and the question: generations are counted. */
function echoEngine(ids: string[]): Engine & { runs: number } {
	const engine = {
		kind: 'node-llama-cpp' as const,
		runs: 0,
		models: async () => ids.map((id) => ({ id, name: id, engine: 'node-llama-cpp' as const, contextLength: 512 })),
		async *generate(request: GenerateRequest) {
			engine.runs++;
			yield { type: 'text' as const, text: `${request.model}: ${request.messages.at(-1)?.content ?? ''}` };
			yield { type: 'done' as const, finishReason: 'stop' as const, promptTokens: 1, completionTokens: 1 };
		}
	};
	return engine;
}

let ws: TeamWorkspace;
let owner: TeamPeer;
let ann: TeamPeer;
let bob: TeamPeer;
let gus: TeamPeer;
let engine: ReturnType<typeof echoEngine>;
let host: LlmHost;

beforeAll(async () => {
	({ ws, owner, ann, bob, gus } = await teamOfRoles());
	engine = echoEngine([OPEN, RESTRICTED]);
	// The host decides by its own folded team: the owner's.
	host = llmHost({ engines: [engine], ...teamHostAccess((id) => (id === ws.id ? owner.authority : undefined)), onError: () => {} })({
		node: owner.node,
		keys: (id) => owner.mesh.workspaceKeys(id)
	});
	await host.start();
}, 30_000);

afterAll(async () => {
	await host?.stop();
	await stopTeamPeers();
	await stopPeers();
}, 15_000);

/** `peer` asks the owner's host for `model` (showing `admission` in HELLO): the answer's text, or the error. */
async function ask(peer: Peer, model: string, admission?: Uint8Array): Promise<string | RemoteEngineError> {
	const keys = peer.mesh.workspaceKeys(ws.id)!;
	const asker = new MeshEngine({ node: peer.node, host: owner.node.peerId, keys, ...(admission ? { admission: () => admission } : {}) });
	let text = '';
	try {
		for await (const chunk of asker.generate({ model, messages: [{ role: 'user', content: 'hi' }] })) if (chunk.type === 'text') text += chunk.text;
		return text;
	} catch (error) {
		return error as RemoteEngineError;
	}
}

/** A delegation `device` (its key) signs for the tab `tab`. */
const delegation = (key: PrivateKey, device: string, tab: Peer) =>
	signDelegation(key, { ws: ws.id, device, tab: tab.node.peerId.toString(), expires: Date.now() + 60_000 });

const refused = { name: 'EngineError', problem: 'not-allowed', message: expect.stringMatching(/may not use/) };

describe('model access on the host', () => {
	it('refuses a guest every model by default, and generates nothing for it; serves a member a model no rule names', async () => {
		const runs = engine.runs;
		expect(await ask(gus, OPEN)).toMatchObject(refused);
		expect(await ask(gus, RESTRICTED)).toMatchObject(refused);
		expect(engine.runs).toBe(runs);
		expect(await ask(bob, OPEN)).toBe(`${OPEN}: hi`);
	});

	it('serves an admin and refuses a member a model an admin restricted to owners and admins', async () => {
		expect(await ask(bob, RESTRICTED)).toBe(`${RESTRICTED}: hi`);
		await ann.authority.write({ t: 'model-access', model: RESTRICTED, roles: ['owner', 'admin'] });
		await waitFor(() => owner.authority.team.modelAccess.has(RESTRICTED), 'the rule on the host');
		const runs = engine.runs;
		expect(await ask(bob, RESTRICTED)).toMatchObject(refused);
		expect(engine.runs).toBe(runs);
		expect(await ask(ann, RESTRICTED)).toBe(`${RESTRICTED}: hi`);
		// Other models keep their own (default) rule.
		expect(await ask(bob, OPEN)).toBe(`${OPEN}: hi`);
	});

	it('refuses a member whose client asks anyway, even after signing a rule of its own', async () => {
		const forged = await bob.authority.write({ t: 'model-access', model: RESTRICTED, roles: ['member'] });
		await waitFor(() => owner.authority.team.rejected.has(forged.id), 'the host folds the member’s rule as refused');
		expect(owner.authority.team.rejected.get(forged.id)).toBe('only admins set model access');
		const runs = engine.runs;
		expect(await ask(bob, RESTRICTED)).toMatchObject(refused);
		expect(engine.runs).toBe(runs);
	});

	it("serves a tab as its device's member: the admin's tab is served, the member's refused, a forged delegation admits nothing", async () => {
		const annTab = await startTeamPeer(ws, ann.key, 'ann-tab', [], true);
		const bobTab = await startTeamPeer(ws, bob.key, 'bob-tab', [], true);
		await connect(annTab, owner);
		await connect(bobTab, owner);
		expect(await ask(annTab, RESTRICTED, await delegation(ann.key, ann.peerId, annTab))).toBe(`${RESTRICTED}: hi`);
		expect(await ask(bobTab, RESTRICTED, await delegation(bob.key, bob.peerId, bobTab))).toMatchObject(refused);
		// The member's tab claiming to speak for the admin, signed with the member's key.
		const forged = await ask(bobTab, RESTRICTED, await delegation(bob.key, ann.peerId, bobTab));
		expect(forged).toMatchObject({ problem: 'failed' });
		expect((forged as RemoteEngineError).cause).toMatchObject({ name: 'MembershipDeniedError' });
		// A tab with no delegation is not a member device.
		expect(await ask(annTab, RESTRICTED)).toMatchObject({ problem: 'failed' });
	});

	it('serves the member once the admin lifts the rule, and refuses the admin once demoted (decided per request)', async () => {
		await ann.authority.write({ t: 'model-access', model: RESTRICTED, roles: ['owner', 'admin', 'member'] });
		await waitFor(() => owner.authority.team.modelAccess.get(RESTRICTED)?.has('member') === true, 'the lifted rule on the host');
		expect(await ask(bob, RESTRICTED)).toBe(`${RESTRICTED}: hi`);
		await ann.authority.write({ t: 'model-access', model: RESTRICTED, roles: ['owner', 'admin'] });
		await waitFor(() => owner.authority.team.modelAccess.get(RESTRICTED)?.has('member') === false, 'the rule again on the host');
		expect(await ask(ann, RESTRICTED)).toBe(`${RESTRICTED}: hi`);
		await owner.authority.write({ t: 'role', member: ann.peerId, role: 'member' });
		expect(await ask(ann, RESTRICTED)).toMatchObject(refused);
		expect(await ask(ann, OPEN)).toBe(`${OPEN}: hi`);
	});
});
