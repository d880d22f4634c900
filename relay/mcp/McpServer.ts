/**
 * One MCP server as the relay sees it: a connection through the official SDK's `Client` (a
 * child process over stdio, or Streamable HTTP), its tools, and calls of them with a time
 * limit. The connection is kept: when the server exits, its connection closes or it cannot be
 * reached, it goes to `failed` with a message saying why, and is started again after a delay
 * that doubles each time (1 s, 2 s, 4 s … 60 s; back to 1 s once it has stayed up a minute).
 *
 * Calls run concurrently (JSON-RPC ids), so one that hangs only costs its own time limit, up
 * to {@link MAX_RUNNING_CALLS} at once per server, all callers together (a call past it fails at
 * once with {@link McpBusyError}: the per-member shares of the relay's tool APIs multiply with
 * members and workspaces, this does not). A call to a server that is not `ready` fails at once with an error naming the server, the tool
 * and when the next start is due. The stdio child is killed on {@link McpServer.close}.
 */
import { createInterface } from 'node:readline';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import type { ToolResult, ToolSpec } from '../../src/lib/ai/tools/types.ts';
import { McpArgumentsError, McpBusyError, McpCallError, McpServerDownError, McpTimeoutError, McpToolNotFoundError } from './errors.ts';
import { argumentsProblem } from './argumentCheck.ts';
import type { McpServerSpec } from './mcpConfig.ts';
import { MAX_TOOLS, listTools } from './toolList.ts';
import { MAX_RESULT_BYTES, toToolResult } from './toolResult.ts';
import { BoundedStdioTransport, boundedFetch, MAX_MESSAGE_BYTES, OVERSIZE_CODE } from './boundedTransports.ts';

/** Where a server is: connecting, connected with its tools listed, down (and due to restart), or closed for good. */
export const McpServerState = { starting: 'starting', ready: 'ready', failed: 'failed', closed: 'closed' } as const;
export type McpServerState = (typeof McpServerState)[keyof typeof McpServerState];

/** Default of the calls one server runs at once, everyone's together. */
export const MAX_RUNNING_CALLS = 16;

/** Delay before the `attempt`th restart (0-based): 1 s, 2 s, 4 s … at most 60 s. */
export function defaultRetryDelay(attempt: number): number {
	return Math.min(1000 * 2 ** attempt, 60_000);
}

/** Options of {@link McpServer}. */
export interface McpServerInit {
	spec: McpServerSpec;
	/** Time limit of a tool call, in ms; default 30 s. */
	callTimeoutMs?: number;
	/** Time limit of the handshake and of each page of the tool listing, in ms; default 30 s. */
	connectTimeoutMs?: number;
	/** Calls running at once, all callers together; default {@link MAX_RUNNING_CALLS}. */
	maxRunningCalls?: number;
	/** Largest answer taken from the server, in bytes (boundedTransports.ts); default `MAX_MESSAGE_BYTES`. */
	maxMessageBytes?: number;
	/** Delay before a restart, by attempt; default {@link defaultRetryDelay}. */
	retryDelay?: (attempt: number) => number;
	/** How long a server must stay up for the delays to start again from the first; default 60 s. */
	stableMs?: number;
	/** Tools kept at most; default 128. */
	maxTools?: number;
	/** Bytes of a result's text kept at most; default 64 KiB. */
	maxResultBytes?: number;
	/** State changes, skipped tools and the child's stderr, one line each. */
	log?: (line: string) => void;
	/** Called when the state or the tools changed. */
	onChange?: () => void;
}

/** A live connection; replaced by a fresh one on each start. */
interface Connection {
	client: Client;
	transport: Transport;
	/** The child's last line on stderr, to say why it exited. */
	lastStderr?: string;
	/** Connected and listed; until then a failure is the start's to report. */
	up: boolean;
}

/** See the module comment. */
export class McpServer {
	readonly name: string;
	private currentState: McpServerState = McpServerState.starting;
	private currentError: string | undefined;
	private currentTools: ToolSpec[] = [];
	/** Calls sent and not answered yet (everyone's). */
	private runningCalls = 0;
	private connection: Connection | undefined;
	private attempt = 0;
	private readyAt = 0;
	private retryTimer: ReturnType<typeof setTimeout> | undefined;
	private retryAt = 0;
	private readonly log: (line: string) => void;
	private readonly callTimeoutMs: number;
	private readonly connectTimeoutMs: number;

