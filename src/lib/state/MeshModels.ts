/**
 * Every peer can use every model in the mesh: this browser's side of model hosting and
 * model adverts (src/lib/ai), run by MeshState on its node once the mesh has started.
 *
 * - One {@link LlmHost} on the node serves {@link ModelsState.sharedEngine} (the model
 *   loaded here, while the user shares it) to members of any workspace this device syncs:
 *   the protocol has one handler per node, and each stream's HELLO names its workspace. Who
 *   is served is that workspace's team's call (hostAccess.ts): member devices and their
 *   tabs, and per request only a role the team's model-access rule lets use the model.
 * - One {@link ModelAdverts} per synced workspace publishes what the host serves (an empty
 *   advert when nothing is shared: a withdrawal) and learns what other peers serve.
 * - Other peers' models become {@link ModelsState} choices run by a {@link MeshEngine} to
 *   the advertising peer (`local: false`, servedBy = that peer); they go when the advert is
 *   withdrawn or expires. A peer advertising in several workspaces is offered once. A tab
 *   without the device key asks with its device's delegation, so hosts serve it as its member.
 *
 * Loaded with the libp2p code (dynamic import), never in the first page load.
 */
import type { AnswerSigner } from '../ai/answerSink.js';
import { peerIdFromString } from '@libp2p/peer-id';
import { ModelAdverts, type MeshModel } from '../ai/adverts.js';
import { takesAdvertsFrom, teamHostAccess, type HostTeam } from '../ai/hostAccess.js';
import { llmHost, type LlmHost } from '../ai/llmHost.js';
import { MeshEngine } from '../ai/meshEngine.js';
import { listMeshTools, toolHostsOf } from '../ai/meshTools.js';
import type { RunnableTool } from '../ai/tools/toolLoop.js';
import type { BrowserPeer } from '../mesh/browserPeer.js';
import type { ModelOffer, ModelsState } from './ModelsState.svelte.js';

/** See the module comment. */
export class MeshModels {
	private readonly adverts = new Map<string, ModelAdverts>();
	/** Mesh engines by `<workspace>/<peer>`, kept while that peer advertises there. */
	private readonly engines = new Map<string, MeshEngine>();
	/** This tab's delegation per workspace, signed once (tabs without the device key only). */
	private readonly delegations = new Map<string, Promise<Uint8Array>>();
	private readonly offSharedChange: () => void;
	private stopped = false;

	private constructor(
		private readonly peer: BrowserPeer,
		private readonly models: ModelsState,
		private readonly host: LlmHost,
		private readonly teamOf: (workspaceId: string) => HostTeam | undefined,
		private readonly delegate: ((workspaceId: string) => Promise<Uint8Array>) | undefined
	) {
		this.offSharedChange = models.onSharedChange(() => void host.refreshModels());
	}

	/**
	 * Starts serving the shared model on `peer`'s node, to whom the team of each workspace
	 * (`teamOf`: its TeamAuthority) allows. `delegate` signs this tab's delegation for a
	 * workspace when the node's key is not the device key.
	 */
	static async start(
		peer: BrowserPeer,
		models: ModelsState,
		signer: AnswerSigner,
		teamOf: (workspaceId: string) => HostTeam | undefined,
		delegate?: (workspaceId: string) => Promise<Uint8Array>
	): Promise<MeshModels> {
		const host = llmHost({
			engines: [models.sharedEngine],
			...teamHostAccess(teamOf),
			onError: (error, peerId) => console.info('models: a request failed', peerId, error.message)
		})({ node: peer.node, keys: (id) => peer.mesh.workspaceKeys(id), documents: (id) => peer.mesh.workspaceDocs(id), signer, unproven: peer.mesh.unproven });
		await host.start();
		return new MeshModels(peer, models, host, teamOf, delegate);
	}

	/** Advertises the shared model in a workspace (already added to the mesh) and learns its peers' models. */
	addWorkspace(workspaceId: string): void {
		const keys = this.peer.mesh.workspaceKeys(workspaceId);
		if (this.stopped || keys === undefined || this.adverts.has(workspaceId)) return;
		const adverts = new ModelAdverts({
			pubsub: this.peer.node.services.pubsub,
			keys,
			localPeerId: this.peer.peerId,
			source: this.host,
			isMember: (peerId) => takesAdvertsFrom(this.teamOf(workspaceId), peerId),
			onError: (error) => console.info('models: advert refused', error.message)
		});
		this.adverts.set(workspaceId, adverts);
		adverts.on('change', () => this.refresh());
		adverts.start();
	}

