/**
 * The relay's models on the mesh, started and stopped together: its own engines (`--model`,
 * `--openai-upstream`) in a registry that `/v1` serves, the mesh host that serves them to
 * members of the archived workspaces and advertises them there, and the other peers' advertised
 * models, which join the registry as mesh engines (meshModels.ts). Who may use them is the
 * workspace core's call: the team of each archived workspace, as this relay folds it (its
 * member devices and their tabs, and per request the roles its model-access rule names:
 * src/lib/ai/hostAccess.ts).
 */
import type { PrivateKey } from '@libp2p/interface';
import { takesAdvertsFrom, teamHostAccess } from '../../src/lib/ai/hostAccess.ts';
import { llmHost } from '../../src/lib/ai/llmHost.ts';
import { HybridClock } from '../../src/lib/doc/hlc.ts';
import type { NodeMeshNode } from '../../src/lib/mesh/node.node.ts';
import type { ArchivePeer } from '../archive/archivePeer.ts';
import { MeshModels, type MeshModelsInit } from './meshModels.ts';
import { createRelayRegistry, type ModelRegistry } from './registry.ts';

/** How often the mesh host lists the `--openai-upstream` models again, in ms. */
const UPSTREAM_RELIST_MS = 60_000;

/** Options of {@link startRelayModels}. */
export interface RelayModelsInit {
	node: NodeMeshNode;
	/** The relay's key: it signs the channel messages its models write. */
	key: PrivateKey;
	archive: ArchivePeer;
	/** GGUF files to run with node-llama-cpp. */
	modelFiles: string[];
	/** OpenAI-compatible servers whose models the relay hosts. */
	openaiUpstreams: string[];
	threads?: number;
	gpu?: 'auto' | false;
	/** Model advert timings (tests). */
	adverts?: MeshModelsInit['adverts'];
	/**
	 * Whether the relay's own models (and tools) are shared with a workspace's members (run.ts
	 * `serveWorkspaces`); default: every workspace it archives. Elsewhere its host refuses them
	 * and advertises nothing; the models its members share still reach that workspace's keys.
	 */
	serves?: (workspaceId: string) => boolean;
	/** The tools the relay shares on the mesh (relayTools.ts): their number is advertised with the models. */
	tools?: { count(): number; onChange(listener: () => void): () => void };
	log: (line: string) => void;
}

/** The relay's running models. */
export interface RelayModels {
	/** The models `/v1` serves. */
	registry: ModelRegistry;
	/** Stops advertising and serving, and unloads the engines. */
	stop(): Promise<void>;
}

/** See the module comment. */
export function startRelayModels(init: RelayModelsInit): RelayModels {
	const { node, archive, log } = init;
	const models = createRelayRegistry({
		modelFiles: init.modelFiles,
		openaiUpstreams: init.openaiUpstreams,
		...(init.threads !== undefined ? { threads: init.threads } : {}),
		...(init.gpu !== undefined ? { gpu: init.gpu } : {}),
		log
	});
	// The team of each archived workspace, as this relay folds it: who may use its own models
	// (only where the operator shares them), and whose adverts it takes (every archived workspace).
	const serves = init.serves ?? (() => true);
	const access = teamHostAccess((workspaceId) => archive.authority(workspaceId));
	const served = teamHostAccess((workspaceId) => (serves(workspaceId) ? archive.authority(workspaceId) : undefined));
	const host = llmHost({
		engines: models.registry.engines,
		...served,
		onError: (error, peerId) => log(`Model request from ${peerId} failed: ${error.message}`)
	})({
		node,
		keys: (id) => archive.mesh.workspaceKeys(id),
		// The relay writes the answers it generates into the archived documents (so they reach
		// members who are offline now) and signs its models' channel messages with its own key.
		documents: (id) => archive.mesh.workspaceDocs(id),
		unproven: archive.mesh.unproven,
		signer: { peerId: node.peerId.toString(), key: init.key, clock: new HybridClock(node.peerId.toString()) }
	});
	// What the adverts say: the host's models, and how many tools the relay shares.
	const { tools } = init;
	const advertised = {
		advertisedModels: () => host.advertisedModels(),
		advertisedTools: () => tools?.count() ?? 0,
		on: (event: 'change', handler: () => void) => {
			const offHost = host.on(event, handler);
			const offTools = tools?.onChange(handler);
			return () => {
				offHost();
				offTools?.();
			};
		}
	};
	const meshModels = new MeshModels({
		node,
		mesh: archive.mesh,
		host: advertised,
		registry: models.registry,
		// Whose adverts it takes (found in review: a guest advertising a member's model id took
		// `/v1` requests for it over after a reload).
		isAllowed: (workspaceId, peer) => takesAdvertsFrom(archive.authority(workspaceId), peer),
		serves,
		...(init.adverts !== undefined ? { adverts: init.adverts } : {}),
		log
	});
	meshModels.start(archive.archives.keys());
	// Listing the local models waits for them to load: serve them once they have.
	const hosting = host.start().catch((error: unknown) => log(`Could not host models on the mesh: ${error instanceof Error ? error.message : String(error)}`));
	// An upstream's models change without the relay hearing of it: list them again now and then.
	const relist = init.openaiUpstreams.length > 0 ? setInterval(() => void host.refreshModels(), UPSTREAM_RELIST_MS) : undefined;
	relist?.unref();
	return {
		registry: models.registry,
		async stop() {
			clearInterval(relist);
			await meshModels.stop();
			await hosting;
			await host.stop();
			await models.close();
		}
	};
}
