/**
 * Benchmark: what signed teams cost on the sync path, each figure beside its baseline in the
 * same run (real libp2p nodes over TCP on 127.0.0.1, in one process):
 *
 * - **live update**: one-way latency of a Yjs update between two directly connected peers,
 *   with the workspace core's team (sessions by identity, write policy, gossip from members
 *   only, key generations) and without it (the secret alone), interleaved rounds;
 * - **catch-up**: a member device that was apart syncs 10,000 messages (4 channel documents)
 *   from a peer, with and without the team;
 * - **join**: a new device with an invitation, from dialling a member to being admitted
 *   (its admission folded on both sides) and to holding the channel's last message;
 * - **fold**: folding a team of N operations from scratch, and checking one signature.
 *
 *   npm run bench:team
 *
 * Prints a table and writes bench/results/team.json. Figures only: never asserts.
 * Environment: BENCH_UPDATES (default 600), BENCH_ROUNDS (default 3), BENCH_MESSAGES (default 10000).
 */
import '../src/lib/mesh/polyfills.node.ts';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as Y from 'yjs';
import { foldTeam } from '../src/lib/doc/team/fold.ts';
import { verifyTeamOp, signTeamOp } from '../src/lib/doc/team/sign.ts';
import type { TeamOp } from '../src/lib/doc/team/ops.ts';
import { newSpaceId, newTeamNonce, teamWorkspaceId } from '../src/lib/doc/team/teamId.ts';
import { newId } from '../src/lib/doc/ids.ts';
import { connect, startPeer, stopPeers, newWorkspace, type Peer } from '../tests/mesh/peers.ts';
import { createTeamWorkspace, invite, newKey, startJoiner, startTeamPeer, stopTeamPeers } from '../tests/mesh/teamPeers.ts';
import { benchEnvironment, positiveInt } from './env.ts';

const here = dirname(fileURLToPath(import.meta.url));
const UPDATES = positiveInt('BENCH_UPDATES', 600);
const ROUNDS = positiveInt('BENCH_ROUNDS', 3);
const MESSAGES = positiveInt('BENCH_MESSAGES', 10_000);
const DOCS = 4;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean, timeoutMs = 60_000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!check()) {
		if (Date.now() > deadline) throw new Error('bench: timed out');
		await sleep(2);
	}
}

function median(xs: number[]): number {
	const s = [...xs].sort((a, b) => a - b);
	return s.length === 0 ? NaN : s[Math.floor((s.length - 1) / 2)]!;
}

