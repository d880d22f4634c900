/**
 * The relay's HTTP server. For now it serves the static app; the mesh issue adds HTTPS
 * (a generated LAN certificate, since service workers and WebGPU need a secure context)
 * and the libp2p endpoints next to it.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createStaticHandler } from './static.ts';

/** Options of {@link startRelay}. */
export interface RelayInit {
	/** Directory of the static build to serve. */
	root: string;
	/** Address to listen on; `undefined` listens on every interface. */
	host?: string;
	/** Port to listen on; 0 picks a free port. */
	port: number;
	/** Where unexpected request failures are reported (default: `console.error`). */
	onError?: (error: unknown) => void;
}

/** A running relay. */
export interface Relay {
	/** Base URL that reaches the server from this machine, without a trailing slash. */
	url: string;
	/** The port actually listened on (useful with port 0). */
	port: number;
	/** Stops accepting connections, drops idle and open ones, and resolves when closed. */
	close(): Promise<void>;
}

/** Starts the relay's server and resolves once it is listening. */
export async function startRelay(init: RelayInit): Promise<Relay> {
	const serveStatic = createStaticHandler({ root: init.root });
	const onError = init.onError ?? ((error: unknown) => console.error('relay:', error));

	const server = createServer((req, res) => {
		serveStatic(req, res).catch((error: unknown) => {
			if (res.headersSent) {
				// The client went away mid-download, or the file vanished: nothing to tell it.
				res.destroy();
				return;
			}
			onError(error);
			res.statusCode = 500;
			res.end();
		});
	});

	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(init.port, init.host, () => {
			server.off('error', reject);
			resolve();
		});
	});

	const { port } = server.address() as AddressInfo;
	return {
		url: `http://${urlHost(init.host)}:${port}`,
		port,
		close: () =>
			new Promise<void>((resolve, reject) => {
				server.close((error) => (error ? reject(error) : resolve()));
				server.closeAllConnections();
			})
	};
}

/** The host part of a URL for a listen address; wildcard addresses become `localhost`. */
export function urlHost(host: string | undefined): string {
	if (host === undefined || host === '' || host === '0.0.0.0' || host === '::') return 'localhost';
	return host.includes(':') ? `[${host}]` : host;
}
