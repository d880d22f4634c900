/**
 * The relay as a model peer of the workspaces it archives:
 *
 * - **Out.** One {@link ModelAdverts} per archived workspace advertises what the relay's
 *   model host (llmHost.ts, serving its `--model` and `--openai-upstream` engines) serves. A
 *   workspace added while the relay runs (the HTTP API, `relay join`) is found through the
 *   MeshService's `workspace-status` event, which fires when a workspace is added; a
 *   workspace whose secret changed (its keys are new) gets fresh adverts.
 * - **In.** The models other peers advertise in those workspaces become one
 *   {@link MeshEngine} per (workspace, peer) in the relay's {@link ModelRegistry}, with the
 *   peer id as `where`, so `/v1` lists them and routes requests to them. An engine is added
 *   when its peer's first advert arrives, re-added (fresh listing) when the peer's model ids
 *   change, and removed when its adverts expire or are withdrawn.
 */
import { peerIdFromString } from '@libp2p/peer-id';
import type { Libp2p } from '@libp2p/interface';
import { ModelAdverts, type ModelAdvertsInit } from '../../src/lib/ai/adverts.ts';
import type { LlmHost } from '../../src/lib/ai/llmHost.ts';
import { MeshEngine } from '../../src/lib/ai/meshEngine.ts';
import type { GossipPubSub } from '../../src/lib/mesh/gossip.ts';
import type { MeshService } from '../../src/lib/mesh/MeshService.ts';
import type { WorkspaceKeys } from '../../src/lib/mesh/workspaceKeys.ts';
import type { ModelRegistry } from './registry.ts';

/** Options of {@link MeshModels}. */
export interface MeshModelsInit {
	/** The relay's node: its id, its gossip, and dialling for the mesh engines. */
	node: Pick<Libp2p, 'peerId' | 'dialProtocol'> & { services: { pubsub: GossipPubSub } };
	/** The archive's mesh service: the workspaces and their keys. */
	mesh: Pick<MeshService, 'workspaceKeys' | 'on'> & Partial<Pick<MeshService, 'unproven'>>;
	/** The relay's model host, whose models are advertised (and the number of tools it shares). */
	host: Pick<LlmHost, 'advertisedModels' | 'on'> & { advertisedTools?(): number };
	/** Whether `host` is advertised in a workspace (relayModels.ts `serves`); default: every one. */
	serves?: (workspaceId: string) => boolean;
	/** Where remote models are added and removed. */
	registry: Pick<ModelRegistry, 'add' | 'remove'>;
	/**
	 * Whether a peer's adverts are taken (false for a device the team does not count as a
	 * current member: the relay routes nothing to it); default: every advertising peer. Checked when its adverts change.
	 */
	isAllowed?: (workspaceId: string, peerId: string) => boolean | Promise<boolean>;
	/** Advert timings (tests); the defaults of {@link ModelAdverts} otherwise. */
	adverts?: Pick<ModelAdvertsInit, 'intervalMs' | 'ttlMs' | 'minRepublishMs'>;
	/** Progress and failures, one line each. */
	log: (line: string) => void;
}

/** The advert source of a workspace the relay does not share its own models and tools with. */
const ADVERTISES_NOTHING: MeshModelsInit['host'] = {
	advertisedModels: () => [],
	advertisedTools: () => 0,
	on: () => () => {}
};

/** One workspace's adverts and the remote engines learnt from them. */
interface Tracked {
	keys: WorkspaceKeys;
	adverts: ModelAdverts;
	/** By peer id: the engine and the model ids it was registered with. */
	engines: Map<string, { engine: MeshEngine; ids: string }>;
	off: () => void;
	/** The running {@link MeshModels.sync}: one at a time per workspace. */
	syncing: Promise<void>;
}

/** See the module comment. */
export class MeshModels {
	private readonly workspaces = new Map<string, Tracked>();
	private offStatus: (() => void) | undefined;
	private running = false;

	constructor(private readonly init: MeshModelsInit) {}

