/**
 * y-webrtc's signalling protocol on the relay (`/y-webrtc`), so an ordinary y-webrtc client
 * (`signaling: ['wss://<relay>/y-webrtc']`) finds its peers through the relay. The protocol
 * is the one of y-webrtc's own `bin/server.js`: JSON text messages
 *
 * - `{type:'subscribe', topics}` / `{type:'unsubscribe', topics}`: join or leave topics;
 * - `{type:'publish', topic, ...}`: sent as it is, plus `clients` (the number of
 *   subscribers), to every subscriber of `topic`, the sender included; only from a client
 *   subscribed to `topic` (y-webrtc publishes to its own rooms only; y-webrtc's sample server
 *   takes a publish from anyone, which lets a stranger inject into any room it can name);
 * - `{type:'ping'}`: answered with `{type:'pong'}`.
 *
 * Unlike y-webrtc's sample server it treats every client as hostile: messages, topics per
 * connection, topic names and connections are bounded; a message that is not JSON or has the
 * wrong shape closes that socket with code 1007 and a reason, a broken limit with 1008 (or
 * 1009 for a message too large); unknown message types are ignored. A subscriber that does
 * not read (its send buffer grows past a bound) is dropped rather than buffered for. Sockets
 * that stop answering WebSocket pings are terminated. Nothing a client sends can throw into
 * the relay.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { RawData } from 'ws';

/** The path the relay serves signalling on. */
export const SIGNALLING_PATH = '/y-webrtc';

/** WebSocket close codes used (RFC 6455 §7.4.1). */
export const CloseCode = {
	goingAway: 1001,
	invalidPayload: 1007,
	policy: 1008,
	tooBig: 1009
} as const;

/** Options of {@link createSignallingServer}; every bound has a default. */
export interface SignallingInit {
	/** Request path served; default {@link SIGNALLING_PATH}. */
	path?: string;
	/** Largest message accepted, in bytes; default 64 KiB (a y-webrtc SDP offer is a few KiB). */
	maxMessageBytes?: number;
	/** Most topics one connection may be subscribed to; default 64. */
	maxTopicsPerConnection?: number;
	/** Longest topic name, in UTF-16 code units; default 512. */
	maxTopicLength?: number;
	/** Most connections at once (upgrades past it get 503); default 1024. */
	maxConnections?: number;
	/** Bytes queued to one client before it is dropped as not reading; default 1 MiB. */
	maxBufferedBytes?: number;
	/** Milliseconds between WebSocket pings; a socket that missed the last pong is terminated. Default 30,000. */
	pingIntervalMs?: number;
	/** Told about unexpected failures (never about what clients send); default `console.error`. */
	onError?: (error: unknown) => void;
	/** Asked before each upgrade: seconds to wait when the request's address is over its rate (429), else undefined. */
	admit?: (req: IncomingMessage) => number | undefined;
}

/** A running signalling service, attached to one or more HTTP(S) servers. */
export interface SignallingServer {
	/** Serves WebSocket upgrades on the signalling path of `server`. */
	attach(server: Server): void;
	/** Open signalling connections. */
	readonly connections: number;
	/** Topics with at least one subscriber. */
	readonly topics: number;
	/**
	 * Refuses new connections, closes open ones (1001) and stops the keepalive; detaches
	 * from every server. Resolves once every socket is closed (stragglers are terminated).
	 */
	close(): Promise<void>;
}

/** How long {@link SignallingServer.close} waits for closing handshakes before terminating. */
const CLOSE_GRACE_MS = 1000;

/** A connection's state. */
interface Client {
	topics: Set<string>;
	alive: boolean;
}

/** A socket closed with a code and a reason (a client's fault, not the relay's). */
class ClientFault extends Error {
	override name = 'ClientFault';
	constructor(
		readonly code: number,
		reason: string
	) {
		super(reason);
	}
}

