/**
 * All the MCP servers of a relay (`--mcp`, `<data>/mcp.json`), as one set of tools: each
 * server's tools under `<server>.<tool>` names, calls routed by that prefix, each server's
 * state for a status page, and one change event when the set of tools changes (a server came
 * up, went down, or said its tools changed). Each server keeps itself connected
 * (McpServer.ts); the hub only gathers them.
 */
import { TOOL_NAME, type ToolResult, type ToolSpec } from '../../src/lib/ai/tools/types.ts';
import { McpArgumentsError, McpConfigError, McpToolNotFoundError } from './errors.ts';
import { sameName, type McpServerSpec } from './mcpConfig.ts';
import { McpServer, type McpServerInit, type McpServerState } from './McpServer.ts';

/** Options of {@link McpHub}: the servers, and what every {@link McpServer} takes. */
export interface McpHubInit extends Omit<McpServerInit, 'spec' | 'onChange'> {
	servers: readonly McpServerSpec[];
}

/** One server, as `status()` reports it. */
export interface McpServerStatus {
	name: string;
	state: McpServerState;
	/** Why it is `failed`. */
	error?: string;
	/** Tools it offers now. */
	tools: number;
}

/** See the module comment. */
export class McpHub {
	private readonly servers: McpServer[];
	private readonly listeners = new Set<() => void>();
	private readonly reported = new Set<string>();
	private readonly log: (line: string) => void;

	/** @throws {McpConfigError} when two servers have the same name. */
	constructor(init: McpHubInit) {
		const twice = init.servers.find((spec, i) => init.servers.findIndex((other) => sameName(other.name, spec.name)) !== i);
		if (twice !== undefined) throw new McpConfigError(`the MCP server "${twice.name}" is given twice (names ignore case)`);
		this.log = init.log ?? (() => {});
		const { servers, ...options } = init;
		this.servers = servers.map((spec) => new McpServer({ ...options, spec, onChange: () => this.changed() }));
	}

	/** Starts connecting to every server (in the background: watch {@link onChange}). */
	start(): void {
		for (const server of this.servers) server.start();
	}

	/** The tools of every `ready` server, named `<server>.<tool>`. */
	tools(): ToolSpec[] {
		return this.servers.flatMap((server) =>
			server.tools.flatMap((tool): ToolSpec[] => {
				const name = `${server.name}.${tool.name}`;
				if (!TOOL_NAME.test(name)) {
					if (!this.reported.has(name)) this.log(`MCP server "${server.name}": tool "${tool.name}" left out: "${name}" is longer than 64 characters`);
					this.reported.add(name);
					return [];
				}
				const description = tool.description === '' ? `${tool.name} (MCP server ${server.name})` : `${server.name}: ${tool.description}`;
				return [{ name, description, parameters: tool.parameters }];
			})
		);
	}

	/**
	 * Calls the tool `<server>.<tool>` with `args`, which must be a JSON object.
	 * @throws {McpToolNotFoundError} for an unknown server or tool.
	 * @throws {McpArgumentsError} when `args` is not an object.
	 * @throws the server's errors (McpServer.call): down, timed out, refused, or `signal`'s reason.
	 */
	async call(qualifiedName: string, args: unknown, signal?: AbortSignal): Promise<ToolResult> {
		const dot = qualifiedName.indexOf('.');
		const server = dot < 0 ? undefined : this.servers.find((s) => s.name === qualifiedName.slice(0, dot));
		if (server === undefined) throw new McpToolNotFoundError(`There is no MCP tool "${qualifiedName}" (tools are named <server>.<tool>)`);
		if (typeof args !== 'object' || args === null || Array.isArray(args)) {
			const what = args === null ? 'null' : Array.isArray(args) ? 'an array' : typeof args;
			throw new McpArgumentsError(`The arguments of "${qualifiedName}" must be a JSON object, not ${what}`);
		}
		return server.call(qualifiedName.slice(dot + 1), args as Record<string, unknown>, signal);
	}

	/** Each server's state, in the order they were given. */
	status(): McpServerStatus[] {
		return this.servers.map((server) => ({
			name: server.name,
			state: server.state,
			...(server.error !== undefined && server.state === 'failed' ? { error: server.error } : {}),
			tools: server.tools.length
		}));
	}

	/** Calls `listener` whenever a server's state or tools change; returns the unsubscribe. */
	onChange(listener: () => void): () => void {
		this.listeners.add(listener);
		return () => this.listeners.delete(listener);
	}

	/** Closes every server (and ends the stdio children); no more changes are reported. */
	async close(): Promise<void> {
		this.listeners.clear();
		await Promise.all(this.servers.map((server) => server.close()));
	}

	private changed(): void {
		for (const listener of [...this.listeners]) {
			try {
				listener();
			} catch (error) {
				this.log(`An MCP change listener failed: ${error instanceof Error ? error.message : String(error)}`);
			}
		}
	}
}