	constructor(private readonly init: McpServerInit) {
		this.name = init.spec.name;
		this.log = init.log ?? (() => {});
		this.callTimeoutMs = init.callTimeoutMs ?? 30_000;
		this.connectTimeoutMs = init.connectTimeoutMs ?? 30_000;
	}

	/** Where the server is now. */
	get state(): McpServerState {
		return this.currentState;
	}

	/** Why it is `failed`. */
	get error(): string | undefined {
		return this.currentError;
	}

	/** Its tools while `ready` (names as the server gives them); none otherwise. */
	get tools(): readonly ToolSpec[] {
		return this.currentTools;
	}

	/** Connects (in the background; watch {@link McpServerInit.onChange}). */
	start(): void {
		if (this.currentState === McpServerState.closed || this.connection !== undefined || this.retryTimer !== undefined) return;
		void this.connect();
	}

	/**
	 * Calls a tool with `args`; rejects with a named error ({@link McpServerDownError},
	 * {@link McpTimeoutError}, {@link McpToolNotFoundError}, {@link McpCallError}), or with
	 * `signal`'s reason when it aborts.
	 */
	async call(tool: string, args: Record<string, unknown>, signal?: AbortSignal): Promise<ToolResult> {
		signal?.throwIfAborted();
		const connection = this.connection;
		if (this.currentState !== McpServerState.ready || connection === undefined) throw this.downError(tool);
		const spec = this.currentTools.find((t) => t.name === tool);
		if (spec === undefined) throw new McpToolNotFoundError(`The MCP server "${this.name}" has no tool "${tool}"`);
		const problem = argumentsProblem(spec.parameters, args, (why) => this.log(`MCP server "${this.name}": the arguments of "${tool}" are left to the server to check (${shorten(why)})`));
		if (problem !== undefined) throw new McpArgumentsError(`The arguments of "${this.name}.${tool}" do not fit its schema: ${problem}`);
		const most = this.init.maxRunningCalls ?? MAX_RUNNING_CALLS;
		if (this.runningCalls >= most) {
			throw new McpBusyError(`The MCP server "${this.name}" is running ${this.runningCalls} calls, the most it takes at once: try "${tool}" again in a moment`);
		}
		this.runningCalls++;
		// Our own limit rather than the SDK's, so a timeout and an abort can be told apart.
		const limit = new AbortController();
		let timedOut = false;
		const timer = setTimeout(() => {
			timedOut = true;
			limit.abort();
		}, this.callTimeoutMs);
		const onAbort = (): void => limit.abort(signal?.reason);
		signal?.addEventListener('abort', onAbort, { once: true });
		try {
			const result = await connection.client.callTool({ name: tool, arguments: args }, undefined, {
				signal: limit.signal,
				timeout: this.callTimeoutMs + 1000
			});
			return toToolResult(result, this.init.maxResultBytes ?? MAX_RESULT_BYTES);
		} catch (error) {
			if (timedOut) {
				throw new McpTimeoutError(`The MCP server "${this.name}" did not answer "${tool}" within ${seconds(this.callTimeoutMs)}`);
			}
			if (signal?.aborted === true) throw signal.reason;
			if (error instanceof McpError && error.code === ErrorCode.ConnectionClosed) throw this.downError(tool, true);
			if (error instanceof McpError && error.code === OVERSIZE_CODE) {
				throw new McpCallError(`The MCP server "${this.name}" answered "${tool}" with too much: ${shorten(error.message.replace(/^MCP error -?\d+: /, ''))}`);
			}
			if (error instanceof McpError) throw new McpCallError(`The MCP server "${this.name}" refused "${tool}": ${shorten(error.message)}`);
			// The SDK's schema refused the answer (zod names its error "$ZodError" or "ZodError").
			if (error instanceof Error && /^\$?ZodError$/.test(error.name)) {
				throw new McpCallError(`The MCP server "${this.name}" answered "${tool}" with something that is not a tool result`);
			}
			// Not an answer at all (the HTTP server is unreachable, a session expired): reconnect.
			this.fail(connection, `it did not answer: ${describe(error)}`);
			throw this.downError(tool, true);
		} finally {
			this.runningCalls--;
			clearTimeout(timer);
			signal?.removeEventListener('abort', onAbort);
		}
	}

