/**
 * Benchmark: a device that was apart catches up from the relay's archive.
 *
 *   npm run bench:catch-up
 *
 * Starts the relay in-process on 127.0.0.1 (no mDNS, a temp data directory), has it archive a
 * workspace through its HTTP API (POST /api/archive), and plants N signed channel messages
 * (default 10,000, over 4 channel documents) into the archive as the relay would have received
 * them: one Yjs transaction per message, stored in batches of 100 messages per log record.
 * Then, each round, a fresh Node mesh peer (createMeshNode + MeshService + in-memory SyncDocs)
 * dials the relay over WebSockets and syncs; timed from the dial to the workspace's status
 * turning `live` with every message present, twice per round:
 *
 * - **cold**: the relay was just restarted, so every document loads from its log on demand;
 * - **warm**: a second fresh peer against the same relay (documents held in memory).
 *
 * Also the bytes the peer's WebSocket sent and received (Noise and Yamux framing included),
 * the update bytes it applied, and as a baseline in the same run the time to
 * `Y.encodeStateAsUpdate` the same documents and to `Y.applyUpdate` that state into fresh
 * documents directly. Medians over the rounds. Prints a table and writes
 * bench/results/catch-up.json. Figures only: never asserts; bounded by a watchdog.
 *
 * With BENCH_IDLE_WORKSPACES > 0 the relay also archives that many other workspaces (each
 * its own signed team), each with BENCH_IDLE_DOCS channel documents of 40 messages, and the
 * relay process's RSS is printed after each cold start (all workspaces open, before the
 * catch-up) and after the catch-up: `npm run bench:relay-scale` runs 49 more workspaces of 20
 * documents beside a measured one of 20 (1,000 documents across 50 workspaces).
 *
 * Environment: BENCH_ROUNDS (default 5), BENCH_MESSAGES (default 10000), BENCH_DOCS (default 4),
 * BENCH_IDLE_WORKSPACES (default 0), BENCH_IDLE_DOCS (default 20).
 */
import '../src/lib/mesh/polyfills.node.ts'; // before anything that loads libp2p
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { multiaddr } from '@multiformats/multiaddr';
import WebSocketImpl from 'ws';
import * as Y from 'yjs';
import { ChannelDoc } from '../src/lib/doc/ChannelDoc.ts';
import { WorkspaceDoc } from '../src/lib/doc/WorkspaceDoc.ts';
import { newId } from '../src/lib/doc/ids.ts';
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { TeamAuthority } from '../src/lib/core/TeamAuthority.ts';
import type { TeamOp } from '../src/lib/doc/team/ops.ts';
import { teamRosterId } from '../src/lib/doc/team/teamId.ts';
import { archiveOnRelay } from '../src/lib/mesh/relayApi.ts';
import { meshService, WorkspaceSyncState } from '../src/lib/mesh/MeshService.ts';
import { createMeshNode } from '../src/lib/mesh/node.node.ts';
import { newSecret } from '../src/lib/mesh/secret.ts';
import { runRelay, type RunningRelay } from '../relay/run.ts';
import { MemoryDocs } from '../tests/unit/mesh/memoryDocs.ts';
import { buildChannel, makeDevices, seededRandom, signedTeam } from './fixtures.ts';
import { positiveInt, benchEnvironment } from './env.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ROUNDS = positiveInt('BENCH_ROUNDS', 5);
const MESSAGES = positiveInt('BENCH_MESSAGES', 10_000);
const DOCS = positiveInt('BENCH_DOCS', 4);
const IDLE_WORKSPACES = Number(process.env.BENCH_IDLE_WORKSPACES ?? 0);
const IDLE_DOCS = positiveInt('BENCH_IDLE_DOCS', 20);
/** Messages per stored log record when planting. */
const PER_RECORD = 100;
/** Longest one catch-up may take before the round is given up. */
const SYNC_TIMEOUT_MS = 120_000;
/** The whole benchmark stops itself after this long. */
const WATCHDOG_MS = 15 * 60_000;

const log = (line: string) => console.log(line);
const median = (values: number[]): number => {
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.floor(sorted.length / 2)] ?? NaN;
};

/** Bytes through the WebSockets this process dials (only the catching-up peer dials). */
const wire = { sent: 0, received: 0 };

/** @libp2p/websockets dials with the global WebSocket: count what passes through it. */
function countWebSocketBytes(): void {
	const byteLength = (data: unknown): number =>
		typeof data === 'string' ? Buffer.byteLength(data) : data instanceof ArrayBuffer ? data.byteLength : ArrayBuffer.isView(data) ? data.byteLength : 0;
	class CountingWebSocket extends WebSocketImpl {
		constructor(url: string, protocols?: string | string[]) {
			super(url, protocols);
			this.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
				wire.received += Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : byteLength(data);
			});
			// An instance property: ws's overloaded `send` cannot be overridden as a method.
			const send = this.send.bind(this) as (...args: unknown[]) => void;
			this.send = ((...args: unknown[]) => {
				wire.sent += byteLength(args[0]);
				send(...args);
			}) as WebSocketImpl['send'];
		}
	}
	(globalThis as unknown as { WebSocket: unknown }).WebSocket = CountingWebSocket;
}

