/**
 * The relay's HTTP(S) server: the static app, and `/.well-known/outpost.json`, which
 * tells the app the relay's peer id and the WebSocket multiaddrs a browser can dial.
 * With a certificate it serves HTTPS (a LAN address is a secure context only over
 * HTTPS; service workers and WebGPU need one) and, optionally, the same over plain HTTP
 * on 127.0.0.1, so `http://localhost` keeps working without a certificate warning.
 * Every listener also offers y-webrtc signalling on `/y-webrtc` (signalling.ts).
 *
 * A request must arrive whole within {@link REQUEST_TIMEOUT_MS} (its headers within
 * {@link HEADERS_TIMEOUT_MS}), so a client that stalls mid-upload holds its connection only
 * that long. A client that goes away mid-answer is not a failure of the relay: nothing is
 * reported.
 */
import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { isModelFilesPath } from './models.ts';
import { admitRequest, admitUpgrade, DEFAULT_REQUESTS_PER_MINUTE, RateLimiter } from './rateLimit.ts';
import { createSignallingServer } from './signalling.ts';
import type { SignallingInit } from './signalling.ts';
import { clientGone } from './json.ts';
import { SECURITY_HEADERS, createStaticHandler } from './static.ts';
import type { RequestHandler } from './static.ts';
import type { Tls } from './tls.ts';

/** Milliseconds a client has to send a whole request (headers and body; Node's default is 300 s). */
export const REQUEST_TIMEOUT_MS = 30_000;
/** Milliseconds a client has to send a request's headers (Node's default is 60 s). */
export const HEADERS_TIMEOUT_MS = 10_000;

/** Path of the relay's self-description. */
export const WELL_KNOWN_PATH = '/.well-known/outpost.json';

/** What `GET /.well-known/outpost.json` answers. */
export interface RelayInfo {
	/** The relay's libp2p peer id. */
	peerId: string;
	/** WebSocket multiaddrs (`/ws`, `/tls/ws`), each ending in `/p2p/<peerId>`. */
	multiaddrs: string[];
	/** URLs of the app on the LAN, for invite links made on `localhost`. */
	urls?: string[];
}

/** Options of {@link startRelay}. */
export interface RelayInit {
	/** Directory of the static build to serve. */
	root: string;
	/** Address to listen on; `undefined` listens on every interface. */
	host?: string;
	/** Port to listen on; 0 picks a free port. */
	port: number;
	/** Serve HTTPS with this key and certificate instead of plain HTTP. */
	tls?: Tls;
	/**
	 * With `tls`: also serve plain HTTP on 127.0.0.1 on this port (0 picks a free one).
	 * Ignored without `tls`.
	 */
	httpPort?: number;
	/** The relay's self-description; `/.well-known/outpost.json` is 404 without it. */
	info?: () => RelayInfo;
	/** Handles every request under `/api/` (api.ts); without it they reach the static files. */
	api?: RequestHandler;
	/** Handles model files and the wllama runtime (`/models/…`, `/wllama/…`, models.ts). */
	models?: RequestHandler;
	/** Handles the OpenAI-compatible API under `/v1/` (openai.ts); without it they reach the static files. */
	openai?: RequestHandler;
	/** Where unexpected request failures are reported (default: `console.error`). */
	onError?: (error: unknown) => void;
	/**
	 * Requests per address per minute on `/api/` and `/v1/` and signalling upgrades
	 * (rateLimit.ts); default {@link DEFAULT_REQUESTS_PER_MINUTE}.
	 */
	requestsPerMinute?: number;
	/** Where refusals over the rate are logged (once per address and minute); default `console.log`. */
	log?: (line: string) => void;
	/**
	 * y-webrtc signalling (signalling.ts) on `/y-webrtc` of every listener, with these
	 * bounds; `false` serves none. Default: served, with the default bounds.
	 */
	signalling?: SignallingInit | false;
}

