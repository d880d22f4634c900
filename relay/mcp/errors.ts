/**
 * Named errors of the relay's MCP client. Callers match on `name`; the messages name the
 * server and the tool, so they can be shown to a person or handed to a model as they are.
 */

/** `--mcp` or `<data>/mcp.json` does not describe MCP servers the relay can use. */
export class McpConfigError extends Error {
	override name = 'McpConfigError';
}

/** No MCP server of the relay offers a tool of that name (or the server is unknown). */
export class McpToolNotFoundError extends Error {
	override name = 'McpToolNotFoundError';
}

/** A tool's arguments were not a JSON object, or did not fit its schema; the server was not asked. */
export class McpArgumentsError extends Error {
	override name = 'McpArgumentsError';
}

/** The server is starting, has failed or stopped during the call; it is being restarted. */
export class McpServerDownError extends Error {
	override name = 'McpServerDownError';
}

/** The server did not answer a call within its time limit. */
export class McpTimeoutError extends Error {
	override name = 'McpTimeoutError';
}

/** The server answered a call with a protocol error (an unknown tool, arguments it refused). */
export class McpCallError extends Error {
	override name = 'McpCallError';
}

/** The server has as many calls running as it takes at once; this one was not sent. */
export class McpBusyError extends Error {
	override name = 'McpBusyError';
}
