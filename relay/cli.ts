/**
 * Command-line flags of `npm start` / `npm run relay`. Parsing only: no side effects,
 * so the entry point and the tests share it.
 */
import { parseArgs } from 'node:util';
import { multiaddr } from '@multiformats/multiaddr';
import { isId } from '../src/lib/doc/ids.ts';
import { UsageError } from './errors.ts';
import { MCP_CONFIG_FILE, parseMcpFlag, sameName } from './mcp/mcpConfig.ts';
import type { McpServerSpec } from './mcp/mcpConfig.ts';

/** What the relay was asked to do. */
export interface RelayFlags {
	/**
	 * Port of the app: HTTPS on the LAN, or plain HTTP when `host` is a loopback
	 * address (0 picks a free one).
	 */
	port: number;
	/** Address to listen on; `undefined` means every interface. */
	host: string | undefined;
	/** Port of the plain-HTTP listener on 127.0.0.1 next to HTTPS; `undefined`: `port + 1`. */
	httpPort: number | undefined;
	/**
	 * First of the three libp2p ports (TCP, then WebSockets for the LAN, then WebSockets
	 * on 127.0.0.1); `undefined`: `port + 2`, or free ports when `port` is 0.
	 */
	p2pPort: number | undefined;
	/** Relays to dial, as multiaddrs ending in `/p2p/<peer id>`. */
	peers: string[];
	/** Whether to find other relays on the LAN by mDNS. */
	mdns: boolean;
	/** Directory for documents, keys and the certificate. */
	dataDir: string;
	/** Model files served to browsers; `undefined`: `<dataDir>/models`. */
	modelsDir: string | undefined;
	/** GGUF files the relay runs with node-llama-cpp (`--model`, repeatable). */
	models: string[];
	/** CPU threads per `--model`; `undefined`: node-llama-cpp's default (all cores). */
	modelThreads: number | undefined;
	/** Base URLs (ending in `/v1`) of OpenAI-compatible servers whose models the relay hosts. */
	openaiUpstreams: string[];
	/**
	 * MCP servers given by `--mcp` (repeatable). `start.ts` adds those of `<data>/mcp.json`
	 * (mcp/mcpConfig.ts `readMcpConfigFile`, `mergeMcpSpecs`): parsing here reads no file.
	 */
	mcp: McpServerSpec[];
	/** `--serve-workspace` (repeatable): the workspaces whose members may use the relay's own models and tools; empty: every workspace it archives. */
	serveWorkspaces: string[];
	/** Quotas (`--max-workspaces`, `--workspace-bytes`, …); each undefined keeps its default. */
	quotas: RelayQuotas;
	/** Whether to run `vite build` first when the app is missing or stale. */
	build: boolean;
	/** Print usage and exit. */
	help: boolean;
}

/** What one relay holds and serves at most (defaults fit an 8 GB Jetson-class box). */
export interface RelayQuotas {
	/** Workspaces archived (default 1,000). */
	maxWorkspaces?: number;
	/** Workspaces archived at the request of one address (an IPv6 host by its /64; default 16). */
	archivesPerAddress?: number;
	/** libp2p connections one address may hold open to the relay (default 32). */
	connectionsPerAddress?: number;
	/** Bytes of records per archived workspace (default 1 GiB). */
	workspaceBytes?: number;
	/** Documents per archived workspace (default 100,000). */
	workspaceDocs?: number;
	/** Bytes of blobs (attachments) pinned per archived workspace (default 4 GiB). */
	workspaceBlobBytes?: number;
	/** Bytes the relay stores in all: every workspace's records, sealed logs and blobs together (default 16 GiB). */
	relayBytes?: number;
	/** Requests per address per minute on `/api/`, `/v1/` and signalling (default 600). */
	requestsPerMinute?: number;
	/** Gossip topics one peer may make the relay follow (default 16). */
	topicsPerPeer?: number;
}