	/** Advertises in every workspace the mesh service has now (`ids`) and every one added later. */
	start(ids: Iterable<string>): void {
		if (this.running) return;
		this.running = true;
		// Fired when a workspace is added, before its topic is joined: follow it a tick later.
		this.offStatus = this.init.mesh.on('workspace-status', ({ workspaceId }) => {
			setTimeout(() => this.follow(workspaceId), 0);
		});
		for (const id of ids) this.follow(id);
	}

	/** Withdraws the adverts and removes the remote engines. */
	async stop(): Promise<void> {
		if (!this.running) return;
		this.running = false;
		this.offStatus?.();
		await Promise.all([...this.workspaces.keys()].map((id) => this.unfollow(id)));
	}

	/** Starts (or, after a secret change, restarts) the adverts of workspace `id`. */
	private follow(id: string): void {
		if (!this.running) return;
		const keys = this.init.mesh.workspaceKeys(id);
		const tracked = this.workspaces.get(id);
		if (tracked?.keys === keys) return;
		if (tracked !== undefined) void this.unfollow(id).then(() => this.follow(id));
		if (tracked !== undefined || keys === undefined) return;
		const { node } = this.init;
		const adverts = new ModelAdverts({
			pubsub: node.services.pubsub,
			keys,
			localPeerId: node.peerId.toString(),
			source: this.init.serves?.(id) === false ? ADVERTISES_NOTHING : this.init.host,
			...this.init.adverts,
			onError: (error) => this.init.log(`Model adverts of workspace ${id}: ${error.message}`)
		});
		const entry: Tracked = { keys, adverts, engines: new Map(), off: () => {}, syncing: Promise.resolve() };
		entry.off = adverts.on('change', () => {
			entry.syncing = entry.syncing.then(() => this.sync(entry)).catch((error: unknown) => {
				this.init.log(`Model adverts of workspace ${id}: ${error instanceof Error ? error.message : String(error)}`);
			});
		});
		this.workspaces.set(id, entry);
		adverts.start();
	}

	private async unfollow(id: string): Promise<void> {
		const tracked = this.workspaces.get(id);
		if (tracked === undefined) return;
		this.workspaces.delete(id);
		tracked.off();
		for (const { engine } of tracked.engines.values()) this.init.registry.remove(engine);
		tracked.engines.clear();
		await tracked.adverts.stop();
	}

	/** Brings the registry in line with a workspace's remote adverts. */
	private async sync(tracked: Tracked): Promise<void> {
		if (this.workspaces.get(tracked.keys.workspaceId) !== tracked) return;
		const self = this.init.node.peerId.toString();
		const byPeer = new Map<string, string[]>();
		for (const model of tracked.adverts.models()) {
			if (model.local || model.peer === self) continue;
			byPeer.set(model.peer, [...(byPeer.get(model.peer) ?? []), model.id]);
		}
		const { isAllowed } = this.init;
		if (isAllowed !== undefined) {
			const workspaceId = tracked.keys.workspaceId;
			for (const peer of [...byPeer.keys()]) if (!(await isAllowed(workspaceId, peer))) byPeer.delete(peer);
			if (this.workspaces.get(workspaceId) !== tracked) return;
		}
		const { registry } = this.init;
		for (const [peer, known] of tracked.engines) {
			if (byPeer.has(peer)) continue;
			registry.remove(known.engine);
			tracked.engines.delete(peer);
		}
		for (const [peer, list] of byPeer) {
			const ids = list.sort().join('\n');
			const known = tracked.engines.get(peer);
			if (known?.ids === ids) continue;
			let engine = known?.engine;
			if (engine === undefined) {
				try {
					engine = new MeshEngine({
						node: this.init.node,
						host: peerIdFromString(peer),
						keys: tracked.keys,
						catalog: tracked.adverts,
						...(this.init.mesh.unproven !== undefined ? { unproven: this.init.mesh.unproven } : {})
					});
				} catch (error) {
					this.init.log(`Model advert from an unreadable peer id ${peer}: ${error instanceof Error ? error.message : String(error)}`);
					continue;
				}
			} else registry.remove(engine); // re-added below: the registry lists it afresh
			registry.add(engine, peer, tracked.keys.workspaceId);
			tracked.engines.set(peer, { engine, ids });
		}
	}
}
