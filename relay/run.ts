/**
 * The relay's composition root: the data directory, the LAN certificate, the libp2p
 * peer (TCP for other relays, WebSockets for browsers, circuit relay server, mDNS) and
 * the HTTP(S) server, started together and closed together. `start.ts` is the command
 * line around it; tests start it in-process.
 */
import { HybridClock } from '../src/lib/doc/hlc.ts';
import { mkdir } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import type { PeerId } from '@libp2p/interface';
import { multiaddr } from '@multiformats/multiaddr';
import type { Multiaddr } from '@multiformats/multiaddr';
import { WebSockets, WebSocketsSecure } from '@multiformats/multiaddr-matcher';
import { llmHost } from '../src/lib/ai/llmHost.ts';
import { dialWithRetry } from '../src/lib/mesh/dial.ts';
import { createMeshNode } from '../src/lib/mesh/node.node.ts';
import { DISCOVERY_TOPIC } from '../src/lib/mesh/discovery.ts';
import { followTopics } from '../src/lib/mesh/topicRelay.ts';
import type { NodeMeshNode } from '../src/lib/mesh/node.node.ts';
import { lanAddresses } from './addresses.ts';
import { createApiHandler } from './api.ts';
import { ApiKeyStore } from './ai/apiKeys.ts';
import { createKeysApiHandler, memberKeys } from './ai/keysApi.ts';
import { MeshModels } from './ai/meshModels.ts';
import type { MeshModelsInit } from './ai/meshModels.ts';
import { createRelayRegistry } from './ai/registry.ts';
import type { ModelRegistry } from './ai/registry.ts';
import { Challenges } from './ai/challenges.ts';
import { startArchivePeer } from './archive/archivePeer.ts';
import type { ArchivePeer } from './archive/archivePeer.ts';
import { createModelFilesHandler } from './models.ts';
import { createOpenAiHandler } from './openai.ts';
import { loadOrCreatePeerKey } from './peerKey.ts';
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
	/** Stops dialling, the server, the archive and the peer. */
	close(): Promise<void>;
}

