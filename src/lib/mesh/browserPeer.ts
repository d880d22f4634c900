/**
 * This browser on the mesh: its libp2p node (node.browser.ts), the {@link MeshService}
 * syncing its workspaces, the relays it keeps a connection to, and the direct WebRTC links
 * it makes to the browsers it discovers.
 *
 * - **Relays** are dialled over WebSockets as soon as they are known (from the relay that
 *   served the app, or an invite) and redialled with backoff whenever the link drops, for
 *   as long as the peer runs: a relay restarting, or a phone changing Wi-Fi, heals on its
 *   own. The first sync with a relay's archive runs on that WebSocket connection, before
 *   any reservation or WebRTC link exists.
 * - **Browsers** announce themselves through the relay (discovery.ts); on each
 *   announcement of a browser we have no live direct link to (a link that does not answer a
 *   ping is dropped: a closed tab's link looks open for ~30 s), the peer with the smaller id
 *   dials its `/p2p-circuit/webrtc` address with retries (the first WebRTC dial sometimes
 *   hangs). The relay only carries the signalling; updates then flow browser to browser
 *   and keep flowing when the relay goes away.
 */
import type { Connection, PeerId, PrivateKey } from '@libp2p/interface';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import { dialWithRetry } from './dial.js';
import { Announcer, shouldDial, webrtcAddresses } from './discovery.js';
import { meshService, type MeshService, type MeshServiceInit } from './MeshService.js';
import { linkKind, type MeshNode, type MeshNodeInit } from './node.js';

/** Options of {@link BrowserPeer.start}. */
export interface BrowserPeerInit {
	privateKey: PrivateKey;
	/** Relay multiaddrs (ending in `/p2p/<id>`) to keep connected. */
	relays?: string[];
	/** Creates the libp2p node (node.browser.ts's `createMeshNode`; injected so this module stays light). */
	createNode: (init: MeshNodeInit) => Promise<MeshNode>;
	mesh?: MeshServiceInit;
	/** Longest pause between redials of a relay; default 15,000 ms. */
	maxRelayDelayMs?: number;
	/** Told about relay and WebRTC dial failures (the UI shows connection state, not these). */
	onDialError?: (error: Error, target: string) => void;
}

/** Connections this peer holds, by kind. */
export interface LinkCounts {
	relays: number;
	webrtc: number;
	relayed: number;
}

/** See the module comment. */
export class BrowserPeer {
	/** Relay addresses by relay peer id. */
	private readonly relays = new Map<string, Multiaddr[]>();
	private readonly keeping = new Set<string>();
	private readonly dialling = new Set<string>();
	private readonly stopping = new AbortController();
	private readonly announcer: Announcer;

	private constructor(
		readonly node: MeshNode,
		readonly mesh: MeshService,
		private readonly init: BrowserPeerInit
	) {
		this.announcer = new Announcer(node, (id, addresses) => this.onAnnouncement(id, addresses));
	}

	/** Starts the node and the mesh service, then dials the relays. */
	static async start(init: BrowserPeerInit): Promise<BrowserPeer> {
		const node = await init.createNode({ privateKey: init.privateKey });
		const mesh = meshService(init.mesh)({ node });
		await mesh.start();
		const peer = new BrowserPeer(node, mesh, init);
		peer.announcer.start();
		peer.addRelays(init.relays ?? []);
		return peer;
	}

	/** The peer id of this browser's node. */
	get peerId(): string {
		return this.node.peerId.toString();
	}

	/**
	 * Adds relay addresses to keep connected; addresses of one relay (same peer id) are
	 * dialled together, as one connection. Malformed ones are skipped.
	 */
	addRelays(addresses: string[]): void {
		const started = new Set<string>();
		for (const address of addresses) {
			let ma: Multiaddr;
			try {
				ma = multiaddr(address);
			} catch {
				continue;
			}
			const last = ma.getComponents().at(-1);
			const relay = last?.name === 'p2p' ? last.value : undefined;
			if (relay === undefined || relay === this.peerId) continue;
			const known = this.relays.get(relay) ?? [];
			if (known.some((k) => k.equals(ma))) continue;
			known.push(ma);
			this.relays.set(relay, known);
			started.add(relay);
		}
		for (const relay of started) void this.keep(relay);
	}

	/** Whether `peerId` is one of the relays this peer keeps connected. */
	isRelay(peerId: string): boolean {
		return this.relays.has(peerId);
	}

	/** Relay addresses known to this peer (for invites). */
	relayAddresses(): string[] {
		return [...this.relays.values()].flat().map(String);
	}

	/** Open connections by kind. */
	links(): LinkCounts {
		const counts: LinkCounts = { relays: 0, webrtc: 0, relayed: 0 };
		for (const connection of this.node.getConnections()) {
			if (this.relays.has(connection.remotePeer.toString())) counts.relays++;
			else if (linkKind(connection.remoteAddr) === 'webrtc') counts.webrtc++;
			else counts.relayed++;
		}
		return counts;
	}

