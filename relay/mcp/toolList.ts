/**
 * An MCP server's tools, as the relay offers them: every page of `tools/list` (following
 * `nextCursor`), at most a fixed number of tools, each checked here rather than by the SDK's
 * strict schema, so one malformed tool is left out (and reported) instead of failing the
 * whole listing. A tool is kept when its name is safe to show and send ({@link TOOL_NAME})
 * and its `inputSchema` is a JSON Schema of type `object`.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { z } from 'zod';
import { TOOL_NAME, type JsonSchema, type ToolSpec } from '../../src/lib/ai/tools/types.ts';
import { deeperThan, ToolLimits } from '../../src/lib/ai/tools/toolWire.ts';

/** Default number of tools kept per server. */
export const MAX_TOOLS = 128;

/** Pages read at most: a server that hands out cursors forever is cut off here. */
const MAX_PAGES = 64;

/** A page of `tools/list`, with the tools left unchecked. */
const ListPage = z.looseObject({ tools: z.array(z.unknown()), nextCursor: z.string().optional() });

/** Options of {@link listTools}. */
export interface ListToolsOptions {
	/** Tools kept at most. */
	maxTools: number;
	/** Time limit of each page, in ms. */
	timeoutMs: number;
	/** Told about each tool left out, and why. */
	onSkipped: (tool: string, why: string) => void;
}

/** Every tool of the server (up to the limit) that the relay can offer; see the module comment. */
export async function listTools(client: Client, options: ListToolsOptions): Promise<ToolSpec[]> {
	const tools: ToolSpec[] = [];
	let cursor: string | undefined;
	for (let page = 0; page < MAX_PAGES; page++) {
		const answer = await client.request(
			{ method: 'tools/list', params: cursor !== undefined ? { cursor } : {} },
			ListPage,
			{ timeout: options.timeoutMs }
		);
		for (const raw of answer.tools) {
			const tool = checkTool(raw, options.onSkipped);
			if (tool === undefined) continue;
			if (tools.some((t) => t.name === tool.name)) {
				options.onSkipped(tool.name, 'it is listed twice');
				continue;
			}
			if (tools.length === options.maxTools) {
				options.onSkipped(tool.name, `the server offers more than ${options.maxTools} tools`);
				return tools;
			}
			tools.push(tool);
		}
		cursor = answer.nextCursor;
		if (cursor === undefined || cursor === '') return tools;
	}
	options.onSkipped('…', `the listing goes on past ${MAX_PAGES} pages`);
	return tools;
}

function checkTool(raw: unknown, onSkipped: ListToolsOptions['onSkipped']): ToolSpec | undefined {
	if (typeof raw !== 'object' || raw === null) {
		onSkipped(String(raw).slice(0, 80), 'it is not a tool object');
		return undefined;
	}
	const { name, description, title, inputSchema } = raw as Record<string, unknown>;
	if (typeof name !== 'string' || !TOOL_NAME.test(name)) {
		onSkipped(String(name).slice(0, 80), 'its name is not 1 to 64 letters, digits, "_", "-" or "."');
		return undefined;
	}
	if (typeof inputSchema !== 'object' || inputSchema === null || (inputSchema as JsonSchema).type !== 'object') {
		onSkipped(name, 'its inputSchema is not a JSON Schema of type "object"');
		return undefined;
	}
	if (deeperThan(inputSchema, ToolLimits.maxSchemaDepth)) {
		// Members' apps refuse a list holding it (toolWire.ts `checkTools`): it would cost them every tool.
		onSkipped(name, `its inputSchema nests deeper than ${ToolLimits.maxSchemaDepth} levels`);
		return undefined;
	}
	const text = typeof description === 'string' && description.trim() !== '' ? description : typeof title === 'string' ? title : '';
	return { name, description: text, parameters: inputSchema as JsonSchema };
}
