/**
 * y-webrtc signalling on the relay (`/y-webrtc`): the protocol with raw `ws` clients, hostile
 * input, the bounds (connections in all and per address, messages per second, a client that
 * floods without reading), shutdown, both listeners of a secure relay, and a real y-webrtc
 * `WebrtcProvider` (in Node: signalling only, no WebRTC peers) announcing itself through it.
 */
import '../src/lib/mesh/polyfills.node.ts'; // before anything that loads libp2p
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as decoding from 'lib0/decoding';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { ClientOptions } from 'ws';
import { WebrtcProvider } from 'y-webrtc';
import * as Y from 'yjs';
import { runRelay } from './run.ts';
import type { RunningRelay } from './run.ts';
import { startRelay } from './server.ts';
import type { Relay, RelayInit } from './server.ts';
import { CloseCode, createSignallingServer, SIGNALLING_PATH } from './signalling.ts';
import type { SignallingInit, SignallingServer } from './signalling.ts';
import { waitUntil } from './teamFixture.ts';

/** A raw signalling client that records what it receives. */
interface RawClient {
	ws: WebSocket;
	received: Record<string, unknown>[];
	/** Resolves with the close code and reason. */
	closed: Promise<{ code: number; reason: string }>;
	send(message: unknown): void;
	/** The first received message (already or later) that matches, or a timeout error. */
	next(match: (m: Record<string, unknown>) => boolean, ms?: number): Promise<Record<string, unknown>>;
	/** Pings and waits for the pong: everything the relay sent this client before it has arrived. */
	flush(): Promise<void>;
}

const clients: RawClient[] = [];

function connect(url: string, options?: ClientOptions): Promise<RawClient> {
	const ws = new WebSocket(url, options);
	const received: Record<string, unknown>[] = [];
	const waiters = new Set<() => void>();
	ws.on('message', (data) => {
		received.push(JSON.parse(String(data)) as Record<string, unknown>);
		for (const wake of [...waiters]) wake();
	});
	const closed = new Promise<{ code: number; reason: string }>((resolve) =>
		ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }))
	);
	const client: RawClient = {
		ws,
		received,
		closed,
		send: (message) => ws.send(typeof message === 'string' ? message : JSON.stringify(message)),
		next(match, ms = 5000) {
			return new Promise((resolve, reject) => {
				const check = () => {
					const found = received.find(match);
					if (found === undefined) return;
					waiters.delete(check);
					clearTimeout(timer);
					resolve(found);
				};
				const timer = setTimeout(() => {
					waiters.delete(check);
					reject(new Error(`no matching message within ${ms} ms; got ${JSON.stringify(received)}`));
				}, ms);
				waiters.add(check);
				check();
			});
		},
		async flush() {
			const pongs = received.filter((m) => m.type === 'pong').length;
			client.send({ type: 'ping' });
			await client.next(() => received.filter((m) => m.type === 'pong').length > pongs);
		}
	};
	clients.push(client);
	return new Promise((resolve, reject) => {
		ws.once('open', () => resolve(client));
		ws.once('error', reject);
		ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
	});
}

const publishes = (client: RawClient, topic: string) => client.received.filter((m) => m.type === 'publish' && m.topic === topic);

let tmp: string;
let root: string;

beforeAll(async () => {
	tmp = await mkdtemp(join(tmpdir(), 'outpost-signalling-'));
	root = join(tmp, 'build');
	await mkdir(root, { recursive: true });
	await writeFile(join(root, 'index.html'), '<!doctype html><title>home</title>');
});

afterAll(async () => {
	await rm(tmp, { recursive: true, force: true });
});

afterEach(() => {
	for (const client of clients.splice(0)) client.ws.terminate();
});

/** The whole relay on 127.0.0.1, as run.test.ts starts it. */
function startWholeRelay(name: string, secure = false): Promise<RunningRelay> {
	return runRelay({ root, dataDir: join(tmp, name), host: '127.0.0.1', port: 0, mdns: false, lanIps: [], log: () => {}, secure });
}

const wsUrl = (httpUrl: string) => `${httpUrl.replace(/^http/, 'ws')}${SIGNALLING_PATH}`;

