/**
 * Scale run: many peers of one workspace in one process converge after a burst of writes
 * (tests/mesh/scale.ts).
 *
 *   npm run bench:mesh-scale
 *
 * SCALE_PEERS (default 100). Prints the set-up time and the time to converge, beside
 * y-webrtc's published limit of about 15–30 peers per room (one full mesh of WebRTC links).
 */
import '../src/lib/mesh/polyfills.node.ts';
import { stopPeers } from '../tests/mesh/peers.ts';
import { scaleRun } from '../tests/mesh/scale.ts';

const count = Number(process.env.SCALE_PEERS ?? 100);
const watchdog = setTimeout(() => {
	console.log('mesh-scale: gave up after 10 minutes');
	process.exit(1);
}, 600_000);
try {
	const f = await scaleRun(count, 300_000);
	const rss = process.memoryUsage().rss / 2 ** 20;
	console.log(
		`mesh-scale: ${f.peers} peers (each linked to a hub and two others) set up in ${(f.setupMs / 1000).toFixed(1)} s; ` +
			`converged ${Math.round(f.convergeMs)} ms after a burst of ${2 * f.peers} writes (${f.documents} documents each); ` +
			`process RSS ${Math.round(rss)} MiB for all of them. y-webrtc: about 15–30 peers per room (full mesh).`
	);
} finally {
	await stopPeers();
	clearTimeout(watchdog);
}
