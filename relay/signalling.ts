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
 * connection, topic names, connections (in all and per address, an IPv6 host counted by its
 * /64: rateLimit.ts `addressKey`) and messages per second per connection (a token bucket;
 * WebSocket pings and pongs count) are bounded; a message that is not JSON or has the wrong
 * shape closes that socket with code 1007 and a reason, a broken limit with 1008 (or 1009 for
 * a message too large); unknown message types are ignored. Every message the relay sends goes
 * through one check: a client that does not read (its send buffer past `maxBufferedBytes`) is
 * dropped rather than buffered for, and what it sends meanwhile does not count as a sign of
 * life. Sockets that stop answering WebSocket pings are terminated; a closing handshake left
 * unanswered is cut after a grace period. Nothing a client sends can throw into the relay.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { RawData } from 'ws';
import { addressKey } from './rateLimit.ts';

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
	/** Most connections at once from one address (an IPv6 /64; upgrades past it get 429); default 16. */
	maxConnectionsPerAddress?: number;
	/**
	 * Bytes queued to one client before it is dropped as not reading; default 256 KiB (so
	 * 1024 connections hold at most about 256 MiB of unsent frames).
	 */
	maxBufferedBytes?: number;
	/** Messages (and WebSocket pings and pongs) one connection may send per second, on average; default 50. */
	messagesPerSecond?: number;
	/** Messages one connection may send in a burst above that rate; default 200. */
	messageBurst?: number;
	/** Milliseconds between WebSocket pings; a socket that missed the last pong is terminated. Default 30,000. */
	pingIntervalMs?: number;
	/** Told about unexpected failures (never about what clients send); default `console.error`. */
	onError?: (error: unknown) => void;
	/** Where refusals past the per-address limit are logged, once per address until it drops below; default `console.log`. */
	log?: (line: string) => void;
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
	/** Messages it may still send now (token bucket), and when that was reckoned. */
	tokens: number;
	reckoned: number;
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
	const maxPerAddress = init.maxConnectionsPerAddress ?? 16;
	const maxBufferedBytes = init.maxBufferedBytes ?? 256 * 1024;
	const perSecond = init.messagesPerSecond ?? 50;
	const burst = init.messageBurst ?? 200;
	const onError = init.onError ?? ((error: unknown) => console.error('signalling:', error));
	const log = init.log ?? ((line: string) => console.log(line));

	// No compression: a small inflated bomb must not get past maxPayload's intent. (ws answers
	// WebSocket pings itself, and terminates a client with too many of its pongs unsent.)
	const wss = new WebSocketServer({ noServer: true, maxPayload: maxMessageBytes, perMessageDeflate: false, clientTracking: false });
	const clients = new Map<WebSocket, Client>();
	const topics = new Map<string, Set<WebSocket>>();
	/** Sockets between the upgrade request and the open WebSocket (counted against the limit). */
	const upgrading = new Set<Duplex>();
	/** Connections (open or upgrading) per address. */
	const perAddress = new Map<string, number>();
	/** Addresses whose refusal past the per-address limit was logged (until they drop below it). */
	const told = new Set<string>();
	const countAddress = (address: string, by: 1 | -1): void => {
		const n = (perAddress.get(address) ?? 0) + by;
		if (n > 0) perAddress.set(address, n);
		else perAddress.delete(address);
		if (n < maxPerAddress) told.delete(address);
	};
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

	/** Whether `ws` has more queued than a reading client would: it is not reading. */
	const backedUp = (ws: WebSocket): boolean => ws.bufferedAmount > maxBufferedBytes;

	/** Sends `text` to `ws`, or drops `ws` when it does not read: it would make the relay buffer for it without end. */
	function send(ws: WebSocket, text: string): void {
		if (ws.readyState !== WebSocket.OPEN) return;
		if (backedUp(ws)) return void ws.terminate();
		ws.send(text);
	}

	/** Takes one message from `client`'s bucket: false when it sends faster than the rate allows. */
	function withinRate(client: Client): boolean {
		const now = performance.now();
		client.tokens = Math.min(burst, client.tokens + ((now - client.reckoned) / 1000) * perSecond);
		client.reckoned = now;
		if (client.tokens < 1) return false;
		client.tokens--;
		return true;
	}

	/** Closes `ws` for a client's fault; one that does not read (so never answers the close) is cut at once, any other after a grace period. */
	function fault(ws: WebSocket, code: number, reason: string): void {
		if (ws.readyState !== WebSocket.OPEN) return;
		if (backedUp(ws)) return void ws.terminate();
		ws.close(code, reason);
		const timer = setTimeout(() => ws.terminate(), CLOSE_GRACE_MS);
		ws.once('close', () => clearTimeout(timer));
	}

	function publish(message: Record<string, unknown> & { topic: string }): void {
		const subscribers = topics.get(message.topic);
		if (subscribers === undefined) return;
		const text = JSON.stringify({ ...message, clients: subscribers.size });
		for (const receiver of [...subscribers]) send(receiver, text);
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
				return send(ws, PONG);
			default:
			// Unknown types are ignored, as y-webrtc's own server does.
		}
	}

	/** Serves an open WebSocket, counted under `address` ({@link addressKey}) until it closes. */
	function onConnection(ws: WebSocket, address: string): void {
		const client: Client = { topics: new Set(), alive: true, tokens: burst, reckoned: performance.now() };
		clients.set(ws, client);
		/** Counts a frame from the client; false (the socket closing) when it is over its rate or closing already. */
		const take = (): boolean => {
			if (ws.readyState !== WebSocket.OPEN) return false; // closing: what follows is not read
			if (withinRate(client)) {
				// A client that does not read its answers is not alive, whatever it sends.
				if (!backedUp(ws)) client.alive = true;
				return true;
			}
			fault(ws, CloseCode.policy, `too many messages (at most ${perSecond} a second)`);
			return false;
		};
		ws.on('pong', () => take());
		ws.on('ping', () => take());
		ws.on('message', (data) => {
			if (!take()) return;
			try {
				handle(ws, client, data);
			} catch (error) {
				if (error instanceof ClientFault) fault(ws, error.code, error.message);
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
			countAddress(address, -1);
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
		if (clients.size + upgrading.size >= maxConnections) return refuse(socket, 503, 'Service Unavailable', {}, 'the relay has no signalling connections free: try again later');
		const address = addressKey(req.socket.remoteAddress ?? 'unknown');
		if ((perAddress.get(address) ?? 0) >= maxPerAddress) {
			if (!told.has(address)) log(`Signalling connections from ${address} are at ${maxPerAddress} at once; refusing more until one closes`);
			told.add(address);
			return refuse(socket, 429, 'Too Many Requests', {}, `too many signalling connections from your address (at most ${maxPerAddress} at once)`);
		}
		// Counted from here until the socket closes, whether or not the upgrade completes.
		countAddress(address, 1);
		upgrading.add(socket);
		let opened = false;
		socket.once('close', () => {
			upgrading.delete(socket);
			if (!opened) countAddress(address, -1);
		});
		socket.on('error', () => socket.destroy());
		try {
			wss.handleUpgrade(req, socket, head, (ws) => {
				upgrading.delete(socket);
				opened = true;
				if (closed) {
					countAddress(address, -1);
					ws.terminate();
				} else onConnection(ws, address);
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

/** The answer to a `{type: 'ping'}` message. */
const PONG = JSON.stringify({ type: 'pong' });

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

/** Answers an upgrade request with an HTTP status (and a plain-text `body` saying why) and drops the socket. */
function refuse(socket: Duplex, status: number, text: string, headers: Record<string, string> = {}, body = ''): void {
	if (!socket.writable) return void socket.destroy();
	socket.once('finish', () => socket.destroy());
	const extra = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('');
	const type = body === '' ? '' : 'Content-Type: text/plain; charset=utf-8\r\n';
	socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\n${extra}${type}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}