/** Default port of the app: HTTPS on the LAN. */
export const DEFAULT_PORT = 8443;

/** Default data directory, relative to the working directory. */
export const DEFAULT_DATA_DIR = './data';

/** Usage text printed by `--help` and after a usage error. */
export const USAGE = `Usage: npm start -- [flags]
       npm run relay -- join '<invite link>' [--data DIR]   (join that workspace's team)
       npm run relay -- api-key create|list|revoke …        (keys of the /v1 API)

  --port N          HTTPS port of the app (default ${DEFAULT_PORT}); plain HTTP instead
                    when --host is a loopback address (127.0.0.1, ::1, localhost)
  --http-port N     plain HTTP on 127.0.0.1 next to HTTPS (default: --port + 1)
  --p2p-port N      libp2p: TCP on N, WebSockets on N+1 (wss on the LAN), ws on
                    127.0.0.1:N+2 (default: --port + 2; free ports when --port is 0)
  --host ADDR       address to listen on (default: all interfaces)
  --data DIR        where documents, keys and the certificate live (default ${DEFAULT_DATA_DIR})
  --models-dir DIR  .gguf files and MLC model directories served to browsers on the LAN (default <data>/models)
  --model FILE.gguf run this model with node-llama-cpp (GPU if present, else CPU) and
                    serve it on /v1 and to the mesh (repeatable)
  --model-threads N CPU threads per --model (default: all cores; on a small box 1 is
                    often faster, as it leaves a core for everything else)
  --openai-upstream URL
                    host the models of an OpenAI-compatible server (Ollama, vLLM,
                    llama.cpp server), e.g. http://10.0.0.5:11434/v1 (repeatable)
  --mcp NAME=COMMAND  run an MCP server over stdio and offer its tools as NAME.<tool>,
                    e.g. --mcp 'files=npx -y @modelcontextprotocol/server-filesystem /srv'
  --mcp NAME=URL    use an MCP server over Streamable HTTP,
                    e.g. --mcp search=http://10.0.0.5:8000/mcp
                    (repeatable; also read from <data>/${MCP_CONFIG_FILE}:
                    { "servers": { "NAME": { "command": "…", "args": […], "env": {…} } or { "url": "…" } } };
                    a --mcp replaces the file's server of the same NAME)
  --serve-workspace ID
                    share this relay's own models (--model, --openai-upstream) and MCP tools
                    with the members of this workspace only (repeatable; default: every
                    workspace the relay archives, including ones anyone on the LAN creates)
  --peer MULTIADDR  dial another relay (repeatable), e.g. /ip4/10.0.0.2/tcp/8445/p2p/12D3KooW…
  --no-mdns         do not look for other relays on the LAN (mDNS)
  --no-build        serve build/ as it is, without rebuilding the app
  Quotas (defaults fit an 8 GB box):
  --max-workspaces N      workspaces archived (default 1000)
  --archives-per-address N  workspaces archived at the request of one address (default 16)
  --workspace-bytes SIZE  bytes stored per archived workspace, e.g. 512M, 2G (default 1G)
  --workspace-blob-bytes SIZE  bytes of attachments pinned per archived workspace (default 4G)
  --workspace-docs N      documents per archived workspace (default 100000)
  --relay-bytes SIZE      bytes the relay stores in all, every workspace together (default 16G)
  --requests-per-minute N per address, on /api, /v1 and signalling (default 600)
  --connections-per-address N  libp2p connections one address may hold open (default 32)
  --topics-per-peer N     gossip topics one peer may make the relay follow (default 16)
  --help            print this text`;

/**
 * Parses the relay's flags (without the leading `node` and script path).
 * @throws {UsageError} on an unknown flag, a stray argument or a bad value.
 */
