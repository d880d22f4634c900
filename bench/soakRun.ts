/**
 * The soak run (shared by `npm run bench:soak` and a short run in `npm test`): a relay in a
 * process of its own (soakRelay.ts) archives a workspace of a signed team; `peers` member
 * devices (in-process libp2p nodes with the workspace core's team and write policy, as the
 * app runs them) dial only the relay and post a message every `periodMs` each, into two
 * channels, for `durationMs`. Every `sampleMs` it reports the relay's RSS (from /proc), this
 * process's heap (all the peers together), messages sent and the fewest any peer holds. At the
 * end it stops writing and waits for every peer to hold every message: lost = sent − fewest.
 * With `browsers`, that many more member devices run in Chromium pages (soakPages.ts), dial
 * the relay over WebSocket and post at the same rate; their heaps are sampled too.
 *
 * With `killEveryMs`, the relay is killed with SIGKILL at random moments (0.5 to 1.5 times
 * that apart) while the peers write, and restarted on the same data and addresses; the peers
 * redial it. At the end the relay is stopped and its database read: `archived` counts the
 * messages it holds, which must be every one sent.
 */
import '../src/lib/mesh/polyfills.node.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import { TeamAuthority } from '../src/lib/core/TeamAuthority.ts';
import { ChannelDoc } from '../src/lib/doc/ChannelDoc.ts';
import { formatHlc } from '../src/lib/doc/hlc.ts';
import { newId } from '../src/lib/doc/ids.ts';
import { teamRosterId } from '../src/lib/doc/team/teamId.ts';
import { WorkspaceDoc } from '../src/lib/doc/WorkspaceDoc.ts';
import { meshService, type MeshService } from '../src/lib/mesh/MeshService.ts';
import { createMeshNode, type NodeMeshNode } from '../src/lib/mesh/node.node.ts';
import { dialWithRetry } from '../src/lib/mesh/dial.ts';
import { archiveOnRelay } from '../src/lib/mesh/relayApi.ts';
import { newSecret } from '../src/lib/mesh/secret.ts';
import * as Y from 'yjs';
import { ArchiveDocs } from '../relay/archive/ArchiveDocs.ts';
import { MemoryDocs } from '../tests/unit/mesh/memoryDocs.ts';
import { freePort } from '../tests/mesh/helpers.ts';
import { signedTeam } from './fixtures.ts';
import { openSoakPages, type SoakPages } from './soakPages.ts';
import { privateKeyToProtobuf } from '@libp2p/crypto/keys';
import { toHex } from '../src/lib/mesh/workspaceKeys.ts';

/** One sample of the run. */
export interface SoakSample {
	atS: number;
	relayRssMiB: number;
	heapMiB: number;
	/** Each Chromium page's JavaScript heap in use. */
	pageHeapsMiB: number[];
	sent: number;
	/** The fewest messages any peer holds. */
	fewest: number;
}

/** What a run measured. */
export interface SoakFigures {
	peers: number;
	/** Member devices in Chromium pages (besides `peers`). */
	browsers: number;
	samples: SoakSample[];
	sent: number;
	/** Messages some peer still lacked when the run gave up waiting (0: none lost). */
	lost: number;
	/** Milliseconds from the last write until every peer held every message. */
	settleMs: number;
	/** What the peers' mesh services reported. */
	errors: string[];
	/** Times the relay was killed with SIGKILL and restarted. */
	kills: number;
	/** Messages in the relay's database at the end. */
	archived: number;
}

interface Device {
	key: PrivateKey;
	peerId: string;
}

interface SoakPeer {
	device: Device;
	node: NodeMeshNode;
	mesh: MeshService;
	docs: MemoryDocs;
	authority: TeamAuthority;
}

const here = dirname(fileURLToPath(import.meta.url));

async function device(): Promise<Device> {
	const key = await generateKeyPair('Ed25519');
	return { key, peerId: peerIdFromPrivateKey(key).toString() };
}

