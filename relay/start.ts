/**
 * Entry point of `npm start`: parses flags, builds the app if needed, creates the data
 * directory, starts the relay and prints the URLs to open. Ctrl-C closes it cleanly.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lanAddresses } from './addresses.ts';
import { ensureBuilt } from './build.ts';
import { USAGE, parseFlags } from './cli.ts';
import type { RelayFlags } from './cli.ts';
import { startRelay, urlHost } from './server.ts';

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

/** URLs worth printing: localhost and every LAN address for a wildcard listen. */
function urlsFor(host: string | undefined, port: number): string[] {
	const wildcard = urlHost(host) === 'localhost' && host !== 'localhost';
	if (!wildcard) return [`http://${urlHost(host)}:${port}`];
	return [`http://localhost:${port}`, ...lanAddresses().map((ip) => `http://${ip}:${port}`)];
}

async function main(): Promise<void> {
	const flags = readFlags();
	if (flags.help) {
		console.log(USAGE);
		return;
	}
	if (flags.build) await ensureBuilt(projectRoot);
	await mkdir(resolve(flags.dataDir), { recursive: true });

	const relay = await startRelay({
		root: resolve(projectRoot, 'build'),
		host: flags.host,
		port: flags.port
	});
	console.log('Outpost is running:');
	for (const url of urlsFor(flags.host, relay.port)) console.log(`  ${url}`);

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
	if (code === 'EADDRINUSE') console.error('outpost relay: that port is already in use; pick another with --port N');
	else console.error('outpost relay:', error instanceof Error ? error.message : error);
	process.exit(1);
});
