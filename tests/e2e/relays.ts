/**
 * Relays as separate processes for the mesh end-to-end tests: started with the real
 * command line (`relay/start.ts`) on 127.0.0.1, killed with SIGKILL (a crash) or stopped,
 * and started again on the same data directory. Each test's relays use their own ports and
 * data, and `--no-mdns` (unless asked) so relays meet only when a test connects them with `--peer`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What the relay says at /.well-known/outpost.json. */
export interface RelayInfo {
	peerId: string;
	multiaddrs: string[];
}

/** A relay process the test controls. */
export interface RelayProcess {
	/** The app's URL on this relay (plain HTTP on 127.0.0.1). */
	url: string;
	dataDir: string;
	/** The libp2p TCP address other relays dial with `--peer`. */
	tcpAddress(): Promise<string>;
	info(): Promise<RelayInfo>;
	/** Kills the process with SIGKILL: no chance to flush anything. */
	kill(): Promise<void>;
	/** Stops the process cleanly (SIGTERM). */
	stop(): Promise<void>;
	/** Starts it again on the same data directory and ports, with these `--peer`s. */
	restart(peers?: string[]): Promise<void>;
	/** Runs `relay join <invite>` on its data directory (while stopped or running). */
	join(invite: string): Promise<void>;
	/** Everything the process printed. */
	output(): string;
}

const ROOT = new URL('../../', import.meta.url);

/**
 * Starts a relay. On 127.0.0.1 (the default): HTTP on `port`, libp2p TCP on `port + 2` and
 * WebSockets on `port + 3`. On another `host` (the network namespace's LAN address): HTTPS
 * with its own certificate on `port`, HTTP on 127.0.0.1 `port + 1`, TCP `port + 2`, wss
 * `port + 3`, ws on 127.0.0.1 `port + 4`.
 */
export async function startRelayProcess(
	port: number,
	peers: string[] = [],
	host = '127.0.0.1',
	options: { mdns?: boolean; args?: string[] } = {}
): Promise<RelayProcess> {
	const dataDir = await mkdtemp(join(tmpdir(), 'outpost-relay-'));
	let child: ChildProcess | undefined;
	let log = '';
	const secure = host !== '127.0.0.1';
	const url = secure ? `https://${host}:${port}` : `http://127.0.0.1:${port}`;
	/** What answers plain HTTP from this process (readiness, the well-known document). */
	const plain = secure ? `http://127.0.0.1:${port + 1}` : url;

	const run = (args: string[]): ChildProcess => {
		const proc = spawn(process.execPath, ['--import', 'tsx', 'relay/start.ts', ...args], {
			cwd: ROOT,
			stdio: ['ignore', 'pipe', 'pipe']
		});
		proc.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()));
		proc.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
		return proc;
	};

	const start = async (withPeers: string[]): Promise<void> => {
		const args = ['--no-build', ...(options.mdns ? [] : ['--no-mdns']), '--host', host, '--port', String(port), '--data', dataDir, ...(options.args ?? [])];
		for (const peer of withPeers) args.push('--peer', peer);
		child = run(args);
		const deadline = Date.now() + 30_000;
		while (Date.now() < deadline) {
			if (child.exitCode !== null) throw new Error(`relay exited with ${child.exitCode}:\n${log}`);
			try {
				const response = await fetch(`${plain}/.well-known/outpost.json`);
				if (response.ok) return;
			} catch {
				// not listening yet
			}
			await new Promise((r) => setTimeout(r, 100));
		}
		throw new Error(`relay did not start within 30 s:\n${log}`);
	};

	const exited = (proc: ChildProcess): Promise<void> =>
		proc.exitCode !== null || proc.signalCode !== null ? Promise.resolve() : new Promise((r) => proc.once('exit', () => r()));

	await start(peers);
	const info = async (): Promise<RelayInfo> => (await (await fetch(`${plain}/.well-known/outpost.json`)).json()) as RelayInfo;
	return {
		url,
		dataDir,
		info,
		async tcpAddress() {
			const { peerId } = await info();
			return `/ip4/127.0.0.1/tcp/${port + 2}/p2p/${peerId}`;
		},
		async kill() {
			if (!child) return;
			child.kill('SIGKILL');
			await exited(child);
		},
		async stop() {
			if (!child) return;
			child.kill('SIGTERM');
			await exited(child);
		},
		async restart(withPeers: string[] = []) {
			if (child) await exited(child);
			await start(withPeers);
		},
		async join(invite: string) {
			const proc = run(['join', invite, '--data', dataDir]);
			await exited(proc);
			if (proc.exitCode !== 0) throw new Error(`relay join failed:\n${log}`);
		},
		output: () => log
	};
}