/** In-memory documents that count the update bytes applied from the relay. */
class CountingDocs extends MemoryDocs {
	bytes = 0;
	override apply(docId: string, update: Uint8Array, origin: unknown): void {
		super.apply(docId, update, origin);
		this.bytes += update.length;
	}
}

/** The bench's signed team: its owner, the member that catches up, and their operations. */
interface BenchTeam {
	workspaceId: string;
	owner: { key: PrivateKey; peerId: string };
	member: { key: PrivateKey; peerId: string };
	ops: TeamOp[];
}

async function benchTeam(relayPeerId: string): Promise<BenchTeam> {
	const key = async () => {
		const k = await generateKeyPair('Ed25519');
		return { key: k, peerId: peerIdFromPrivateKey(k).toString() };
	};
	const [owner, member] = [await key(), await key()];
	return { ...(await signedTeam(owner, relayPeerId, [member.peerId])), owner, member };
}

/** One catch-up's figures. */
interface CatchUp {
	dialMs: number;
	syncedMs: number;
	sentBytes: number;
	receivedBytes: number;
	appliedBytes: number;
}

/** A fresh peer dials the relay and syncs the workspace; resolves with the figures. */
async function catchUp(relay: RunningRelay, workspace: { id: string; secret: Uint8Array; team: BenchTeam }, channelIds: string[]): Promise<CatchUp> {
	// The member device, as the app runs it: sessions by identity, the write policy, its team.
	const { member, ops } = workspace.team;
	const node = await createMeshNode({ privateKey: member.key, listen: [] });
	const mesh = meshService({ antiEntropyIntervalMs: 0 })({ node });
	const docs = new CountingDocs(workspace.id);
	const authority = new TeamAuthority({ workspaceId: workspace.id, doc: docs.get(teamRosterId(workspace.id)), device: { peerId: member.peerId, privateKey: member.key } });
	for (const op of ops) await authority.add(op);
	try {
		await mesh.start();
		await mesh.addWorkspace({ id: workspace.id, secret: workspace.secret, docs, authority });
		const messages = () => channelIds.reduce((n, id) => n + (docs.docs.get(id)?.getArray('messages').length ?? 0), 0);
		const synced = new Promise<number>((resolve, reject) => {
			const timer = setTimeout(() => reject(new Error(`no catch-up within ${SYNC_TIMEOUT_MS} ms`)), SYNC_TIMEOUT_MS);
			const check = () => {
				const status = mesh.status(workspace.id);
				if (status?.state === WorkspaceSyncState.live && messages() === MESSAGES) {
					clearTimeout(timer);
					off();
					resolve(performance.now());
				}
			};
			const off = mesh.on('workspace-status', check);

		});
		const before = { ...wire };
		const start = performance.now();
		await node.dial(multiaddr(relay.info().multiaddrs[0]!));
		const dialMs = performance.now() - start;
		const syncedMs = (await synced) - start;
		return {
			dialMs,
			syncedMs,
			sentBytes: wire.sent - before.sent,
			receivedBytes: wire.received - before.received,
			appliedBytes: docs.bytes
		};
	} finally {
		authority.destroy();
		await mesh.stop();
		await node.stop();
	}
}

/** Plants the channels into the archive; returns the documents' source states. */
async function plant(relay: RunningRelay, workspaceId: string, channelIds: string[]): Promise<Y.Doc[]> {
	const random = seededRandom(42);
	const devices = await makeDevices(6, random);
	const fixture = await buildChannel(MESSAGES, devices, Date.UTC(2026, 10, 1), random);
	const archive = relay.archive.archives.get(workspaceId);
	if (archive === undefined) throw new Error('the relay did not open the archive');
	const byPeer = new Map(devices.map((d) => [d.peerId, d.clientId]));
	await listChannels(archive, workspaceId, channelIds);
	const sources: Y.Doc[] = [];
	for (const [d, docId] of channelIds.entries()) {
		const doc = new Y.Doc({ gc: true });
		const channel = new ChannelDoc(doc);
		const records = fixture.records.filter((_r, i) => i % channelIds.length === d);
		for (let i = 0; i < records.length; i += PER_RECORD) {
			const updates: Uint8Array[] = [];
			const collect = (update: Uint8Array) => updates.push(update);
			doc.on('update', collect);
			for (const record of records.slice(i, i + PER_RECORD)) {
				doc.clientID = byPeer.get(record.author) ?? doc.clientID;
				channel.post(record); // one transaction per message
			}
			doc.off('update', collect);
			await archive.apply(docId, Y.mergeUpdates(updates), 'bench');
		}
		sources.push(doc);
	}
	return sources;
}

