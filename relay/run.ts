/**
 * The relay's composition root: the data directory, the LAN certificate, the libp2p
 * peer (TCP for other relays, WebSockets for browsers, circuit relay server, mDNS), the
 * workspace core over the archive on disk (archive/archivePeer.ts), the models
 * (ai/relayModels.ts), the MCP servers' tools (mcp/McpHub.ts, when any are configured) and
 * the HTTP(S) server, started together and closed together. Every rule (who is a member, who
 * may sync, archive or use a model) is the core's, as in the browser. `start.ts` is the
 * command line around it; tests start it in-process.
 */
import { mkdir } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { WebSockets, WebSocketsSecure } from '@multiformats/multiaddr-matcher';
import { createMeshNode } from '../src/lib/mesh/node.node.ts';
import { DISCOVERY_TOPIC } from '../src/lib/mesh/discovery.ts';
import { followTopics } from '../src/lib/mesh/topicRelay.ts';
import type { RelayQuotas } from './cli.ts';
import type { NodeMeshNode } from '../src/lib/mesh/node.node.ts';
import { lanAddresses } from './addresses.ts';
import { shareConnections } from './connectionShare.ts';
import { createMeshGater } from '../src/lib/mesh/gater.ts';
import { createApiHandler } from './api.ts';
import { ApiKeyStore } from './ai/apiKeys.ts';
import { createKeysApiHandler, memberKeys } from './ai/keysApi.ts';
import { createToolsApiHandler, MAX_CALLS_PER_MEMBER } from './ai/toolsApi.ts';
import { ToolCallSlots } from '../src/lib/ai/toolHost.ts';
import type { MeshModelsInit } from './ai/meshModels.ts';
import type { ModelRegistry } from './ai/registry.ts';
import { startRelayModels } from './ai/relayModels.ts';
import { startRelayTools } from './ai/relayTools.ts';
import { Challenges } from './ai/challenges.ts';
import { startArchivePeer } from './archive/archivePeer.ts';
import type { ArchivePeer } from './archive/archivePeer.ts';
import { McpHub } from './mcp/McpHub.ts';
import type { McpServerSpec } from './mcp/mcpConfig.ts';
import { createModelFilesHandler } from './models.ts';
import { createOpenAiHandler } from './openai.ts';
import { loadOrCreatePeerKey } from './peerKey.ts';
import { keepRelaysConnected } from './relayDialer.ts';
import { isLoopbackHost, startRelay, urlHost } from './server.ts';
import type { Relay, RelayInfo } from './server.ts';
import { certificateNames, ensureCertificate } from './tls.ts';
import type { EnsuredCertificate } from './tls.ts';

/** Options of {@link runRelay}. */
export interface RunRelayInit {
	/** Directory of the static build to serve. */
	root: string;
	/** Data directory: peer key, certificate (created if missing). */
	dataDir: string;
	/** Listen address; `undefined` is every interface. */
	host?: string;
	/** Port of the app (HTTPS, or HTTP when not `secure`); 0 picks free ports everywhere. */
	port: number;
	/** Plain HTTP on 127.0.0.1 next to HTTPS; default `port + 1`. */
	httpPort?: number;
	/** First libp2p port (see {@link p2pListenAddresses}); default `port + 2`. */
	p2pPort?: number;
	/** HTTPS and wss; default: unless `host` is a loopback address. */
	secure?: boolean;
	/** Relays to dial (multiaddrs ending in `/p2p/<id>`), kept and redialled. */
	peers?: string[];
	/** Find relays on the LAN by mDNS and dial them; default true. */
	mdns?: boolean;
	/** The LAN addresses the certificate must cover; default: the machine's. */
	lanIps?: string[];
	/** Progress and peer events, one line each; default `console.log`. */
	log?: (line: string) => void;
	/** Model files served to browsers (`/models/`); default `<dataDir>/models`. */
	modelsDir?: string;
	/** GGUF files to run with node-llama-cpp (`--model`), served on `/v1`. */
	models?: string[];
	/** OpenAI-compatible servers whose models the relay hosts (`--openai-upstream`). */
	openaiUpstreams?: string[];
	/** CPU threads per `--model`; node-llama-cpp's default (all cores) when absent. */
	modelThreads?: number;
	/** Whether `--model` may use a GPU; default `'auto'`. */
	modelGpu?: 'auto' | false;
	/** Model advert timings (tests); 15 s renewal and 45 s expiry otherwise. */
	adverts?: MeshModelsInit['adverts'];
	/** What the relay holds and serves at most; each missing one keeps its default. */
	quotas?: RelayQuotas;
	/** MCP servers whose tools the relay offers (`--mcp`, `<data>/mcp.json`); none by default. */
	mcp?: McpServerSpec[];
	/**
	 * The workspaces whose members may use the relay's own models and MCP tools
	 * (`--serve-workspace`); default: every workspace it archives. Anyone on the LAN can create
	 * a workspace and have the relay archive it, so without this a member refused a relay model
	 * or tool by its workspace's rule uses it through a workspace of its own (found in review):
	 * a workspace's model- and tool-access rules govern its members, the operator the relay.
	 */
	serveWorkspaces?: string[];
}