export function parseFlags(argv: readonly string[]): RelayFlags {
	let values;
	try {
		({ values } = parseArgs({
			args: [...argv],
			strict: true,
			allowPositionals: false,
			options: {
				port: { type: 'string' },
				'http-port': { type: 'string' },
				'p2p-port': { type: 'string' },
				host: { type: 'string' },
				data: { type: 'string' },
				'models-dir': { type: 'string' },
				peer: { type: 'string', multiple: true },
				model: { type: 'string', multiple: true },
				'model-threads': { type: 'string' },
				'openai-upstream': { type: 'string', multiple: true },
				mcp: { type: 'string', multiple: true },
				'serve-workspace': { type: 'string', multiple: true },
				'no-mdns': { type: 'boolean' },
				'no-build': { type: 'boolean' },
				'max-workspaces': { type: 'string' },
				'archives-per-address': { type: 'string' },
				'connections-per-address': { type: 'string' },
				'workspace-bytes': { type: 'string' },
				'workspace-blob-bytes': { type: 'string' },
				'workspace-docs': { type: 'string' },
				'relay-bytes': { type: 'string' },
				'requests-per-minute': { type: 'string' },
				'topics-per-peer': { type: 'string' },
				help: { type: 'boolean', short: 'h' }
			}
		}));
	} catch (error) {
		throw new UsageError(error instanceof Error ? error.message : String(error));
	}

	const port = values.port === undefined ? DEFAULT_PORT : parsePort('--port', values.port);
	const httpPort = values['http-port'] === undefined ? undefined : parsePort('--http-port', values['http-port']);
	const p2pPort = values['p2p-port'] === undefined ? undefined : parsePort('--p2p-port', values['p2p-port'], 65533);
	if (p2pPort === undefined && port > 65533 - 2) {
		throw new UsageError(`--port ${port} leaves no room for the libp2p ports after it; add --p2p-port N`);
	}
	return {
		port,
		host: values.host === undefined ? undefined : nonEmpty('--host', values.host),
		httpPort,
		p2pPort,
		dataDir: values.data === undefined ? DEFAULT_DATA_DIR : nonEmpty('--data', values.data),
		modelsDir: values['models-dir'] === undefined ? undefined : nonEmpty('--models-dir', values['models-dir']),
		models: (values.model ?? []).map((file) => nonEmpty('--model', file)),
		modelThreads: values['model-threads'] === undefined ? undefined : parseCount('--model-threads', values['model-threads'], 256),
		openaiUpstreams: (values['openai-upstream'] ?? []).map(parseUpstream),
		peers: (values.peer ?? []).map(parsePeer),
		mcp: parseMcpFlags(values.mcp ?? []),
		serveWorkspaces: (values['serve-workspace'] ?? []).map(parseWorkspaceId),
		mdns: values['no-mdns'] !== true,
		quotas: {
			...(values['max-workspaces'] !== undefined ? { maxWorkspaces: parseCount('--max-workspaces', values['max-workspaces'], 1_000_000) } : {}),
			...(values['archives-per-address'] !== undefined
				? { archivesPerAddress: parseCount('--archives-per-address', values['archives-per-address'], 1_000_000) }
				: {}),
			...(values['workspace-bytes'] !== undefined ? { workspaceBytes: parseSize('--workspace-bytes', values['workspace-bytes']) } : {}),
			...(values['workspace-blob-bytes'] !== undefined ? { workspaceBlobBytes: parseSize('--workspace-blob-bytes', values['workspace-blob-bytes']) } : {}),
			...(values['relay-bytes'] !== undefined ? { relayBytes: parseSize('--relay-bytes', values['relay-bytes']) } : {}),
			...(values['workspace-docs'] !== undefined ? { workspaceDocs: parseCount('--workspace-docs', values['workspace-docs'], 100_000) } : {}),
			...(values['requests-per-minute'] !== undefined
				? { requestsPerMinute: parseCount('--requests-per-minute', values['requests-per-minute'], 1_000_000) }
				: {}),
			...(values['connections-per-address'] !== undefined
				? { connectionsPerAddress: parseCount('--connections-per-address', values['connections-per-address'], 300) }
				: {}),
			...(values['topics-per-peer'] !== undefined ? { topicsPerPeer: parseCount('--topics-per-peer', values['topics-per-peer'], 1024) } : {})
		},
		build: values['no-build'] !== true,
		help: values.help === true
	};
}