/** Resident memory of process `pid` in MiB, from /proc (Linux); NaN once it is gone. */
function rssMiB(pid: number): number {
	let status: string;
	try {
		status = readFileSync(`/proc/${pid}/status`, 'utf8');
	} catch {
		return NaN; // killed a moment ago
	}
	const match = /VmRSS:\s+(\d+) kB/.exec(status);
	return match === null ? NaN : Number(match[1]) / 1024;
}

/**
 * Starts the relay process; resolves with it and what it printed. On a given port (a restart,
 * where the peers redial the address they knew) it tries again a few times: between the kill
 * and the restart another process on the machine may hold that port a moment (an outgoing
 * connection's ephemeral port; seen once in the whole suite under load).
 */
async function startRelayProcess(dataDir: string, build: string, port = 0): Promise<{ child: ChildProcess; url: string; peerId: string; multiaddrs: string[] }> {
	for (let attempt = 1; ; attempt++) {
		try {
			return await startRelayOnce(dataDir, build, port);
		} catch (error) {
			if (port === 0 || attempt >= 10) throw error;
			await new Promise((resolve) => setTimeout(resolve, 500));
		}
	}
}

async function startRelayOnce(dataDir: string, build: string, port: number): Promise<{ child: ChildProcess; url: string; peerId: string; multiaddrs: string[] }> {
	const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'soakRelay.ts'), dataDir, build, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
	const line = await new Promise<string>((resolve, reject) => {
		let buffered = '';
		child.on('exit', (code) => reject(new Error(`the relay exited: ${code}`)));
		child.stdout!.on('data', (chunk: Buffer) => {
			buffered += chunk.toString();
			const end = buffered.indexOf('\n');
			if (end >= 0) resolve(buffered.slice(0, end));
		});
	});
	return { child, ...(JSON.parse(line) as { url: string; peerId: string; multiaddrs: string[] }) };
}

