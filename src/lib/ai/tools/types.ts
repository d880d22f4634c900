/**
 * What tools are to every part of Outpost (DESIGN.md "Models on the mesh", issue 15): the
 * engines that let a model call them, the tool loop that runs the calls, the built-in
 * workspace tools, the relay's MCP servers and `/v1`. Plain data only, so a tool's
 * description crosses a libp2p stream or an HTTP body unchanged.
 */

/**
 * A JSON Schema, as far as tools use one (the subset OpenAI's function parameters and MCP's
 * `inputSchema` use in practice). Unknown keywords are kept and ignored.
 */
export interface JsonSchema {
	type?: string | string[];
	description?: string;
	properties?: Record<string, JsonSchema>;
	required?: string[];
	enum?: (string | number | boolean | null)[];
	items?: JsonSchema;
	minLength?: number;
	maxLength?: number;
	minItems?: number;
	maxItems?: number;
	minimum?: number;
	maximum?: number;
	[keyword: string]: unknown;
}

/** A tool as a model sees it: what OpenAI calls a function. */
export interface ToolSpec {
	/** Unique among the tools offered to one generation; `[A-Za-z0-9_.-]{1,64}`. */
	name: string;
	description: string;
	/** A JSON Schema of type `object` for the arguments. */
	parameters: JsonSchema;
}

/** A call of a tool the model made. */
export interface ToolCall {
	/** Unique within the conversation (the tool's result names it). */
	id: string;
	name: string;
	/** The arguments as JSON text, exactly as the model wrote them. */
	arguments: string;
}

/** What a tool returned: text for the model, and whether it is an error. */
export interface ToolResult {
	content: string;
	isError?: boolean;
}

/**
 * Whether the model may, must or must not call a tool (OpenAI's `tool_choice`): `auto` lets
 * it choose, `required` makes it call one, `{ name }` makes it call that one.
 */
export type ToolChoice = 'auto' | 'none' | 'required' | { name: string };

/** A tool's name is safe to show, send and put in a grammar. */
export const TOOL_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
