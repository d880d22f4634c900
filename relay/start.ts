/**
 * Entry point of `npm start`: parses flags, builds the app if needed, starts the relay
 * (see `run.ts`) and prints the URLs to open, a QR code of the first LAN one for phones,
 * and the relay's multiaddrs for other relays' `--peer`. Ctrl-C closes it cleanly.
 */
import '../src/lib/mesh/polyfills.node.ts'; // before anything that loads libp2p
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import QRCode from 'qrcode';
import { API_KEY_USAGE, parseApiKeyArgs, runApiKeyCommand } from './ai/apiKeys.ts';
import { JOIN_USAGE, parseJoinArgs, runJoin } from './archive/join.ts';
import { ensureBuilt } from './build.ts';
import { USAGE, parseFlags } from './cli.ts';
import type { RelayFlags } from './cli.ts';
import { mergeMcpSpecs, readMcpConfigFile } from './mcp/mcpConfig.ts';
import { runRelay } from './run.ts';
import type { RunningRelay } from './run.ts';
import { tlsPaths } from './tls.ts';

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function readFlags(): RelayFlags {
	try {
		return parseFlags(process.argv.slice(2));
	} catch (error) {
		if (error instanceof Error && error.name === 'UsageError') {
			console.error(`outpost relay: ${error.message}\n\n${USAGE}`);
			process.exit(2);
		}
		throw error;
	}
}

/** What to tell the person who started the relay. */
async function banner(relay: RunningRelay, dataDir: string): Promise<string> {
	const lines: string[] = ['Outpost is running:'];
	const urls = relay.urls();
	for (const url of urls) lines.push(`  ${url}`);

	const lanHttps = urls.find((url) => url.startsWith('https://') && !url.startsWith('https://localhost'));
	if (lanHttps !== undefined) {
		lines.push('', `Scan to open ${lanHttps} on a phone:`, await QRCode.toString(lanHttps, { type: 'terminal', small: true }));
	}
	const cert = relay.certificate;
	if (cert !== undefined) {
		const what = {
			kept: 'Certificate',
			created: 'New certificate',
			'renewed-names': 'New certificate (the LAN addresses changed)',
			'renewed-expiry': 'New certificate (the old one was about to expire)'
		}[cert.status];
		lines.push(
			'',
			`${what} ${tlsPaths(dataDir).cert}, valid until ${cert.validTo.toISOString().slice(0, 10)};`,
			'browsers warn once that it is self-signed (check the fingerprint, then continue):',
			`  SHA-256 ${cert.fingerprint256}`
		);
	}
	if (relay.registry.engines.length > 0) {
		lines.push(
			'',
			`OpenAI-compatible API: ${urls[0] ?? relay.server.url}/v1 (Authorization: Bearer <key>;`,
			`  make a key with: npm run relay -- api-key create --name NAME${dataDir === './data' ? '' : ` --data ${dataDir}`})`
		);
	}
	lines.push('', `Relay peer ${relay.node.peerId}${relay.createdPeerKey ? ' (new identity)' : ''}, multiaddrs:`);
	for (const ma of relay.node.getMultiaddrs()) lines.push(`  ${ma.toString()}`);
	return lines.join('\n');
}

/** `join <invite>`: adds the workspace to the archive list, prints it, exits (2 on a usage error). */
async function join(argv: readonly string[]): Promise<void> {
	let args;
	try {
		args = parseJoinArgs(argv);
	} catch (error) {
		if (error instanceof Error && error.name === 'UsageError') {
			console.error(`outpost relay: ${error.message}\n\n${JOIN_USAGE}`);
			process.exit(2);
		}
		throw error;
	}
	console.log(await runJoin(args));
}

/** `api-key create|list|revoke`: manages the keys of the `/v1` API, prints, exits (2 on a usage error). */
async function apiKey(argv: readonly string[]): Promise<void> {
	try {
		console.log(await runApiKeyCommand(parseApiKeyArgs(argv)));
	} catch (error) {
		if (error instanceof Error && error.name === 'UsageError') {
			console.error(`outpost relay: ${error.message}\n\n${API_KEY_USAGE}`);
			process.exit(2);
		}
		throw error;
	}
}

async function main(): Promise<void> {
	if (process.argv[2] === 'join') return join(process.argv.slice(3));
	if (process.argv[2] === 'api-key') return apiKey(process.argv.slice(3));
	const flags = readFlags();
	if (flags.help) {
		console.log(USAGE);
		return;
	}
	// Before building: a mistake in <data>/mcp.json stops the start at once, naming the file.
	const mcp = mergeMcpSpecs(await readMcpConfigFile(flags.dataDir), flags.mcp);
	if (flags.build) await ensureBuilt(projectRoot);

	const relay = await runRelay({
		root: resolve(projectRoot, 'build'),
		dataDir: flags.dataDir,
		host: flags.host,
		port: flags.port,
		...(flags.httpPort !== undefined ? { httpPort: flags.httpPort } : {}),
		...(flags.p2pPort !== undefined ? { p2pPort: flags.p2pPort } : {}),
		peers: flags.peers,
		mdns: flags.mdns,
		...(flags.modelsDir !== undefined ? { modelsDir: flags.modelsDir } : {}),
		models: flags.models,
		...(flags.modelThreads !== undefined ? { modelThreads: flags.modelThreads } : {}),
		openaiUpstreams: flags.openaiUpstreams,
		quotas: flags.quotas,
		...(flags.serveWorkspaces.length > 0 ? { serveWorkspaces: flags.serveWorkspaces } : {}),
		mcp
	});
	console.log(await banner(relay, flags.dataDir));

	let closing = false;
	const shutdown = (signal: NodeJS.Signals): void => {
		if (closing) process.exit(1); // a second Ctrl-C: stop waiting
		closing = true;
		console.log(`\n${signal}: closing…`);
		relay.close().then(
			() => process.exit(0),
			(error: unknown) => {
				console.error(error);
				process.exit(1);
			}
		);
	};
	process.on('SIGINT', shutdown);
	process.on('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
	const code = error instanceof Error && 'code' in error ? error.code : undefined;
	// libp2p gathers its listen failures into one error whose message names them.
	if (code === 'EADDRINUSE' || (error instanceof Error && error.message.includes('EADDRINUSE'))) {
		console.error('outpost relay: a port is already in use; pick others with --port N (and --p2p-port N)');
	} else console.error('outpost relay:', error instanceof Error ? error.message : error);
	process.exit(1);
});