	/** Stops restarting and closes the connection (the stdio child is ended, then killed). */
	async close(): Promise<void> {
		if (this.currentState === McpServerState.closed) return;
		clearTimeout(this.retryTimer);
		const connection = this.connection;
		this.connection = undefined;
		this.currentTools = [];
		this.currentState = McpServerState.closed;
		await connection?.client.close().catch(() => {});
	}

	private async connect(): Promise<void> {
		const connection = this.open();
		this.connection = connection;
		this.setState(McpServerState.starting);
		try {
			await connection.client.connect(connection.transport, { timeout: this.connectTimeoutMs });
			const tools = await this.list(connection.client);
			if (this.connection !== connection) return;
			this.currentTools = tools;
			connection.up = true;
			this.readyAt = Date.now();
			this.currentError = undefined;
			this.log(`MCP server "${this.name}" is ready with ${tools.length} tool${tools.length === 1 ? '' : 's'}`);
			this.setState(McpServerState.ready);
		} catch (error) {
			this.fail(connection, this.startFailure(connection, error));
		}
	}

	/** A new client and transport, their events bound to this connection only. */
	private open(): Connection {
		const { spec } = this.init;
		const maxMessageBytes = this.init.maxMessageBytes ?? MAX_MESSAGE_BYTES;
		const transport =
			spec.transport === 'stdio'
				? new BoundedStdioTransport({ command: spec.command, args: spec.args, ...(spec.env ? { env: spec.env } : {}), maxMessageBytes })
				: new StreamableHTTPClientTransport(new URL(spec.url), { fetch: boundedFetch(maxMessageBytes) });
		const client: Client = new Client(
			{ name: 'outpost-relay', version: '0.1.0' },
			{
				capabilities: {},
				listChanged: { tools: { autoRefresh: false, debounceMs: 100, onChanged: () => void this.refresh(connection) } }
			}
		);
		const connection: Connection = { client, transport, up: false };
		// While starting, the SDK closes the connection itself when the handshake fails; the
		// start's error says more than "closed", so it reports that one.
		client.onclose = () => {
			if (connection.up) this.fail(connection, this.closedReason(connection));
		};
		// Errors that do not end the connection (a lost notification stream that the HTTP transport
		// reopens, a line that is not JSON-RPC) are not failures; calls report their own.
		client.onerror = () => {};
		if (transport instanceof BoundedStdioTransport) {
			createInterface({ input: transport.stderr }).on('line', (line) => {
				const text = line.trim().slice(0, 500);
				if (text === '') return;
				connection.lastStderr = text;
				this.log(`MCP server "${this.name}": ${text}`);
			});
		}
		return connection;
	}

	/** Lists the tools again after the server said they changed. */
	private async refresh(connection: Connection): Promise<void> {
		try {
			const tools = await this.list(connection.client);
			if (this.connection !== connection || this.currentState !== McpServerState.ready) return;
			this.currentTools = tools;
			this.log(`MCP server "${this.name}" now has ${tools.length} tool${tools.length === 1 ? '' : 's'}`);
			this.init.onChange?.();
		} catch (error) {
			if (error instanceof McpError && error.code !== ErrorCode.ConnectionClosed) {
				this.log(`MCP server "${this.name}" could not list its tools again: ${shorten(error.message)}`);
			} else this.fail(connection, `it did not answer: ${describe(error)}`);
		}
	}

	private list(client: Client): Promise<ToolSpec[]> {
		return listTools(client, {
			maxTools: this.init.maxTools ?? MAX_TOOLS,
			timeoutMs: this.connectTimeoutMs,
			onSkipped: (tool, why) => this.log(`MCP server "${this.name}": tool "${tool}" left out: ${why}`)
		});
	}