describe('the signalling protocol (raw ws clients)', () => {
	let relay: RunningRelay;
	let url: string;

	beforeAll(async () => {
		relay = await startWholeRelay('protocol');
		url = wsUrl(relay.server.url);
	}, 15_000);

	afterAll(async () => {
		await relay?.close();
	}, 15_000);

	it('forwards a publish to every subscriber of its topic, sender included, with the clients count', async () => {
		const [a, b, other] = await Promise.all([connect(url), connect(url), connect(url)]);
		a.send({ type: 'subscribe', topics: ['room-1'] });
		b.send({ type: 'subscribe', topics: ['room-1', 'room-x'] });
		other.send({ type: 'subscribe', topics: ['room-2'] });
		await Promise.all([a.flush(), b.flush(), other.flush()]);

		a.send({ type: 'publish', topic: 'room-1', data: { type: 'announce', from: 'a' } });
		const expected = { type: 'publish', topic: 'room-1', data: { type: 'announce', from: 'a' }, clients: 2 };
		expect(await b.next((m) => m.type === 'publish')).toEqual(expected);
		expect(await a.next((m) => m.type === 'publish')).toEqual(expected);
		await other.flush();
		expect(publishes(other, 'room-1')).toEqual([]);

		// A client publishes only to a topic it joined: a stranger naming room-x reaches nobody.
		other.send({ type: 'publish', topic: 'room-x', data: 'injected' });
		b.send({ type: 'publish', topic: 'room-x', data: 'hi' });
		expect(await b.next((m) => m.topic === 'room-x')).toEqual({ type: 'publish', topic: 'room-x', data: 'hi', clients: 1 });
		await Promise.all([a.flush(), b.flush(), other.flush()]);
		expect(publishes(b, 'room-x').map((m) => m.data)).toEqual(['hi']);
		expect(publishes(a, 'room-x')).toEqual([]);
		expect(publishes(other, 'room-x')).toEqual([]);
	});

	it('unsubscribe and a closed socket leave the topic; the count follows', async () => {
		const [a, b, c] = await Promise.all([connect(url), connect(url), connect(url)]);
		for (const client of [a, b, c]) client.send({ type: 'subscribe', topics: ['room-u'] });
		await Promise.all([a.flush(), b.flush(), c.flush()]);
		a.send({ type: 'publish', topic: 'room-u', data: 1 });
		expect((await a.next((m) => m.data === 1)).clients).toBe(3);

		b.send({ type: 'unsubscribe', topics: ['room-u'] });
		await b.flush();
		c.ws.close();
		await c.closed;
		a.send({ type: 'publish', topic: 'room-u', data: 2 });
		expect((await a.next((m) => m.data === 2)).clients).toBe(1);
		await b.flush();
		expect(publishes(b, 'room-u').map((m) => m.data)).toEqual([1]);
	});

	it('answers ping with pong, takes binary frames too, and ignores unknown types', async () => {
		const a = await connect(url);
		a.send({ type: 'ping' });
		expect(await a.next((m) => m.type === 'pong')).toEqual({ type: 'pong' });
		a.ws.send(Buffer.from(JSON.stringify({ type: 'subscribe', topics: ['room-bin'] })), { binary: true });
		a.send({ type: 'something-new', topics: 42 });
		a.send({ type: 'publish', topic: 'room-bin', data: 'b' });
		expect(await a.next((m) => m.topic === 'room-bin')).toMatchObject({ data: 'b', clients: 1 });
		expect(a.ws.readyState).toBe(WebSocket.OPEN);
	});

	it.each([
		['not JSON', 'hello {', CloseCode.invalidPayload],
		['a JSON array', '[1,2]', CloseCode.invalidPayload],
		['a JSON string', '"subscribe"', CloseCode.invalidPayload],
		['JSON null', 'null', CloseCode.invalidPayload],
		['an object without type', '{"topics":["a"]}', CloseCode.invalidPayload],
		['a numeric type', '{"type":1}', CloseCode.invalidPayload],
		['topics that are not an array', '{"type":"subscribe","topics":"room"}', CloseCode.invalidPayload],
		['a topic that is not a string', '{"type":"subscribe","topics":[{"a":1}]}', CloseCode.invalidPayload],
		['an empty topic', '{"type":"subscribe","topics":[""]}', CloseCode.policy],
		['a topic name over the limit', JSON.stringify({ type: 'subscribe', topics: ['t'.repeat(513)] }), CloseCode.policy],
		['a publish without a topic', '{"type":"publish","data":1}', CloseCode.invalidPayload],
		['a publish with a numeric topic', '{"type":"publish","topic":7}', CloseCode.invalidPayload]
	])('closes a socket that sends %s, and serves everyone else', async (_what, text, code) => {
		const [bad, good] = await Promise.all([connect(url), connect(url)]);
		bad.send(text);
		const closed = await bad.closed;
		expect(closed.code).toBe(code);
		expect(closed.reason).not.toBe('');
		await good.flush();
	});

	it('closes a socket that sends a message over 64 KiB (1009)', async () => {
		const [bad, good] = await Promise.all([connect(url), connect(url)]);
		bad.send({ type: 'publish', topic: 'room-big', data: 'x'.repeat(70 * 1024) });
		expect((await bad.closed).code).toBe(CloseCode.tooBig);
		await good.flush();
	});

	it('takes 64 topics per connection and closes one that asks for more, whole or in parts', async () => {
		const topics = (from: number, n: number) => Array.from({ length: n }, (_, i) => `many-${from + i}`);
		const [whole, parts] = await Promise.all([connect(url), connect(url)]);
		whole.send({ type: 'subscribe', topics: topics(0, 65) });
		expect(await whole.closed).toEqual({ code: CloseCode.policy, reason: 'too many topics (at most 64 per connection)' });

		parts.send({ type: 'subscribe', topics: topics(0, 40) });
		parts.send({ type: 'subscribe', topics: topics(20, 44) }); // 64 in all: fine
		parts.send({ type: 'unsubscribe', topics: topics(0, 1) });
		parts.send({ type: 'subscribe', topics: topics(0, 1) }); // back to 64
		await parts.flush();
		parts.send({ type: 'publish', topic: 'many-63', data: 'p' });
		expect(await parts.next((m) => m.data === 'p')).toMatchObject({ clients: 1 });
		parts.send({ type: 'subscribe', topics: ['one-more'] });
		expect((await parts.closed).code).toBe(CloseCode.policy);
	});

	it('refuses upgrades on other paths and leaves plain HTTP alone', async () => {
		await expect(connect(`${relay.server.url.replace('http', 'ws')}/elsewhere`)).rejects.toThrow('HTTP 404');
		expect((await fetch(`${relay.server.url}/`)).status).toBe(200);
	});
});