	async stop(): Promise<void> {
		this.stopping.abort();
		this.announcer.stop();
		await this.mesh.stop();
		await this.node.stop();
	}

	/** Keeps one relay connected: dial, wait for the link to close, dial again, until stopped. */
	private async keep(relay: string): Promise<void> {
		if (this.keeping.has(relay)) return;
		this.keeping.add(relay);
		const { signal } = this.stopping;
		const maxDelayMs = this.init.maxRelayDelayMs ?? 15_000;
		let pause = 0;
		try {
			while (!signal.aborted) {
				if (pause > 0) await sleep(pause, signal);
				let connection: Connection;
				try {
					// Read each time: addresses learnt meanwhile are tried too.
					connection = await dialWithRetry(this.node, this.relays.get(relay) ?? [], { attempts: 4, maxDelayMs, signal });
				} catch (error) {
					if (signal.aborted) return;
					this.init.onDialError?.(asError(error), relay);
					pause = Math.min(maxDelayMs, Math.max(1000, pause * 2));
					continue;
				}
				pause = 500;
				await closed(this.node, connection, signal);
			}
		} catch {
			// Aborted while sleeping or waiting: the peer is stopping.
		} finally {
			this.keeping.delete(relay);
		}
	}

	/**
	 * Another browser announced itself. The peer with the smaller id makes sure a live link
	 * exists; the other, when it has none, announces itself at once so the dialler hears it
	 * now rather than at its next periodic announcement.
	 */
	private readonly onAnnouncement = (id: PeerId, multiaddrs: Multiaddr[]): void => {
		const remote = id.toString();
		if (this.stopping.signal.aborted || this.relays.has(remote) || this.dialling.has(remote)) return;
		const addresses = webrtcAddresses(multiaddrs);
		if (addresses.length === 0) return;
		if (!shouldDial(this.peerId, remote)) {
			if (!this.node.getConnections(id).some((c) => linkKind(c.remoteAddr) === 'webrtc')) this.announcer.announceSoon();
			return;
		}
		this.dialling.add(remote);
		void this.linkTo(id, addresses).finally(() => this.dialling.delete(remote));
	};

	/** Makes sure a live WebRTC link to `id` exists: keeps one that answers, else dials. */
	private async linkTo(id: PeerId, addresses: Multiaddr[]): Promise<void> {
		const { signal } = this.stopping;
		for (const existing of this.node.getConnections(id)) {
			if (linkKind(existing.remoteAddr) !== 'webrtc') continue;
			// A link to a browser that was closed looks open until ICE gives up (~30 s), and
			// libp2p would hand it back instead of dialling: ask it first.
			if (await answers(existing, signal)) return;
			existing.abort(new Error('the peer stopped answering'));
		}
		try {
			await dialWithRetry(this.node, addresses, { attempts: 4, firstTimeoutMs: 2000, signal });
		} catch (error) {
			if (!signal.aborted) this.init.onDialError?.(asError(error), id.toString());
		}
	}
}

/** libp2p's ping protocol, which every mesh node serves. */
const PING_PROTOCOL = '/ipfs/ping/1.0.0';
/** How long a link has to answer before it counts as gone. */
const PROBE_TIMEOUT_MS = 1500;

/** Whether the peer at the other end of `connection` still answers (opens a ping stream). */
async function answers(connection: Connection, signal: AbortSignal): Promise<boolean> {
	try {
		const stream = await connection.newStream(PING_PROTOCOL, {
			signal: AbortSignal.any([signal, AbortSignal.timeout(PROBE_TIMEOUT_MS)])
		});
		// Not awaited: the answer was the negotiation; the remote closes its end in its own time.
		void stream.close({ signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) }).catch((error: unknown) => stream.abort(asError(error)));
		return true;
	} catch {
		return false;
	}
}

/** Resolves when `connection` closes (or the signal aborts). */
function closed(node: MeshNode, connection: Connection, signal: AbortSignal): Promise<void> {
	if (connection.status !== 'open') return Promise.resolve();
	return new Promise((resolve) => {
		const done = () => {
			node.removeEventListener('connection:close', onClose);
			signal.removeEventListener('abort', done);
			resolve();
		};
		const onClose = (event: CustomEvent<Connection>) => {
			if (event.detail.id === connection.id) done();
		};
		node.addEventListener('connection:close', onClose);
		signal.addEventListener('abort', done, { once: true });
	});
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
	return new Promise((resolve, reject) => {
		if (signal.aborted) return reject(signal.reason);
		const timer = setTimeout(() => {
			signal.removeEventListener('abort', onAbort);
			resolve();
		}, ms);
		const onAbort = () => {
			clearTimeout(timer);
			reject(signal.reason);
		};
		signal.addEventListener('abort', onAbort, { once: true });
	});
}

function asError(error: unknown): Error {
	return error instanceof Error ? error : new Error(String(error));
}