/** A running relay. */
export interface RunningRelay {
	/** The HTTP(S) server. */
	server: Relay;
	/** The libp2p peer. */
	node: NodeMeshNode;
	/** The LAN certificate, when `secure`. */
	certificate?: EnsuredCertificate;
	/** Whether the peer key was made on this start. */
	createdPeerKey: boolean;
	/** What `/.well-known/outpost.json` answers right now. */
	info(): RelayInfo;
	/** URLs of the app worth printing: localhost first, then one per LAN address. */
	urls(): string[];
	/** The workspaces this relay archives and syncs. */
	archive: ArchivePeer;
	/** The models this relay hosts (`--model`, `--openai-upstream`), as `/v1` serves them. */
	registry: ModelRegistry;
	/** The tools of the relay's MCP servers; absent when none are configured. */
	mcp?: McpHub;
	/** Stops dialling, the server, the MCP servers, the archive and the peer. */
	close(): Promise<void>;
}

/** Circuit relay limits for a LAN full of phones (libp2p's default is 15 reservations). */
const RELAY_SERVER = { reservations: { maxReservations: 256 } };

/**
 * libp2p listen addresses. From `first`: TCP (relays, Node peers), then WebSockets
 * for browsers — wss on `host` when `secure` (browsers on an https page may only dial
 * wss), ws otherwise — and with `secure` also plain ws on 127.0.0.1 (`first + 2`) for
 * a browser on this machine. `first` 0 gives free ports.
 */
export function p2pListenAddresses(host: string | undefined, first: number, secure: boolean): string[] {
	const ip =
		host === undefined || host === '' ? '0.0.0.0' : host === 'localhost' ? '127.0.0.1' : host.replace(/^\[|\]$/g, '');
	const base = `/${isIP(ip) === 6 ? 'ip6' : 'ip4'}/${ip}/tcp`;
	const at = (offset: number): number => (first === 0 ? 0 : first + offset);
	if (!secure) return [`${base}/${at(0)}`, `${base}/${at(1)}/ws`];
	return [`${base}/${at(0)}`, `${base}/${at(1)}/tls/ws`, `/ip4/127.0.0.1/tcp/${at(2)}/ws`];
}