/** Lists the channels in the workspace's root: a document the root does not list is offered to nobody. */
async function listChannels(archive: { apply(docId: string, update: Uint8Array, origin: unknown): Promise<void> }, workspaceId: string, channelIds: string[]): Promise<void> {
	const root = new Y.Doc();
	for (const [i, id] of channelIds.entries()) {
		new WorkspaceDoc(root).createChannel({ id, name: `bench-${i}`, topic: '', private: false, readOnly: false, archived: false, createdAt: 1, createdBy: 'bench' });
	}
	await archive.apply(workspaceId, Y.encodeStateAsUpdate(root), 'bench');
}

/** Archives `count` more workspaces (each its own team) with `docs` channel documents of 40 messages each. */
async function plantIdle(relay: RunningRelay, count: number, docs: number): Promise<void> {
	for (let w = 0; w < count; w++) {
		const team = await benchTeam(relay.info().peerId);
		await archiveOnRelay(
			{ workspaceId: team.workspaceId, secret: newSecret(), name: `Idle ${w}`, ops: team.ops.map((op) => op.bytes), signer: { peerId: team.owner.peerId, privateKey: team.owner.key } },
			relay.server.url
		);
		const archive = relay.archive.archives.get(team.workspaceId);
		if (archive === undefined) throw new Error('the relay did not open an idle archive');
		const ids = Array.from({ length: docs }, () => newId());
		await listChannels(archive, team.workspaceId, ids);
		for (const id of ids) {
			const doc = new Y.Doc();
			const channel = new ChannelDoc(doc);
			for (let m = 0; m < 40; m++) channel.post({ id: `m${m}`, author: team.member.peerId, hlc: `${1e12 + m}`, text: `message ${m} of document ${id}`, sig: 'sig' });
			await archive.apply(id, Y.encodeStateAsUpdate(doc), 'bench');
		}
	}
}

/** The process's resident memory in MiB, after a full collection when Node exposes one. */
function rssMiB(): number {
	(globalThis as { gc?: () => void }).gc?.();
	return process.memoryUsage().rss / 2 ** 20;
}

/** Median milliseconds of `Y.encodeStateAsUpdate` of every source and of applying those to fresh documents. */
function baseline(sources: Y.Doc[], rounds: number): { encodeMs: number; applyMs: number; stateBytes: number } {
	const encode: number[] = [];
	const apply: number[] = [];
	let stateBytes = 0;
	for (let r = 0; r < rounds; r++) {
		const start = performance.now();
		const states = sources.map((doc) => Y.encodeStateAsUpdate(doc));
		encode.push(performance.now() - start);
		stateBytes = states.reduce((n, s) => n + s.length, 0);
		const fresh = states.map(() => new Y.Doc());
		const applyStart = performance.now();
		for (const [i, state] of states.entries()) Y.applyUpdate(fresh[i]!, state);
		apply.push(performance.now() - applyStart);
		for (const doc of fresh) doc.destroy();
	}
	return { encodeMs: median(encode), applyMs: median(apply), stateBytes };
}