describe('bounds and lifecycle', () => {
	const relays: Relay[] = [];

	afterEach(async () => {
		for (const relay of relays.splice(0)) await relay.close();
	});

	async function start(signalling: RelayInit['signalling']): Promise<string> {
		const relay = await startRelay({ root, host: '127.0.0.1', port: 0, signalling });
		relays.push(relay);
		return wsUrl(relay.url);
	}

	it('refuses connections past the limit with 503 and takes them again once one leaves', async () => {
		const url = await start({ maxConnections: 2 });
		const [a] = await Promise.all([connect(url), connect(url)]);
		await expect(connect(url)).rejects.toThrow('HTTP 503');
		a!.ws.close();
		await a!.closed;
		await (await connect(url)).flush();
	});

	it('terminates a socket that stops answering pings and keeps one that answers', async () => {
		const url = await start({ pingIntervalMs: 250 });
		const [silent, lively] = await Promise.all([connect(url, { autoPong: false }), connect(url)]);
		const closed = await silent.closed;
		expect(closed.code).toBe(1006); // terminated: no closing handshake
		expect(lively.ws.readyState).toBe(WebSocket.OPEN);
		await lively.flush();
	});

	it('refuses a fifth connection from one address (429, logged once) while slots are free, and takes it once one leaves', async () => {
		const logged: string[] = [];
		const relay = await startRelay({ root, host: '127.0.0.1', port: 0, log: (line) => logged.push(line), signalling: { maxConnections: 8, maxConnectionsPerAddress: 4 } });
		relays.push(relay);
		const url = wsUrl(relay.url);
		const four = await Promise.all([connect(url), connect(url), connect(url), connect(url)]);
		await expect(connect(url)).rejects.toThrow('HTTP 429');
		await expect(connect(url)).rejects.toThrow('HTTP 429');
		expect(logged.filter((line) => line.includes('at 4 at once'))).toHaveLength(1);
		four[0]!.ws.close();
		await four[0]!.closed;
		await waitUntil(async () => (await connect(url).then(() => true, () => false)), 'a slot for the address again', 5000);
	});

	it('closes a client that sends more than its rate of messages (1008)', async () => {
		const url = await start({ messagesPerSecond: 50, messageBurst: 100 });
		const [flood, calm] = await Promise.all([connect(url), connect(url)]);
		for (let i = 0; i < 1000; i++) flood.send({ type: 'ping' });
		expect(await flood.closed).toEqual({ code: CloseCode.policy, reason: 'too many messages (at most 50 a second)' });
		expect(flood.received.length).toBeLessThanOrEqual(100);
		await calm.flush();
	});

	it('serves nothing with signalling: false', async () => {
		const url = await start(false);
		await expect(connect(url)).rejects.toThrow();
	});

	it('closing the relay closes signalling sockets with 1001 and does not wait for them', async () => {
		const relay = await startRelay({ root, host: '127.0.0.1', port: 0 });
		const a = await connect(wsUrl(relay.url));
		a.send({ type: 'subscribe', topics: ['room'] });
		await a.flush();
		const started = Date.now();
		await relay.close();
		expect(await a.closed).toEqual({ code: CloseCode.goingAway, reason: 'relay shutting down' });
		expect(Date.now() - started).toBeLessThan(2000);
	});

	it('a client that never finishes its close handshake is cut after a grace period', async () => {
		const relay = await startRelay({ root, host: '127.0.0.1', port: 0 });
		const a = await connect(wsUrl(relay.url));
		await a.flush();
		a.ws.pause(); // reads nothing more, so never answers the close frame
		const started = Date.now();
		await relay.close();
		expect(Date.now() - started).toBeLessThan(3000);
	});
});