/** Creates the signalling service; see the module comment. */
export function createSignallingServer(init: SignallingInit = {}): SignallingServer {
	const path = init.path ?? SIGNALLING_PATH;
	const maxMessageBytes = init.maxMessageBytes ?? 64 * 1024;
	const maxTopicsPerConnection = init.maxTopicsPerConnection ?? 64;
	const maxTopicLength = init.maxTopicLength ?? 512;
	const maxConnections = init.maxConnections ?? 1024;
	const maxBufferedBytes = init.maxBufferedBytes ?? 1024 * 1024;
	const onError = init.onError ?? ((error: unknown) => console.error('signalling:', error));

	// No compression: a small inflated bomb must not get past maxPayload's intent.
	const wss = new WebSocketServer({ noServer: true, maxPayload: maxMessageBytes, perMessageDeflate: false, clientTracking: false });
	const clients = new Map<WebSocket, Client>();
	const topics = new Map<string, Set<WebSocket>>();
	/** Sockets between the upgrade request and the open WebSocket (counted against the limit). */
	const upgrading = new Set<Duplex>();
	const attached = new Map<Server, (req: IncomingMessage, socket: Duplex, head: Buffer) => void>();
	let closed = false;

	const keepalive = setInterval(() => {
		for (const [ws, client] of clients) {
			if (!client.alive) {
				ws.terminate();
				continue;
			}
			client.alive = false;
			ws.ping();
		}
	}, init.pingIntervalMs ?? 30_000);
	keepalive.unref();

	function subscribe(ws: WebSocket, client: Client, names: string[]): void {
		const fresh = new Set(names.filter((name) => !client.topics.has(name)));
		if (client.topics.size + fresh.size > maxTopicsPerConnection) {
			throw new ClientFault(CloseCode.policy, `too many topics (at most ${maxTopicsPerConnection} per connection)`);
		}
		for (const name of fresh) {
			client.topics.add(name);
			let subscribers = topics.get(name);
			if (subscribers === undefined) topics.set(name, (subscribers = new Set()));
			subscribers.add(ws);
		}
	}

	function unsubscribe(ws: WebSocket, client: Client, names: Iterable<string>): void {
		for (const name of names) {
			client.topics.delete(name);
			const subscribers = topics.get(name);
			subscribers?.delete(ws);
			if (subscribers?.size === 0) topics.delete(name);
		}
	}

	function publish(message: Record<string, unknown> & { topic: string }): void {
		const subscribers = topics.get(message.topic);
		if (subscribers === undefined) return;
		const text = JSON.stringify({ ...message, clients: subscribers.size });
		for (const receiver of [...subscribers]) {
			if (receiver.readyState !== WebSocket.OPEN) continue;
			// A client that does not read would make the relay buffer for it without end.
			if (receiver.bufferedAmount > maxBufferedBytes) {
				receiver.terminate();
				continue;
			}
			receiver.send(text);
		}
	}

	function handle(ws: WebSocket, client: Client, data: RawData): void {
		const message = parseMessage(data);
		switch (message.type) {
			case 'subscribe':
				return subscribe(ws, client, topicList(message, maxTopicLength));
			case 'unsubscribe':
				return unsubscribe(ws, client, topicList(message, maxTopicLength));
			case 'publish': {
				const { topic } = message;
				if (typeof topic !== 'string' || !checkTopic(topic, maxTopicLength)) {
					throw new ClientFault(CloseCode.invalidPayload, 'publish needs a "topic" string');
				}
				if (!client.topics.has(topic)) return; // not its room: dropped, like an unknown type
				return publish({ ...message, topic });
			}
			case 'ping':
				if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'pong' }));
				return;
			default:
			// Unknown types are ignored, as y-webrtc's own server does.
		}
	}

	function onConnection(ws: WebSocket): void {
		const client: Client = { topics: new Set(), alive: true };
		clients.set(ws, client);
		ws.on('pong', () => (client.alive = true));
		ws.on('message', (data) => {
			if (ws.readyState !== WebSocket.OPEN) return; // closing: what follows is not read
			client.alive = true;
			try {
				handle(ws, client, data);
			} catch (error) {
				if (error instanceof ClientFault) ws.close(error.code, error.message);
				else {
					onError(error);
					ws.terminate();
				}
			}
		});
		// Protocol errors (a message over maxPayload, bad frames): ws closes the socket itself.
		ws.on('error', () => {});
		ws.on('close', () => {
			unsubscribe(ws, client, [...client.topics]);
			clients.delete(ws);
		});
	}

	function onUpgrade(server: Server, req: IncomingMessage, socket: Duplex, head: Buffer): void {
		if ((req.url ?? '').split('?', 1)[0] !== path) {
			// Another path: someone else's, unless nobody else listens (Node would then drop it).
			if (server.listenerCount('upgrade') <= 1) refuse(socket, 404, 'Not Found');
			return;
		}
		if (closed) return refuse(socket, 503, 'Service Unavailable');
		const wait = init.admit?.(req);
		if (wait !== undefined) return refuse(socket, 429, 'Too Many Requests', { 'Retry-After': String(wait) });
		if (clients.size + upgrading.size >= maxConnections) return refuse(socket, 503, 'Service Unavailable');
		upgrading.add(socket);
		socket.once('close', () => upgrading.delete(socket));
		socket.on('error', () => socket.destroy());
		try {
			wss.handleUpgrade(req, socket, head, (ws) => {
				upgrading.delete(socket);
				if (closed) ws.terminate();
				else onConnection(ws);
			});
		} catch (error) {
			onError(error);
			socket.destroy();
		}
	}

	return {
		attach(server) {
			if (closed || attached.has(server)) return;
			const listener = (req: IncomingMessage, socket: Duplex, head: Buffer) => onUpgrade(server, req, socket, head);
			attached.set(server, listener);
			server.on('upgrade', listener);
		},
		get connections() {
			return clients.size;
		},
		get topics() {
			return topics.size;
		},
		async close() {
			if (!closed) {
				closed = true;
				clearInterval(keepalive);
				for (const [server, listener] of attached) server.off('upgrade', listener);
				attached.clear();
				for (const socket of upgrading) socket.destroy();
			}
			const open = [...clients.keys()];
			await Promise.all(
				open.map(
					(ws) =>
						new Promise<void>((resolve) => {
							if (ws.readyState === WebSocket.CLOSED) return resolve();
							ws.once('close', () => resolve());
							const timer = setTimeout(() => ws.terminate(), CLOSE_GRACE_MS);
							ws.once('close', () => clearTimeout(timer));
							ws.close(CloseCode.goingAway, 'relay shutting down');
						})
				)
			);
			await new Promise<void>((resolve) => wss.close(() => resolve()));
		}
	};
}