	/** Withdraws this device's advert from a workspace and forgets its peers' models. */
	async removeWorkspace(workspaceId: string): Promise<void> {
		const adverts = this.adverts.get(workspaceId);
		if (adverts === undefined) return;
		this.adverts.delete(workspaceId);
		await adverts.stop();
		this.refresh();
	}

	/** Withdraws every advert and stops serving. */
	async stop(): Promise<void> {
		this.stopped = true;
		this.offSharedChange();
		await Promise.all([...this.adverts.values()].map((a) => a.stop()));
		this.adverts.clear();
		await this.host.stop();
		this.models.setRemote([]);
	}

	/** Offers every remote model advertised now. */
	private refresh(): void {
		const offers = new Map<string, ModelOffer>();
		const used = new Set<string>();
		for (const [workspaceId, adverts] of this.adverts) {
			for (const model of adverts.models()) {
				if (model.local) continue;
				const key = `${model.peer}/${model.id}`;
				if (offers.has(key)) continue;
				const engineKey = `${workspaceId}/${model.peer}`;
				const engine = this.engine(engineKey, workspaceId, model.peer, adverts);
				if (engine === undefined) continue;
				used.add(engineKey);
				offers.set(key, { key, model: model.id, engine, servedBy: model.peer, info: infoOf(model), local: false });
			}
		}
		for (const key of this.engines.keys()) if (!used.has(key)) this.engines.delete(key);
		this.models.setRemote([...offers.values()]);
	}

	private engine(key: string, workspaceId: string, peer: string, catalog: ModelAdverts): MeshEngine | undefined {
		const known = this.engines.get(key);
		if (known) return known;
		const keys = this.peer.mesh.workspaceKeys(workspaceId);
		if (keys === undefined) return undefined;
		let host;
		try {
			host = peerIdFromString(peer);
		} catch {
			return undefined; // not a peer id: the advert was signed by it, so this cannot happen
		}
		const admission = this.delegate !== undefined ? { admission: () => this.delegation(workspaceId) } : {};
		const engine = new MeshEngine({ node: this.peer.node, host, keys, catalog, unproven: this.peer.mesh.unproven, ...admission });
		this.engines.set(key, engine);
		return engine;
	}

	/**
	 * The tools the relays of a workspace share with this member now (their MCP servers': the
	 * relays whose adverts say they share tools, meshTools.ts `toolHostsOf`, each asked over
	 * `/outpost/tools/1.0.0`, which lists only what this member's role may use).
	 */
	async sharedTools(workspaceId: string): Promise<RunnableTool[]> {
		const adverts = this.adverts.get(workspaceId);
		const keys = this.peer.mesh.workspaceKeys(workspaceId);
		const team = this.teamOf(workspaceId);
		if (adverts === undefined || keys === undefined || team === undefined) return [];
		const admission = this.delegate !== undefined ? { admission: () => this.delegation(workspaceId) } : {};
		const init = { node: this.peer.node, keys, unproven: this.peer.mesh.unproven, ...admission };
		const hosts = toolHostsOf(adverts.toolHosts(), (peer) => team.roleOf(peer));
		return (await Promise.all(hosts.map((host) => listMeshTools(init, host)))).flat();
	}

	/** This tab's delegation for a workspace, signed once (signed again after a failure). */
	private delegation(workspaceId: string): Promise<Uint8Array> {
		let signed = this.delegations.get(workspaceId);
		if (signed === undefined) {
			signed = this.delegate!(workspaceId);
			this.delegations.set(workspaceId, signed);
			signed.catch(() => this.delegations.delete(workspaceId));
		}
		return signed;
	}
}

/** The picker's view of an advertised model: its id, and the engine it runs on at that peer. */
function infoOf(model: MeshModel): ModelOffer['info'] {
	return {
		id: model.id,
		name: model.id,
		engine: model.engine,
		contextLength: model.contextLength,
		...(model.tokensPerSecond !== undefined ? { tokensPerSecond: model.tokensPerSecond } : {})
	};
}