async function main(): Promise<void> {
	const watchdog = setTimeout(() => {
		console.error(`catch-up benchmark: still running after ${WATCHDOG_MS / 60_000} minutes; stopping`);
		process.exit(1);
	}, WATCHDOG_MS);
	watchdog.unref();
	countWebSocketBytes();

	const tmp = await mkdtemp(join(os.tmpdir(), 'outpost-bench-catch-up-'));
	const build = join(tmp, 'build');
	await mkdir(build, { recursive: true });
	await writeFile(join(build, 'index.html'), '<!doctype html><title>bench</title>');
	const start = (): Promise<RunningRelay> =>
		runRelay({ root: build, dataDir: join(tmp, 'data'), host: '127.0.0.1', port: 0, mdns: false, lanIps: [], log: () => {} });

	let relay = await start();
	try {
		// A signed team: the owner adds the relay and the member that catches up, then asks the
		// relay (a signed request) to archive the workspace.
		const team = await benchTeam(relay.info().peerId);
		const workspace = { id: team.workspaceId, secret: newSecret(), team };
		const channelIds = [...Array(DOCS)].map(() => newId());
		await archiveOnRelay(
			{ workspaceId: workspace.id, secret: workspace.secret, name: 'Bench', ops: team.ops.map((op) => op.bytes), signer: { peerId: team.owner.peerId, privateKey: team.owner.key } },
			relay.server.url
		);

		const plantStart = performance.now();
		const sources = await plant(relay, workspace.id, channelIds);
		log(
			`Planted ${MESSAGES} signed messages in ${DOCS} channel documents (${Math.ceil(MESSAGES / DOCS / PER_RECORD) * DOCS} log records) ` +
				`in ${((performance.now() - plantStart) / 1000).toFixed(1)} s; ${ROUNDS} rounds; Node ${process.version}, ${os.cpus().length} CPUs`
		);

		if (IDLE_WORKSPACES > 0) {
			const idleStart = performance.now();
			await plantIdle(relay, IDLE_WORKSPACES, IDLE_DOCS);
			log(`Archived ${IDLE_WORKSPACES} more workspaces of ${IDLE_DOCS} documents in ${((performance.now() - idleStart) / 1000).toFixed(1)} s (${IDLE_WORKSPACES * IDLE_DOCS + DOCS} documents in ${IDLE_WORKSPACES + 1} workspaces)`);
		}

		const cold: CatchUp[] = [];
		const warm: CatchUp[] = [];
		const rss: { idle: number; after: number }[] = [];
		for (let round = 1; round <= ROUNDS; round++) {
			await relay.close();
			relay = await start();
			const idle = rssMiB();
			cold.push(await catchUp(relay, workspace, channelIds));
			warm.push(await catchUp(relay, workspace, channelIds));
			rss.push({ idle, after: rssMiB() });
			const [c, w] = [cold.at(-1)!, warm.at(-1)!];
			log(
				`  round ${round}: cold ${c.syncedMs.toFixed(0)} ms (dial ${c.dialMs.toFixed(0)} ms), warm ${w.syncedMs.toFixed(0)} ms; ` +
					`relay process RSS ${idle.toFixed(0)} MiB after a cold start, ${rss.at(-1)!.after.toFixed(0)} MiB after the catch-ups`
			);
		}
		const base = baseline(sources, Math.max(ROUNDS, 5));

		const summary = (runs: CatchUp[]) => ({
			dialMs: median(runs.map((r) => r.dialMs)),
			syncedMs: median(runs.map((r) => r.syncedMs)),
			receivedBytes: median(runs.map((r) => r.receivedBytes)),
			sentBytes: median(runs.map((r) => r.sentBytes)),
			appliedBytes: median(runs.map((r) => r.appliedBytes))
		});
		const results = {
			cold: summary(cold),
			warm: summary(warm),
			baseline: base,
			rssMiB: { afterColdStart: median(rss.map((r) => r.idle)), afterCatchUp: median(rss.map((r) => r.after)) }
		};
		const kb = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
		log('');
		log(`catch-up of ${MESSAGES} messages in ${DOCS} documents from the relay archive (medians of ${ROUNDS}):`);
		for (const [name, s] of [['cold relay (docs load from disk)', results.cold], ['warm relay (docs in memory)', results.warm]] as const) {
			log(
				`  ${name.padEnd(34)} dial→synced ${s.syncedMs.toFixed(0).padStart(6)} ms (dial ${s.dialMs.toFixed(0)} ms); ` +
					`received ${kb(s.receivedBytes)}, sent ${kb(s.sentBytes)} over the WebSocket; applied ${kb(s.appliedBytes)} of updates`
			);
		}
		log(
			`  baseline: Y.encodeStateAsUpdate ${base.encodeMs.toFixed(1)} ms, Y.applyUpdate ${base.applyMs.toFixed(1)} ms ` +
				`(${kb(base.stateBytes)} of state)`
		);

		log(
			`  relay process RSS (the catching-up peer runs in the same process): ${results.rssMiB.afterColdStart.toFixed(0)} MiB after a cold start ` +
				`with ${IDLE_WORKSPACES + 1} workspaces open, ${results.rssMiB.afterCatchUp.toFixed(0)} MiB after the catch-ups`
		);

		const file = join(root, 'bench', 'results', IDLE_WORKSPACES > 0 ? 'relay-scale.json' : 'catch-up.json');
		await mkdir(dirname(file), { recursive: true });
		const json = {
			benchmark: 'catch-up',
			date: new Date().toISOString(),
			environment: benchEnvironment(),
			parameters: { messages: MESSAGES, docs: DOCS, messagesPerRecord: PER_RECORD, rounds: ROUNDS, idleWorkspaces: IDLE_WORKSPACES, idleDocs: IDLE_DOCS },
			results,
			rounds: { cold, warm }
		};
		await writeFile(file, JSON.stringify(json, null, '\t') + '\n');
		log(`\nWrote ${file}`);
	} finally {
		await relay.close();
		await rm(tmp, { recursive: true, force: true });
	}
}

main().then(
	() => process.exit(0),
	(error: unknown) => {
		console.error('catch-up benchmark failed:', error);
		process.exit(1);
	}
);