/** Runs the soak; see the module comment. `log` gets one line per sample. */
export async function soak(options: {
	peers: number;
	/** Member devices in Chromium pages, besides `peers` (default 0). */
	browsers?: number;
	durationMs: number;
	sampleMs: number;
	periodMs: number;
	killEveryMs?: number;
	/** Kills the relay at most this many times (default: no bound). */
	maxKills?: number;
	log: (line: string) => void;
}): Promise<SoakFigures> {
	const tmp = await mkdtemp(join(tmpdir(), 'outpost-soak-'));
	const build = join(tmp, 'build');
	const dataDir = join(tmp, 'data');
	await mkdir(build, { recursive: true });
	await writeFile(join(build, 'index.html'), '<!doctype html><title>soak</title>');
	// A relay that is killed must come back on the same addresses for its peers to redial.
	const port = options.killEveryMs !== undefined ? await freePort() : 0;
	let relay = await startRelayProcess(dataDir, build, port);
	let kills = 0;
	const peers: SoakPeer[] = [];
	const errors: string[] = [];
	let pages: SoakPages | undefined;
	try {
		// The team: the first device owns it; the relay and every other device are members.
		const devices = await Promise.all(Array.from({ length: options.peers }, device));
		const browserDevices = await Promise.all(Array.from({ length: options.browsers ?? 0 }, device));
		const owner = devices[0]!;
		const { workspaceId, ops } = await signedTeam(owner, relay.peerId, [...devices.slice(1), ...browserDevices].map((d) => d.peerId));
		const secret = newSecret();
		await archiveOnRelay({ workspaceId, secret, name: 'Soak', ops: ops.map((op) => op.bytes), signer: { peerId: owner.peerId, privateKey: owner.key } }, relay.url);

		const channels = [newId(), newId()];
		for (const d of devices) {
			const node = await createMeshNode({ privateKey: d.key, listen: [] });
			const mesh = meshService({})({ node });
			const docs = new MemoryDocs(workspaceId);
			const authority = new TeamAuthority({ workspaceId, doc: docs.get(teamRosterId(workspaceId)), device: { peerId: d.peerId, privateKey: d.key } });
			// Every device starts with the team, as the owner wrote it: the same roster items, so
			// no two devices write the same operation as items of their own.
			if (d === owner) for (const op of ops) await authority.add(op);
			else Y.applyUpdate(docs.get(teamRosterId(workspaceId)), Y.encodeStateAsUpdate(peers[0]!.docs.get(teamRosterId(workspaceId))));
			await authority.settled();
			mesh.on('error', (e) => errors.push(`${e.error.name}: ${e.error.message}`));
			await mesh.start();
			await mesh.addWorkspace({ id: workspaceId, secret, docs, authority });
			peers.push({ device: d, node, mesh, docs, authority });
		}
		const root = new WorkspaceDoc(peers[0]!.docs.get(workspaceId));
		for (const [i, id] of channels.entries()) {
			root.createChannel({ id, name: `soak-${i}`, topic: '', private: false, readOnly: false, archived: false, createdAt: Date.now(), createdBy: owner.peerId });
		}
		// One at a time, retried: libp2p takes at most 5 new connections a second from one host
		// (here every peer is 127.0.0.1).
		const relayAddress = multiaddr(relay.multiaddrs[0]!);
		for (const peer of peers) await dialWithRetry(peer.node, relayAddress, { attempts: 5 });
		if (browserDevices.length > 0) {
			pages = await openSoakPages({
				devices: browserDevices.map((d) => ({ keyHex: toHex(privateKeyToProtobuf(d.key)) })),
				relay: relay.multiaddrs[0]!,
				workspaceId,
				secretHex: toHex(secret),
				rosterHex: toHex(Y.encodeStateAsUpdate(peers[0]!.docs.get(teamRosterId(workspaceId)))),
				channels
			});
		}
		// Peers whose link to the relay dropped (it was killed) dial it again, one at a time.
		let redialling = false;
		const redialer = setInterval(() => {
			if (redialling) return;
			redialling = true;
			void (async () => {
				for (const peer of peers) {
					if (peer.node.getConnections().some((c) => c.remotePeer.toString() === relay.peerId && c.status === 'open')) continue;
					await dialWithRetry(peer.node, relayAddress, { attempts: 2 }).catch(() => undefined);
				}
			})().finally(() => (redialling = false));
		}, 500);
		let killing = true;
		const killer =
			options.killEveryMs === undefined
				? Promise.resolve()
				: (async () => {
						const every = options.killEveryMs!;
						while (killing && kills < (options.maxKills ?? Infinity)) {
							await new Promise((resolve) => setTimeout(resolve, every * (0.5 + Math.random())));
							if (!killing) break;
							const exited = new Promise((resolve) => relay.child.once('exit', resolve));
							relay.child.kill('SIGKILL');
							await exited;
							kills++;
							relay = await startRelayProcess(dataDir, build, port);
						}
					})();

		const held = (p: SoakPeer) => channels.reduce((n, id) => n + (p.docs.docs.get(id)?.getArray('messages').length ?? 0), 0);
		let sent = 0; // by the in-process peers
		/** Messages sent by every device, and the fewest any device holds. */
		const tally = async () => {
			const inPages = (await pages?.counts()) ?? [];
			return { sent: sent + inPages.reduce((n, p) => n + p.sent, 0), fewest: Math.min(...peers.map(held), ...inPages.map((p) => p.held)) };
		};
		const started = Date.now();
		const samples: SoakFigures['samples'] = [];
		const sample = async () => {
			const { sent: all, fewest } = await tally();
			const s: SoakSample = {
				atS: Math.round((Date.now() - started) / 1000),
				relayRssMiB: rssMiB(relay.child.pid!),
				heapMiB: process.memoryUsage().heapUsed / 2 ** 20,
				pageHeapsMiB: (await pages?.heapsMiB()) ?? [],
				sent: all,
				fewest
			};
			samples.push(s);
			const inPages = s.pageHeapsMiB.length > 0 ? `, pages' heaps ${s.pageHeapsMiB.map((h) => h.toFixed(0)).join(' / ')} MiB` : '';
			options.log(`  ${String(s.atS).padStart(5)} s: relay RSS ${s.relayRssMiB.toFixed(0)} MiB, in-process peers' heap ${s.heapMiB.toFixed(0)} MiB${inPages}, sent ${s.sent}, fewest held ${s.fewest}`);
		};
		const writers = peers.map((peer, i) =>
			setInterval(() => {
				const channel = new ChannelDoc(peer.docs.get(channels[i % channels.length]!));
				sent++;
				channel.post({ id: newId(), author: peer.device.peerId, hlc: formatHlc({ wall: Date.now(), counter: sent, node: peer.device.peerId }), text: `message ${sent} from peer ${i}`, sig: 'sig' });
			}, options.periodMs)
		);
		await pages?.startPosting(options.periodMs);
		let sampling = Promise.resolve();
		const sampler = setInterval(() => (sampling = sampling.then(sample)), options.sampleMs);
		await new Promise((resolve) => setTimeout(resolve, options.durationMs));
		for (const writer of writers) clearInterval(writer);
		await pages?.stopPosting();
		clearInterval(sampler);
		await sampling;
		killing = false;
		await killer;
		const stopped = Date.now();
		const deadline = stopped + 120_000;
		let final = await tally();
		while (final.fewest < final.sent && Date.now() < deadline) {
			await new Promise((resolve) => setTimeout(resolve, 250));
			final = await tally();
		}
		const settleMs = Date.now() - stopped;
		await sample();
		for (const page of (await pages?.counts()) ?? []) errors.push(...page.errors.map((e) => `page: ${e}`));
		clearInterval(redialer);
		// Every message must be in the relay's database too: stop it (anything it was given is
		// committed by then) and read the channels back.
		await new Promise((resolve) => setTimeout(resolve, 1000));
		const exited = new Promise((resolve) => relay.child.once('exit', resolve));
		relay.child.kill('SIGTERM');
		await exited;
		const archive = await ArchiveDocs.open(dataDir, workspaceId);
		let archived = 0;
		try {
			for (const id of channels) {
				const doc = new Y.Doc();
				const state = await archive.diff(id, Y.encodeStateVector(doc));
				if (state !== undefined) Y.applyUpdate(doc, state);
				archived += doc.getArray('messages').length;
			}
		} finally {
			await archive.close();
		}
		return { peers: options.peers, browsers: options.browsers ?? 0, samples, sent: final.sent, lost: final.sent - final.fewest, settleMs, errors, kills, archived };
	} finally {
		await pages?.close();
		for (const peer of peers) {
			peer.authority.destroy();
			await peer.mesh.stop();
			await peer.node.stop();
		}
		if (relay.child.exitCode === null && relay.child.signalCode === null) {
			const exited = new Promise((resolve) => relay.child.once('exit', resolve));
			relay.child.kill('SIGTERM');
			await exited;
		}
		await rm(tmp, { recursive: true, force: true });
	}
}

/** Relay RSS: the mean of the last third of the samples against the middle third (the last 10 minutes against minutes 10–20 in an hour's run). */
export function flatness(samples: SoakSample[], windows?: { early: [number, number]; late: [number, number] }): { early: number; late: number; change: number } {
	const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
	const last = samples.at(-1)?.atS ?? 0;
	const [e0, e1] = windows?.early ?? [last / 3, (2 * last) / 3];
	const [l0, l1] = windows?.late ?? [(2 * last) / 3, last];
	const early = mean(samples.filter((s) => s.atS >= e0 && s.atS <= e1).map((s) => s.relayRssMiB));
	const late = mean(samples.filter((s) => s.atS >= l0 && s.atS <= l1).map((s) => s.relayRssMiB));
	return { early, late, change: late / early - 1 };
}
