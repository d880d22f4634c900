/**
 * Fault run: kill -9 during writes.
 *
 *   npm run bench:fault-kill
 *
 * A child process writes to a relay archive (the SQLite database, through ArchiveDocs.apply,
 * the path a sync session's updates take) and acknowledges each update once `apply()`
 * resolved; it is killed with SIGKILL at a random moment (0–300 ms after its first
 * acknowledgement), the archive is opened again, and every acknowledged update is looked for.
 * Repeated FAULT_KILLS times (default 100; `npm test` runs 10) on one data directory. Prints
 * acknowledged / found and the time per round.
 *
 * Then the whole relay: four member devices post through a relay in its own process, which is
 * killed with SIGKILL about every 3 s and restarted, FAULT_RELAY_KILLS times (default 100;
 * `npm test` up to 10), the devices redialling it (bench/soakRun.ts). Prints messages sent, the
 * fewest any device holds at the end, and how many the relay's database holds. Figures only;
 * exits 1 when anything is missing.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newId } from '../src/lib/doc/ids.ts';
import { killLoop } from '../relay/archive/fixtures/killLoop.ts';
import { mulberry32 } from '../tests/fixtures/random.ts';
import { soak } from './soakRun.ts';

const kills = Number(process.env.FAULT_KILLS ?? 100);
const dir = await mkdtemp(join(tmpdir(), 'outpost-kill-'));
try {
	const started = performance.now();
	const figures = await killLoop(dir, newId(), newId(), kills, mulberry32(Number(process.env.FAULT_SEED ?? 1)));
	const seconds = (performance.now() - started) / 1000;
	console.log(`kill -9 × ${figures.kills} during writes: acknowledged ${figures.acknowledged}, found ${figures.found} (${(seconds / kills).toFixed(2)} s per round)`);
	if (figures.missing.length > 0) {
		console.log(`MISSING after restart: ${figures.missing.slice(0, 20).join(', ')}${figures.missing.length > 20 ? ', …' : ''}`);
		process.exitCode = 1;
	}
} finally {
	await rm(dir, { recursive: true, force: true });
}

const relayKills = Number(process.env.FAULT_RELAY_KILLS ?? 100);
if (relayKills > 0) {
	// A restart takes 1.5–2 s here, so a kill comes about every 5 s.
	const figures = await soak({ peers: 4, durationMs: relayKills * 5_000, sampleMs: 60_000, periodMs: 500, killEveryMs: 3_000, maxKills: relayKills, log: () => {} });
	console.log(
		`relay kill -9 × ${figures.kills} while 4 devices write: sent ${figures.sent}, fewest held by a device ${figures.sent - figures.lost}, ` +
			`in the relay's database ${figures.archived}; every device held every message ${figures.settleMs} ms after the last write`
	);
	if (figures.lost > 0 || figures.archived !== figures.sent) process.exitCode = 1;
}