/** How often the mesh host lists the `--openai-upstream` models again, in ms. */
const UPSTREAM_RELIST_MS = 60_000;

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
	const node = await createMeshNode({
		privateKey: key,
		listen: p2pListenAddresses(init.host, first, secure),
		relayServer: RELAY_SERVER,
		// Tagged keep-alive: libp2p redials them when the link drops.
		bootstrap: init.peers ?? [],
		mdns: init.mdns ?? true,
		...(certificate ? { webSockets: { https: { key: certificate.key, cert: certificate.cert } } } : {})
	});

	let archive: ArchivePeer;
	try {
		archive = await startArchivePeer({ node, privateKey: key, dataDir, log });
	} catch (error) {
		await node.stop();
		throw error;
	}
	// Forward members' sealed gossip even for workspaces this relay does not archive. Started
	// after the archive has joined its own topics: followTopics never leaves a topic it did not
	// join itself, so the archive's gossip subscriptions are never dropped.
	const stopFollowing = followTopics(node.services.pubsub);
	// Browsers announce themselves on this topic to find each other (discovery.ts); a relay
	// forwards only topics it is in.
	node.services.pubsub.subscribe(DISCOVERY_TOPIC);
	const stopping = new AbortController();
	/** Dials another relay in the background, with retries, until the relay stops. */
	const dialRelay = (target: PeerId | string, why: string): void => {
		const to = typeof target === 'string' ? multiaddr(target) : target;
		dialWithRetry(node, to, { attempts: 8, maxDelayMs: 30_000, signal: stopping.signal }).then(
			(connection) => log(`Connected to ${why} ${connection.remotePeer} (${connection.remoteAddr})`),
			(error: unknown) => {
				if (stopping.signal.aborted) return;
				log(`Could not reach ${why} ${String(target)}: ${error instanceof Error ? error.message : String(error)}`);
			}
		);
	};

	if (init.mdns ?? true) {
		node.addEventListener('peer:discovery', (event) => {
			const { id, multiaddrs } = event.detail;
			// Relays and other Node peers announce plain TCP; browsers never do.
			const nodePeer = multiaddrs.some((ma) => !WebSockets.matches(ma) && !WebSocketsSecure.matches(ma) && isTcp(ma));
			if (nodePeer && node.getConnections(id).length === 0) dialRelay(id, 'relay found on the LAN');
		});
	}
	for (const peer of init.peers ?? []) dialRelay(peer, 'relay');

	const info = (): RelayInfo => ({
		peerId: node.peerId.toString(),
		multiaddrs: node
			.getMultiaddrs()
			.filter((ma) => WebSockets.matches(ma) || WebSocketsSecure.matches(ma))
			.map(String),
		// Set once the server listens: the LAN URLs, for invites made on localhost.
		...(server !== undefined ? { urls: urls().filter((url) => !/\/\/(localhost|127\.)/.test(url)) } : {})
	});

	const models = createRelayRegistry({
		modelFiles: init.models ?? [],
		openaiUpstreams: init.openaiUpstreams ?? [],
		...(init.modelThreads !== undefined ? { threads: init.modelThreads } : {}),
		...(init.modelGpu !== undefined ? { gpu: init.modelGpu } : {}),
		log
	});
	// The relay's own engines, served to members of the archived workspaces and advertised
	// there; other peers' advertised models join the registry as mesh engines (meshModels.ts).
	const host = llmHost({
		engines: models.registry.engines,
		// Current member devices of the team, as this relay folds it.
		isAllowed: (workspaceId, peerId) => archive.authority(workspaceId)?.isMember(peerId) ?? false,
		onError: (error, peerId) => log(`Model request from ${peerId} failed: ${error.message}`)
	})({
		node,
		keys: (id) => archive.mesh.workspaceKeys(id),
		// The relay writes the answers it generates into the archived documents (so they reach
		// members who are offline now) and signs its models' channel messages with its own key.
		documents: (id) => archive.mesh.workspaceDocs(id),
		signer: { peerId: node.peerId.toString(), key, clock: new HybridClock(node.peerId.toString()) }
	});
	const meshModels = new MeshModels({
		node,
		mesh: archive.mesh,
		host,
		registry: models.registry,
		isAllowed: (workspaceId, peerId) => archive.authority(workspaceId)?.isMember(peerId) ?? false,
		...(init.adverts !== undefined ? { adverts: init.adverts } : {}),
		log
	});
	meshModels.start(archive.archives.keys());
	// Listing the local models waits for them to load: serve them once they have.
	const hosting = host.start().catch((error: unknown) => log(`Could not host models on the mesh: ${error instanceof Error ? error.message : String(error)}`));
	// An upstream's models change without the relay hearing of it: list them again now and then.
	const relist = (init.openaiUpstreams ?? []).length > 0 ? setInterval(() => void host.refreshModels(), UPSTREAM_RELIST_MS) : undefined;
	relist?.unref();
	const stopModels = async (): Promise<void> => {
		clearInterval(relist);
		await meshModels.stop();
		await hosting;
		await host.stop();
		await models.close();
	};
	const keyStore = new ApiKeyStore(dataDir);
	// One set of challenges for every signed request (archive and API keys).
	const challenges = new Challenges();
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
			api: createApiHandler({ archive, challenges, keys: createKeysApiHandler({ store: keyStore, teams, challenges }) }),
			models: createModelFilesHandler({ dir: resolve(init.modelsDir ?? join(dataDir, 'models')) }),
			openai: createOpenAiHandler({ registry: models.registry, keys: memberKeys(keyStore, teams) })
		});
	} catch (error) {
		stopping.abort();
		stopFollowing();
		await stopModels();
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
		info,
		urls,
		async close() {
			stopping.abort();
			stopFollowing();
			await server.close();
			await stopModels();
			await archive.close();
			await node.stop();
		}
	};
}

function isTcp(ma: Multiaddr): boolean {
	return ma.getComponents().some((component) => component.name === 'tcp');
}
