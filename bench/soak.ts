/**
 * Soak run: member devices chatting through a relay for a long time (bench/soakRun.ts).
 *
 *   npm run bench:soak                  # an hour
 *   SOAK_MINUTES=10 npm run bench:soak  # the short run
 *
 * SOAK_PEERS (default 6 in-process member devices), SOAK_BROWSERS (default 2 more in Chromium
 * pages, dialling the relay over WebSocket; /usr/bin/chromium), SOAK_MINUTES
 * (default 60), SOAK_PERIOD_MS (each peer posts every this many ms; default 1000). Prints the
 * relay's RSS, the in-process peers' heap, each page's heap, messages sent and the fewest held every minute; then lost
 * messages and whether the relay's memory stayed flat (last 10 minutes within 10% of minutes
 * 10–20 in an hour's run; last third against middle third otherwise). Figures only.
 */
import { flatness, soak } from './soakRun.ts';

const minutes = Number(process.env.SOAK_MINUTES ?? 60);
const peers = Number(process.env.SOAK_PEERS ?? 6);
const browsers = Number(process.env.SOAK_BROWSERS ?? 2);
console.log(`soak: ${peers} in-process member devices and ${browsers} in Chromium pages through a relay (its own process) for ${minutes} min, each posting every ${process.env.SOAK_PERIOD_MS ?? 1000} ms`);
const figures = await soak({ peers, browsers, durationMs: minutes * 60_000, sampleMs: 60_000, periodMs: Number(process.env.SOAK_PERIOD_MS ?? 1000), log: console.log });
const flat = flatness(figures.samples, minutes >= 30 ? { early: [600, 1200], late: [(minutes - 10) * 60, minutes * 60 + 60] } : undefined);
if (figures.errors.length > 0) console.log(`soak: the mesh reported ${figures.errors.length} errors, the last: ${figures.errors.slice(-3).join('; ')}`);
console.log(
	`soak: sent ${figures.sent}, lost ${figures.lost} (every peer held every message ${figures.settleMs} ms after the last write); ` +
		(flat.early > 0 && Number.isFinite(flat.change)
			? `relay RSS ${flat.early.toFixed(0)} → ${flat.late.toFixed(0)} MiB (${(flat.change * 100).toFixed(1)}%: ${Math.abs(flat.change) <= 0.1 ? 'flat, within 10%' : 'NOT within 10%'})`
			: 'too few samples to judge the relay RSS')
);
process.exit(0);