function quantile(xs: number[], q: number): number {
	const s = [...xs].sort((a, b) => a - b);
	return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

/** Two connected peers, with the team or without. */
async function pair(team: boolean): Promise<{ a: Peer; b: Peer }> {
	if (!team) {
		const ws = newWorkspace();
		const a = await startPeer(ws);
		const b = await startPeer(ws);
		await connect(a, b);
		await until(() => a.mesh.status(ws.id)?.livePeers === 1 && b.mesh.status(ws.id)?.livePeers === 1);
		return { a, b };
	}
	const { ws, owner } = await createTeamWorkspace((await newKey()).key);
	const inv = await invite(owner);
	const b = await startJoiner(ws, (await newKey()).key, 'b', inv);
	await connect(b, owner);
	await until(() => owner.authority.isMember(b.peerId) && b.authority.joined && owner.mesh.status(ws.id)?.livePeers === 1);
	await until(() => b.keyring.currentId === owner.authority.team.currentKey);
	return { a: owner, b };
}

/** One-way latencies (ms) of `UPDATES` updates from a to b, one every 5 ms. */
async function latencies(a: Peer, b: Peer): Promise<number[]> {
	const docId = newId();
	const sent = new Map<number, number>();
	const out: number[] = [];
	const target = b.docs.get(docId).getArray<number>('a');
	target.observe((event) => {
		const now = performance.now();
		for (const item of event.changes.added) for (const n of item.content.getContent() as number[]) {
			const t = sent.get(n);
			if (t !== undefined) out.push(now - t);
		}
	});
	const source = a.docs.get(docId).getArray<number>('a');
	for (let i = 0; i < UPDATES; i++) {
		sent.set(i, performance.now());
		source.push([i]);
		await sleep(5);
	}
	await until(() => out.length >= UPDATES, 20_000).catch(() => undefined);
	return out.slice(20); // warm-up
}

async function liveUpdate() {
	const result: Record<'team' | 'secret', number[]> = { team: [], secret: [] };
	for (let round = 0; round < ROUNDS; round++) {
		for (const mode of round % 2 === 0 ? (['secret', 'team'] as const) : (['team', 'secret'] as const)) {
			const { a, b } = await pair(mode === 'team');
			result[mode].push(...(await latencies(a, b)));
			await stopTeamPeers();
			await stopPeers();
		}
	}
	return Object.fromEntries(
		Object.entries(result).map(([k, xs]) => [k, { p50: median(xs), p95: quantile(xs, 0.95), n: xs.length }])
	) as Record<'team' | 'secret', { p50: number; p95: number; n: number }>;
}

/** Fills `peer` with MESSAGES messages over DOCS channel documents; returns their ids. */
function fill(peer: Peer): string[] {
	const ids = Array.from({ length: DOCS }, () => newId());
	for (let i = 0; i < MESSAGES; i++) {
		const doc = peer.docs.get(ids[i % DOCS]!);
		doc.getArray('messages').push([{ id: newId(), text: `message ${i}`, at: i }]);
	}
	return ids;
}

function count(peer: Peer, ids: string[]): number {
	return ids.reduce((n, id) => n + (peer.docs.docs.get(id)?.getArray('messages').length ?? 0), 0);
}

async function catchUp(team: boolean): Promise<number> {
	let source: Peer;
	let fresh: Peer;
	if (team) {
		const { ws, owner } = await createTeamWorkspace((await newKey()).key);
		const key = await newKey();
		await owner.authority.write({ t: 'add', member: key.peerId, role: 'member', name: 'apart' });
		source = owner;
		const ids = fill(owner);
		// The member was added while apart: it knows the team up to its admission.
		const ops = [...owner.docs.get(ws.rosterId).getMap<Uint8Array>('ops').values()];
		const { decodeOp } = await import('../src/lib/doc/team/ops.ts');
		fresh = await startTeamPeer(ws, key.key, 'apart', ops.map((b) => decodeOp(b)));
		const start = performance.now();
		await connect(fresh, source);
		await until(() => count(fresh, ids) === MESSAGES);
		return performance.now() - start;
	}
	const ws = newWorkspace();
	source = await startPeer(ws);
	const ids = fill(source);
	fresh = await startPeer(ws);
	const start = performance.now();
	await connect(fresh, source);
	await until(() => count(fresh, ids) === MESSAGES);
	return performance.now() - start;
}

async function joinOnce(): Promise<{ admittedMs: number; messageMs: number }> {
	const { ws, owner } = await createTeamWorkspace((await newKey()).key);
	const channel = newId();
	owner.docs.get(channel).getArray<string>('a').push(['welcome']);
	const inv = await invite(owner);
	const joiner = await startJoiner(ws, (await newKey()).key, 'new', inv);
	const start = performance.now();
	await connect(joiner, owner);
	let admittedMs = 0;
	await until(() => {
		if (!admittedMs && joiner.authority.joined && owner.authority.isMember(joiner.peerId)) admittedMs = performance.now() - start;
		return admittedMs > 0 && (joiner.docs.docs.get(channel)?.getArray('a').length ?? 0) === 1;
	});
	return { admittedMs, messageMs: performance.now() - start };
}

async function foldCost(n: number): Promise<{ foldMs: number; verifyMsPerOp: number }> {
	const owner = await newKey();
	const nonce = newTeamNonce();
	const ws = teamWorkspaceId(owner.peerId, nonce);
	const ops: TeamOp[] = [await signTeamOp(owner.key, owner.peerId, { ws, prev: [], at: 1 }, { t: 'create', nonce, name: 'o' })];
	const keys = await Promise.all(Array.from({ length: Math.min(50, n) }, () => newKey()));
	for (let i = 1; i < n; i++) {
		const prev = [ops[ops.length - 1]!.id];
		const body = i <= keys.length ? ({ t: 'add', member: keys[i - 1]!.peerId, role: 'member', name: `m${i}` } as const) : ({ t: 'name', name: `owner ${i}` } as const);
		ops.push(await signTeamOp(owner.key, owner.peerId, { ws, prev, at: i }, body));
	}
	const t0 = performance.now();
	for (const op of ops) await verifyTeamOp(op);
	const verifyMsPerOp = (performance.now() - t0) / ops.length;
	const t1 = performance.now();
	foldTeam(ws, ops);
	return { foldMs: performance.now() - t1, verifyMsPerOp };
}

/**
 * What one hostile member can make every replica's fold cost: a ladder of `k` pairs (a
 * self-removal from its space, and a key operation on it, each pair naming the previous one),
 * which once forced k + 1 passes of the fold (found in review: ~k²·n), and `k` operations that
 * all name only the root (once a sort per step). Milliseconds of one fold each.
 */
async function hostileFolds(k: number): Promise<{ ladderMs: number; flatMs: number; ops: number }> {
	const owner = await newKey();
	const mallory = await newKey();
	const nonce = newTeamNonce();
	const ws = teamWorkspaceId(owner.peerId, nonce);
	const create = await signTeamOp(owner.key, owner.peerId, { ws, prev: [], at: 1 }, { t: 'create', nonce, name: 'o' });
	const add = await signTeamOp(owner.key, owner.peerId, { ws, prev: [create.id], at: 2 }, { t: 'add', member: mallory.peerId, role: 'member', name: 'm' });
	const { space, nonce: spaceNonce } = newSpaceId(ws, mallory.peerId);
	const made = await signTeamOp(mallory.key, mallory.peerId, { ws, prev: [add.id], at: 3 }, { t: 'space', space, nonce: spaceNonce, kind: 'private', members: [mallory.peerId] });
	const ladder: TeamOp[] = [create, add, made];
	let prev = [made.id];
	for (let i = 0; i < k; i++) {
		const leave = await signTeamOp(mallory.key, mallory.peerId, { ws, prev, at: 10 + 2 * i }, { t: 'space-members', space, add: [], remove: [mallory.peerId] });
		const other = await signTeamOp(mallory.key, mallory.peerId, { ws, prev, at: 11 + 2 * i }, { t: 'keys', gen: newId(), boxes: {}, space });
		ladder.push(leave, other);
		prev = [leave.id, other.id].sort();
	}
	const flat: TeamOp[] = [create, add];
	for (let i = 0; i < 2 * k; i++) flat.push(await signTeamOp(mallory.key, mallory.peerId, { ws, prev: [add.id], at: 10 + i }, { t: 'name', name: `m${i}` }));
	const t0 = performance.now();
	foldTeam(ws, ladder);
	const t1 = performance.now();
	foldTeam(ws, flat);
	return { ladderMs: t1 - t0, flatMs: performance.now() - t1, ops: ladder.length };
}

async function main(): Promise<void> {
	const watchdog = setTimeout(() => {
		console.error('bench: watchdog expired');
		process.exit(1);
	}, 600_000);
	const live = await liveUpdate();
	const catchUps = { team: [] as number[], secret: [] as number[] };
	for (let round = 0; round < ROUNDS; round++) {
		catchUps.secret.push(await catchUp(false));
		await stopTeamPeers();
		await stopPeers();
		catchUps.team.push(await catchUp(true));
		await stopTeamPeers();
		await stopPeers();
	}
	const joins: Array<{ admittedMs: number; messageMs: number }> = [];
	for (let round = 0; round < ROUNDS; round++) {
		joins.push(await joinOnce());
		await stopTeamPeers();
		await stopPeers();
	}
	const folds: Record<number, { foldMs: number; verifyMsPerOp: number }> = {};
	for (const n of [100, 1000, 3000]) folds[n] = await foldCost(n);
	const hostile = await hostileFolds(800);
	const results = {
		environment: benchEnvironment(),
		liveUpdateMs: live,
		catchUpMs: { team: median(catchUps.team), secret: median(catchUps.secret), messages: MESSAGES },
		join: { admittedMs: median(joins.map((j) => j.admittedMs)), firstMessageMs: median(joins.map((j) => j.messageMs)) },
		fold: folds,
		hostileFold: hostile
	};
	const f = (x: number) => x.toFixed(2);
	console.log('\nSigned teams on the sync path (in-process libp2p over TCP on 127.0.0.1)\n');
	console.log(`live update p50/p95 ms   with team ${f(live.team.p50)} / ${f(live.team.p95)}   secret only ${f(live.secret.p50)} / ${f(live.secret.p95)}   ratio p50 ${f(live.team.p50 / live.secret.p50)}`);
	console.log(`catch-up ${MESSAGES} messages  with team ${f(results.catchUpMs.team)} ms   secret only ${f(results.catchUpMs.secret)} ms   ratio ${f(results.catchUpMs.team / results.catchUpMs.secret)}`);
	console.log(`join (dial → admitted)    ${f(results.join.admittedMs)} ms   (dial → channel message) ${f(results.join.firstMessageMs)} ms`);
	for (const [n, r] of Object.entries(folds)) console.log(`fold ${n} operations       ${f(r.foldMs)} ms   (verify ${f(r.verifyMsPerOp)} ms per operation, once)`);
	console.log(`hostile fold, ${hostile.ops} operations of one member: ladder of self-removals ${f(hostile.ladderMs)} ms, all naming the root ${f(hostile.flatMs)} ms (the ladder took 37.9 s before the fix)`);
	await mkdir(join(here, 'results'), { recursive: true });
	await writeFile(join(resolve(here, 'results'), 'team.json'), JSON.stringify(results, null, 2));
	clearTimeout(watchdog);
	void Y;
}

await main();
process.exit(0);