/** Starts everything; on failure, stops what had started and rethrows. */
export async function runRelay(init: RunRelayInit): Promise<RunningRelay> {
	const log = init.log ?? ((line: string) => console.log(line));
	const dataDir = resolve(init.dataDir);
	const secure = init.secure ?? !isLoopbackHost(init.host);
	const lanIps = init.lanIps ?? lanAddresses();
	await mkdir(dataDir, { recursive: true });

	const { key, created: createdPeerKey } = await loadOrCreatePeerKey(dataDir);
	let certificate: EnsuredCertificate | undefined;
	if (secure) {
		const names = certificateNames(lanIps);
		// A specific --host address is covered even when it is not a LAN address (a VPN).
		if (init.host !== undefined && isIP(init.host) !== 0 && !names.ips.includes(init.host)) names.ips.push(init.host);
		certificate = await ensureCertificate({ dataDir, names });
	}

	const first = init.p2pPort ?? (init.port === 0 ? 0 : init.port + 2);
	const connectionShare = shareConnections(createMeshGater(), {
		...(init.quotas?.connectionsPerAddress !== undefined ? { maxPerAddress: init.quotas.connectionsPerAddress } : {}),
		onRefused: (address, limit) => log(`Connections from ${address}: ${limit} open already, the most one address may hold; refusing more from it`)
	});
	const node = await createMeshNode({
		privateKey: key,
		gater: connectionShare.gater,
		listen: p2pListenAddresses(init.host, first, secure),
		relayServer: RELAY_SERVER,
		// Tagged keep-alive: libp2p redials them when the link drops.
		bootstrap: init.peers ?? [],
		mdns: init.mdns ?? true,
		...(certificate ? { webSockets: { https: { key: certificate.key, cert: certificate.cert } } } : {})
	});
	connectionShare.watch(node);

	let archive: ArchivePeer;
	try {
		const quotas = init.quotas ?? {};
		archive = await startArchivePeer({
			node,
			privateKey: key,
			dataDir,
			log,
			...(quotas.maxWorkspaces !== undefined ? { maxWorkspaces: quotas.maxWorkspaces } : {}),
			...(quotas.archivesPerAddress !== undefined ? { maxArchivesPerAddress: quotas.archivesPerAddress } : {}),
			...(quotas.workspaceBytes !== undefined ? { maxWorkspaceBytes: quotas.workspaceBytes } : {}),
			...(quotas.workspaceDocs !== undefined ? { maxWorkspaceDocs: quotas.workspaceDocs } : {}),
			...(quotas.workspaceBlobBytes !== undefined ? { maxWorkspaceBlobBytes: quotas.workspaceBlobBytes } : {}),
			...(quotas.relayBytes !== undefined ? { maxRelayBytes: quotas.relayBytes } : {})
		});
	} catch (error) {
		await node.stop();
		throw error;
	}
	// Forward members' sealed gossip even for workspaces this relay does not archive. Started
	// after the archive has joined its own topics: followTopics never leaves a topic it did not
	// join itself, so the archive's gossip subscriptions are never dropped.
	const stopFollowing = followTopics(node.services.pubsub, {
		...(init.quotas?.topicsPerPeer !== undefined ? { maxTopicsPerPeer: init.quotas.topicsPerPeer } : {}),
		onRefused: (peer, limit) => log(`Peer ${peer} asked the relay to follow more than ${limit} gossip topics; the rest are ignored`)
	});
	// Browsers announce themselves on this topic to find each other (discovery.ts); a relay
	// forwards only topics it is in.
	node.services.pubsub.subscribe(DISCOVERY_TOPIC);
	const stopDialling = keepRelaysConnected(node, init.peers ?? [], init.mdns ?? true, log);

	const info = (): RelayInfo => ({
		peerId: node.peerId.toString(),
		multiaddrs: node
			.getMultiaddrs()
			.filter((ma) => WebSockets.matches(ma) || WebSocketsSecure.matches(ma))
			.map(String),
		// Set once the server listens: the LAN URLs, for invites made on localhost.
		...(server !== undefined ? { urls: urls().filter((url) => !/\/\/(localhost|127\.)/.test(url)) } : {})
	});

	// Servers connect in the background; each logs its own state changes (ready, failed, retrying).
	const mcp = init.mcp !== undefined && init.mcp.length > 0 ? new McpHub({ servers: init.mcp, log }) : undefined;
	mcp?.start();
	// Whose members may use the relay's own models and tools (the operator's call).
	const shared = init.serveWorkspaces === undefined ? undefined : new Set(init.serveWorkspaces);
	const serves = (workspaceId: string) => shared === undefined || shared.has(workspaceId);
	const servedTeams = (workspaceId: string) => (serves(workspaceId) ? archive.authority(workspaceId) : undefined);
	const models = startRelayModels({
		node,
		key,
		archive,
		serves,
		...(mcp !== undefined ? { tools: { count: () => mcp.tools().length, onChange: (listener: () => void) => mcp.onChange(listener) } } : {}),
		modelFiles: init.models ?? [],
		openaiUpstreams: init.openaiUpstreams ?? [],
		...(init.modelThreads !== undefined ? { threads: init.modelThreads } : {}),
		...(init.modelGpu !== undefined ? { gpu: init.modelGpu } : {}),
		...(init.adverts !== undefined ? { adverts: init.adverts } : {}),
		log
	});
	// The MCP servers' tools for members on the mesh too (beside /api/tools).
	// One count of each member's running tool calls, over the mesh and /api/tools together.
	const toolSlots = new ToolCallSlots(MAX_CALLS_PER_MEMBER);
	const meshTools = mcp !== undefined ? await startRelayTools({ node, teams: servedTeams, archive, hub: mcp, slots: toolSlots, log }) : undefined;
	const keyStore = new ApiKeyStore(dataDir);
	// One set of challenges for every signed request (archive and API keys).
	const challenges = new Challenges();
	// Signed requests name the relay they are for: this one.
	const relayId = node.peerId.toString();
	const teams = (workspaceId: string) => archive.authority(workspaceId);
	let server: Relay | undefined;
	try {
		server = await startRelay({
			root: init.root,
			host: init.host,
			port: init.port,
			...(certificate
				? { tls: certificate, httpPort: init.httpPort ?? (init.port === 0 ? 0 : init.port + 1) }
				: {}),
			info,
			log,
			...(init.quotas?.requestsPerMinute !== undefined ? { requestsPerMinute: init.quotas.requestsPerMinute } : {}),
			api: createApiHandler({
				archive,
				challenges,
				relayId,
				log,
				keys: createKeysApiHandler({ store: keyStore, teams, challenges, relayId }),
				tools: createToolsApiHandler({ ...(mcp !== undefined ? { hub: mcp } : {}), teams, serves, challenges, relayId, slots: toolSlots })
			}),
			models: createModelFilesHandler({ dir: resolve(init.modelsDir ?? join(dataDir, 'models')) }),
			openai: createOpenAiHandler({ registry: models.registry, keys: memberKeys(keyStore, teams, serves) })
		});
	} catch (error) {
		stopDialling();
		stopFollowing();
		await meshTools?.stop();
		await mcp?.close();
		await models.stop();
		await archive.close();
		await node.stop();
		throw error;
	}

	const urls = (): string[] => {
		const scheme = server.https ? 'https' : 'http';
		const wildcard = urlHost(init.host) === 'localhost' && init.host !== 'localhost';
		const lan = wildcard ? lanIps.map((ip) => `${scheme}://${ip}:${server.port}`) : [server.url];
		// On this machine, plain HTTP on localhost is a secure context with no warning.
		const local =
			server.httpUrl?.replace('127.0.0.1', 'localhost') ?? (wildcard ? `${scheme}://localhost:${server.port}` : undefined);
		return local !== undefined && !lan.includes(local) ? [local, ...lan] : lan;
	};

	return {
		server,
		node,
		...(certificate ? { certificate } : {}),
		createdPeerKey,
		archive,
		registry: models.registry,
		...(mcp !== undefined ? { mcp } : {}),
		info,
		urls,
		async close() {
			stopDialling();
			stopFollowing();
			await server.close();
			await meshTools?.stop();
			await mcp?.close();
			await models.stop();
			await archive.close();
			await node.stop();
		}
	};
}