/** A workspace id for `--serve-workspace` (the id in its invite links and the app's URL). */
function parseWorkspaceId(text: string): string {
	if (!isId(text)) throw new UsageError(`--serve-workspace needs a workspace id (as in the app's address, after /w/), not "${text}"`);
	return text;
}

function parseCount(flag: string, text: string, max: number): number {
	const n = Number(text);
	if (!/^\d+$/.test(text) || n < 1 || n > max) throw new UsageError(`${flag} must be a whole number from 1 to ${max}, not "${text}"`);
	return n;
}

/** A size in bytes: a whole number with an optional K, M or G (powers of 1024). */
function parseSize(flag: string, text: string): number {
	const match = /^(\d+)([KMG]?)$/i.exec(text.trim());
	const units: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 };
	const n = match === null ? NaN : Number(match[1]) * units[match[2]!.toUpperCase()]!;
	if (!Number.isSafeInteger(n) || n < 1024 * 1024) throw new UsageError(`${flag} must be a size of at least 1M, such as 512M or 2G, not "${text}"`);
	return n;
}

function parsePort(flag: string, text: string, max = 65535): number {
	const port = Number(text);
	if (!/^\d+$/.test(text) || port > max) {
		throw new UsageError(`${flag} must be a whole number from 0 to ${max}, not "${text}"`);
	}
	return port;
}

/** A relay address must parse and name its peer, or the dial could never be checked. */
function parsePeer(text: string): string {
	let components;
	try {
		components = multiaddr(text.trim()).getComponents();
	} catch {
		throw new UsageError(`--peer needs a multiaddr such as /ip4/10.0.0.2/tcp/8445/p2p/12D3KooW…, not "${text}"`);
	}
	if (components.at(-1)?.name !== 'p2p') {
		throw new UsageError(`--peer must end in /p2p/<peer id> (the other relay prints its addresses): "${text}"`);
	}
	return text.trim();
}

/** An upstream must be an http(s) URL; its API base, without a trailing slash. */
function parseUpstream(text: string): string {
	let url: URL;
	try {
		url = new URL(text.trim());
	} catch {
		throw new UsageError(`--openai-upstream needs a URL such as http://10.0.0.5:11434/v1, not "${text}"`);
	}
	if (url.protocol !== 'http:' && url.protocol !== 'https:')
		throw new UsageError(`--openai-upstream must be an http:// or https:// URL: "${text}"`);
	if (url.username !== '' || url.password !== '') throw new UsageError(`--openai-upstream must not carry credentials: "${text}"`);
	if (url.search !== '' || url.hash !== '') throw new UsageError(`--openai-upstream takes the API base URL only, without ? or #: "${text}"`);
	return url.href.replace(/\/+$/, '');
}

/** Every `--mcp`, each name once. */
function parseMcpFlags(texts: readonly string[]): McpServerSpec[] {
	const specs = texts.map((text) => {
		try {
			return parseMcpFlag(text);
		} catch (error) {
			if (error instanceof Error && error.name === 'McpConfigError') throw new UsageError(`--mcp ${error.message}`);
			throw error;
		}
	});
	const twice = specs.find((spec, i) => specs.findIndex((other) => sameName(other.name, spec.name)) !== i);
	if (twice !== undefined) throw new UsageError(`--mcp names the server "${twice.name}" twice (names ignore case)`);
	return specs;
}

function nonEmpty(flag: string, text: string): string {
	if (text.trim() === '') throw new UsageError(`${flag} needs a value`);
	return text;
}