	/** Takes `connection` down (if it is still the current one) and schedules the next start. */
	private fail(connection: Connection, reason: string): void {
		if (this.connection !== connection || this.currentState === McpServerState.closed) return;
		this.connection = undefined;
		void connection.client.close().catch(() => {});
		if (this.readyAt > 0 && Date.now() - this.readyAt >= (this.init.stableMs ?? 60_000)) this.attempt = 0;
		this.readyAt = 0;
		const delay = (this.init.retryDelay ?? defaultRetryDelay)(this.attempt++);
		this.retryAt = Date.now() + delay;
		this.currentError = reason;
		this.currentTools = [];
		this.log(`MCP server "${this.name}" failed (${reason}); retrying in ${seconds(delay)}`);
		this.retryTimer = setTimeout(() => {
			this.retryTimer = undefined;
			if (this.currentState !== McpServerState.closed) void this.connect();
		}, delay);
		this.setState(McpServerState.failed);
	}

	private setState(state: McpServerState): void {
		this.currentState = state;
		this.init.onChange?.();
	}

	/** Why a start failed, in words. */
	private startFailure(connection: Connection, error: unknown): string {
		const { spec } = this.init;
		if (error instanceof McpError && error.code === ErrorCode.ConnectionClosed) return this.closedReason(connection);
		const code = errorCode(error);
		if (spec.transport === 'stdio' && code === 'ENOENT') return `the command "${spec.command}" was not found`;
		if (spec.transport === 'stdio' && code === 'EACCES') return `the command "${spec.command}" may not be run (permission denied)`;
		if (error instanceof McpError && error.code === ErrorCode.RequestTimeout) {
			return `it did not answer within ${seconds(this.connectTimeoutMs)} of starting`;
		}
		if (spec.transport === 'http') return `${spec.url} did not answer: ${describe(error)}`;
		return `it could not start: ${describe(error)}`;
	}

	private closedReason(connection: Connection): string {
		if (this.init.spec.transport === 'http') return 'the connection closed';
		return connection.lastStderr !== undefined ? `it exited: ${connection.lastStderr}` : 'it exited';
	}

	/**
	 * Why `tool` did not run: "The MCP server "files" is not running, so "read" was not run;
	 * retrying in 4 s", or "… stopped while running "read"; retrying in 4 s". This goes back to
	 * whichever member asked, so it names no cause: the cause (the server's last line of stderr,
	 * which may hold paths or secrets) is for the relay's log and its owner and admins' status.
	 */
	private downError(tool: string, during = false): McpServerDownError {
		const server = `The MCP server "${this.name}"`;
		if (this.currentState === McpServerState.closed) return new McpServerDownError(`${server} has been closed, so "${tool}" was not run`);
		if (this.currentState !== McpServerState.failed) {
			return new McpServerDownError(`${server} is starting, so "${tool}" was not run; try again in a moment`);
		}
		const retry = `retrying in ${seconds(Math.max(0, this.retryAt - Date.now()))}`;
		return new McpServerDownError(during ? `${server} stopped while running "${tool}"; ${retry}` : `${server} is not running, so "${tool}" was not run; ${retry}`);
	}
}

function errorCode(error: unknown): unknown {
	if (typeof error !== 'object' || error === null) return undefined;
	if ('code' in error && typeof error.code === 'string') return error.code;
	return 'cause' in error ? errorCode(error.cause) : undefined;
}

/**
 * An error in a few words: its message, the message of its cause (fetch says only "fetch
 * failed" and keeps "connect ECONNREFUSED …" there) and the system error code.
 */
function describe(error: unknown): string {
	let message = error instanceof Error ? error.message : String(error);
	const cause = error instanceof Error ? error.cause : undefined;
	if (cause instanceof Error && cause.message !== '' && !message.includes(cause.message)) message += `: ${cause.message}`;
	const code = errorCode(error);
	return typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message;
}

/** A server's own words, on one line and at most 300 characters (they can hold pages of JSON). */
function shorten(text: string): string {
	const line = text.replace(/\s+/g, ' ').trim();
	return line.length > 300 ? `${line.slice(0, 299)}…` : line;
}

/** `ms` as seconds for people: "30 s", "1.5 s". */
function seconds(ms: number): string {
	return `${Number((ms / 1000).toFixed(1))} s`;
}