/** A message as far as the relay needs to know it: a JSON object with a string `type`. */
type SignallingMessage = Record<string, unknown> & { type: string };

function parseMessage(data: RawData): SignallingMessage {
	const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(new Uint8Array(data));
	const text = bytes.toString('utf8');
	let value: unknown;
	try {
		value = JSON.parse(text);
	} catch {
		throw new ClientFault(CloseCode.invalidPayload, 'not JSON');
	}
	if (typeof value !== 'object' || value === null || Array.isArray(value) || typeof (value as { type?: unknown }).type !== 'string') {
		throw new ClientFault(CloseCode.invalidPayload, 'expected a JSON object with a "type" string');
	}
	return value as SignallingMessage;
}

/** The `topics` of a (un)subscribe: an array of topic names (missing means none, as in y-webrtc). */
function topicList(message: SignallingMessage, maxTopicLength: number): string[] {
	const { topics } = message;
	if (topics === undefined) return [];
	if (!Array.isArray(topics)) throw new ClientFault(CloseCode.invalidPayload, `${message.type} needs a "topics" array`);
	for (const topic of topics) {
		if (typeof topic !== 'string') throw new ClientFault(CloseCode.invalidPayload, 'topics must be strings');
		if (!checkTopic(topic, maxTopicLength)) {
			throw new ClientFault(CloseCode.policy, `topic names must be 1 to ${maxTopicLength} characters`);
		}
	}
	return topics as string[];
}

function checkTopic(topic: string, maxTopicLength: number): boolean {
	return topic.length > 0 && topic.length <= maxTopicLength;
}

/** Answers an upgrade request with an HTTP status and drops the socket. */
function refuse(socket: Duplex, status: number, text: string, headers: Record<string, string> = {}): void {
	if (!socket.writable) return void socket.destroy();
	socket.once('finish', () => socket.destroy());
	const extra = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('');
	socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\n${extra}Content-Length: 0\r\n\r\n`);
}