/** A running relay server. */
export interface Relay {
	/** Base URL that reaches the main listener from this machine, without a trailing slash. */
	url: string;
	/** The port actually listened on (useful with port 0). */
	port: number;
	/** Whether the main listener speaks HTTPS. */
	https: boolean;
	/** Base URL of the plain-HTTP listener on 127.0.0.1, when there is one. */
	httpUrl?: string;
	/** Stops accepting connections, drops idle and open ones, and resolves when closed. */
	close(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** Starts the relay's server(s) and resolves once they are listening. */
export async function startRelay(init: RelayInit): Promise<Relay> {
	const serveStatic = createStaticHandler({ root: init.root });
	const onError = init.onError ?? ((error: unknown) => console.error('relay:', error));
	const log = init.log ?? ((line: string) => console.log(line));
	const limiter = new RateLimiter(init.requestsPerMinute ?? DEFAULT_REQUESTS_PER_MINUTE);

	const handler: Handler = (req, res) => {
		const path = (req.url ?? '').split('?', 1)[0]!;
		if (init.info !== undefined && path === WELL_KNOWN_PATH) {
			sendInfo(req, res, init.info());
			return;
		}
		const limited = path.startsWith('/api/') || path.startsWith('/v1/');
		if (limited && !admitRequest(limiter, req, res, log)) return;
		const serve =
			init.api !== undefined && path.startsWith('/api/')
				? init.api
				: init.models !== undefined && isModelFilesPath(path)
					? init.models
					: init.openai !== undefined && path.startsWith('/v1/')
						? init.openai
						: serveStatic;
		serve(req, res).catch((error: unknown) => {
			if (res.headersSent || clientGone(res, error)) {
				// The client went away mid-download, or the file vanished: nothing to tell it.
				res.destroy();
				return;
			}
			onError(error);
			res.statusCode = 500;
			res.end();
		});
	};

	const servers: Server[] = [];
	const signalling =
		init.signalling === false ? undefined : createSignallingServer({ onError, log, admit: (req) => admitUpgrade(limiter, req, log), ...init.signalling });
	// Upgraded sockets are not the HTTP server's to close: signalling closes its own first.
	const closeAll = async () => {
		await signalling?.close();
		await Promise.all(servers.map(closeServer));
	};
	try {
		// Checked every 5 s (Node's default, 30 s, would let a stalled request live twice as long).
		const timeouts = { requestTimeout: REQUEST_TIMEOUT_MS, headersTimeout: HEADERS_TIMEOUT_MS, connectionsCheckingInterval: 5_000 };
		const main = init.tls ? createHttpsServer({ key: init.tls.key, cert: init.tls.cert, ...timeouts }, handler) : createHttpServer(timeouts, handler);
		servers.push(main);
		signalling?.attach(main);
		const port = await listen(main, init.port, init.host);
		let httpUrl: string | undefined;
		if (init.tls && init.httpPort !== undefined) {
			const local = createHttpServer(timeouts, handler);
			servers.push(local);
			signalling?.attach(local);
			httpUrl = `http://127.0.0.1:${await listen(local, init.httpPort, '127.0.0.1')}`;
		}
		return {
			url: `${init.tls ? 'https' : 'http'}://${urlHost(init.host)}:${port}`,
			port,
			https: init.tls !== undefined,
			...(httpUrl !== undefined ? { httpUrl } : {}),
			close: closeAll
		};
	} catch (error) {
		await closeAll().catch(() => undefined);
		throw error;
	}
}

function sendInfo(req: IncomingMessage, res: ServerResponse, info: RelayInfo): void {
	for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
	if (req.method !== 'GET' && req.method !== 'HEAD') {
		res.setHeader('Allow', 'GET, HEAD');
		res.statusCode = 405;
		res.end();
		return;
	}
	const body = JSON.stringify(info);
	res.statusCode = 200;
	res.setHeader('Content-Type', 'application/json; charset=utf-8');
	// Addresses change when the relay restarts on other ports: never cache them.
	res.setHeader('Cache-Control', 'no-store');
	res.setHeader('Content-Length', Buffer.byteLength(body));
	res.end(req.method === 'HEAD' ? undefined : body);
}

function listen(server: Server, port: number, host: string | undefined): Promise<number> {
	return new Promise<number>((resolve, reject) => {
		server.once('error', reject);
		server.listen(port, host, () => {
			server.off('error', reject);
			resolve((server.address() as AddressInfo).port);
		});
	});
}

function closeServer(server: Server): Promise<void> {
	if (!server.listening) return Promise.resolve();
	return new Promise<void>((resolve, reject) => {
		server.close((error) => (error ? reject(error) : resolve()));
		server.closeAllConnections();
	});
}

/** The host part of a URL for a listen address; wildcard addresses become `localhost`. */
export function urlHost(host: string | undefined): string {
	if (host === undefined || host === '' || host === '0.0.0.0' || host === '::') return 'localhost';
	return host.includes(':') ? `[${host}]` : host;
}

/** Whether a listen address is a loopback one (the relay then speaks plain HTTP only). */
export function isLoopbackHost(host: string | undefined): boolean {
	if (host === undefined) return false;
	return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