describe('a client that floods without reading', () => {
	const started: { server: ReturnType<typeof createServer>; signalling: SignallingServer }[] = [];

	afterEach(async () => {
		for (const { server, signalling } of started.splice(0)) {
			await signalling.close();
			await new Promise((resolve) => server.close(resolve));
		}
	});

	/** Signalling alone on 127.0.0.1, to watch its connections. */
	async function serve(init: SignallingInit): Promise<{ port: number; signalling: SignallingServer }> {
		const server = createServer((_req, res) => res.end());
		const signalling = createSignallingServer(init);
		signalling.attach(server);
		started.push({ server, signalling });
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		return { port: (server.address() as AddressInfo).port, signalling };
	}

	/**
	 * A raw WebSocket client that never reads after the handshake and sends `{type:'ping'}`
	 * messages (and WebSocket pings, with `control`) as fast as the socket takes them, up to
	 * `limit` bytes; resolves with the bytes it got out once the relay closed it, or the limit.
	 */
	function flood(port: number, limit: number, control = false): Promise<{ sent: number; closedByRelay: boolean }> {
		return new Promise((resolve) => {
			const socket = net.connect(port, '127.0.0.1');
			let sent = 0;
			let done = false;
			const finish = (closedByRelay: boolean) => {
				if (done) return;
				done = true;
				socket.destroy();
				resolve({ sent, closedByRelay });
			};
			socket.on('error', () => finish(true));
			socket.on('close', () => finish(true));
			socket.write(
				`GET ${SIGNALLING_PATH} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
					`Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`
			);
			socket.once('data', () => {
				socket.pause(); // never reads again: whatever the relay answers piles up
				const payload = Buffer.from('{"type":"ping"}');
				// Masked frames with a zero key (the payload as it is): a text message, or a WebSocket ping.
				const frame = (opcode: number) => Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | payload.length, 0, 0, 0, 0]), payload]);
				const batch = Buffer.concat(Array.from({ length: 4096 }, () => frame(control ? 0x9 : 0x1)));
				// Bounded in time too: a relay that takes the flood as fast as it comes is still cut off here.
				const deadline = Date.now() + 15_000;
				const pump = (): void => {
					while (!done && sent < limit && Date.now() < deadline) {
						sent += batch.length;
						if (!socket.write(batch)) return void socket.once('drain', pump);
					}
					if (!done) finish(false);
				};
				pump();
			});
		});
	}

	const LIMIT = 64 * 1024 * 1024;

	it.each([
		['messages', false],
		['WebSocket pings', true]
	])('is dropped once its unread answers pass the bound, with %s, long before its flood ends', async (_what, control) => {
		// No message rate here: the send bound alone must stop it.
		const { port, signalling } = await serve({ messagesPerSecond: 1e9, messageBurst: 1e9, maxBufferedBytes: 64 * 1024 });
		const { sent, closedByRelay } = await flood(port, LIMIT, control);
		expect(closedByRelay).toBe(true);
		expect(sent).toBeLessThan(LIMIT);
		await waitUntil(() => signalling.connections === 0, 'the relay to drop the connection');
	});

	it('is dropped with the default bounds (the rate and the send bound; the rate alone: the 1008 test above)', async () => {
		const { port, signalling } = await serve({});
		// The relay closes at the rate, then lets a close handshake run 1 s, taking (and dropping)
		// what still comes: on a loaded machine that can be the whole 64 MiB, so the flood here is
		// bounded by time and size far above it, and the close is what counts.
		const { closedByRelay } = await flood(port, 16 * LIMIT);
		expect(closedByRelay).toBe(true);
		await waitUntil(() => signalling.connections === 0, 'the relay to drop the connection');
	});
});

describe('a secure relay', () => {
	let relay: RunningRelay;

	beforeAll(async () => {
		relay = await startWholeRelay('secure', true);
	}, 15_000);

	afterAll(async () => {
		await relay?.close();
	}, 15_000);

	it('offers signalling on wss and on its plain loopback listener, as one service', async () => {
		const secure = await connect(wsUrl(relay.server.url), { ca: relay.certificate?.cert });
		const local = await connect(wsUrl(relay.server.httpUrl!));
		secure.send({ type: 'subscribe', topics: ['both'] });
		local.send({ type: 'subscribe', topics: ['both'] });
		await Promise.all([secure.flush(), local.flush()]);
		local.send({ type: 'publish', topic: 'both', data: 'across listeners' });
		expect(await secure.next((m) => m.topic === 'both')).toMatchObject({ data: 'across listeners', clients: 2 });
	});
});

describe('the real y-webrtc client', () => {
	let relay: RunningRelay;
	let url: string;
	const providers: WebrtcProvider[] = [];
	const g = globalThis as { WebSocket?: unknown };
	const originalWebSocket = g.WebSocket;

	beforeAll(async () => {
		relay = await startWholeRelay('y-webrtc');
		url = wsUrl(relay.server.url);
		g.WebSocket = WebSocket; // lib0's client dials with the global WebSocket (Node 20 has none)
	}, 15_000);

	afterAll(async () => {
		for (const provider of providers.splice(0)) provider.destroy();
		g.WebSocket = originalWebSocket;
		await relay?.close();
	}, 15_000);

	function provider(room: string, password?: string): WebrtcProvider {
		const p = new WebrtcProvider(room, new Y.Doc(), {
			signaling: [url],
			...(password !== undefined ? { password } : {}),
			peerOpts: { config: { iceServers: [] } }
		});
		providers.push(p);
		return p;
	}

	it('announces itself, encrypted with the room password, on the room topic', async () => {
		const room = `pw-room-${Date.now()}`;
		const observer = await connect(url);
		observer.send({ type: 'subscribe', topics: [room] });
		await observer.flush();
		const p = provider(room, 'correct horse');
		const message = await observer.next((m) => m.topic === room);
		expect(message).toMatchObject({ type: 'publish', topic: room, clients: 2 });
		expect(typeof message.data).toBe('string');
		const key = await p.key;
		expect(key).not.toBeNull();
		const announce = await decryptJson(Buffer.from(message.data as string, 'base64'), key!);
		expect(announce).toEqual({ type: 'announce', from: p.room!.peerId });
	});

	it('announces in the clear without a password, receives publishes, and unsubscribes when destroyed', async () => {
		const room = `open-room-${Date.now()}`;
		const observer = await connect(url);
		observer.send({ type: 'subscribe', topics: [room] });
		await observer.flush();
		const p = provider(room);
		const announce = await observer.next((m) => m.topic === room);
		expect(announce).toEqual({ type: 'publish', topic: room, data: { type: 'announce', from: p.room!.peerId }, clients: 2 });

		// The relay's forwards reach the client: y-webrtc ignores this type, its socket hears it.
		const conn = p.signalingConns[0]!;
		expect(conn.connected).toBe(true);
		const heard = new Promise<unknown>((resolve) =>
			conn.on('message', (m: { type?: string; data?: { from?: string } }) => {
				if (m.type === 'publish' && m.data?.from === 'observer') resolve(m);
			})
		);
		observer.send({ type: 'publish', topic: room, data: { type: 'from-test', from: 'observer' } });
		expect(await heard).toEqual({ type: 'publish', topic: room, data: { type: 'from-test', from: 'observer' }, clients: 2 });

		p.destroy();
		await new Promise((resolve) => setTimeout(resolve, 200));
		observer.send({ type: 'publish', topic: room, data: 'after' });
		expect((await observer.next((m) => m.data === 'after')).clients).toBe(1);
	});
});

/** y-webrtc's `decryptJson` (src/crypto.js, not exported by the package): AES-GCM, lib0 framing. */
async function decryptJson(data: Uint8Array, key: CryptoKey): Promise<unknown> {
	const decoder = decoding.createDecoder(data);
	expect(decoding.readVarString(decoder)).toBe('AES-GCM');
	const iv = decoding.readVarUint8Array(decoder) as Uint8Array<ArrayBuffer>;
	const cipher = decoding.readVarUint8Array(decoder) as Uint8Array<ArrayBuffer>;
	const plain = new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv }, key, cipher));
	return decoding.readAny(decoding.createDecoder(plain));
}
