/**
 * The relay of the soak run, in a process of its own so its memory is its own: runs the relay
 * on 127.0.0.1 (plain HTTP, no mDNS) over `<dataDir>` and prints one JSON line with its URL and
 * WebSocket multiaddrs once it listens. Stopped by its parent (SIGTERM).
 * Usage: node --import tsx bench/soakRelay.ts <dataDir> <buildDir> [port]
 * With a port (and the two after it free) it comes back on the same addresses after a restart.
 * SOAK_RELAY_LOG=1 writes the relay's log to stderr.
 */
import '../src/lib/mesh/polyfills.node.ts';
import { runRelay } from '../relay/run.ts';

const [dataDir, root, port = '0'] = process.argv.slice(2) as [string, string, string?];
const relay = await runRelay({ root, dataDir, host: '127.0.0.1', port: Number(port), mdns: false, lanIps: [], log: process.env.SOAK_RELAY_LOG ? (line: string) => process.stderr.write(`relay: ${line}\n`) : () => {} });
process.stdout.write(`${JSON.stringify({ url: relay.server.url, peerId: relay.info().peerId, multiaddrs: relay.info().multiaddrs })}\n`);
process.on('SIGTERM', () => {
	relay.close().then(
		() => process.exit(0),
		() => process.exit(1)
	);
});
