/**
 * A GBNF grammar (llama.cpp's grammar format, which node-llama-cpp, wllama and WebLLM's
 * xgrammar all take) that forces a model to write one tool call: the JSON object
 * `{"tool":"<name>","arguments":{…}}` (compact: every token counts in a small context) with arguments that match the tool's JSON Schema.
 *
 * Every value is bounded (strings, digits, array items), so even a model with random weights
 * finishes a call in a bounded number of tokens: the grammar is what lets the engine tests
 * run on the generated tiny model. Keywords the grammar cannot express (minimum, pattern, …)
 * are left to the tool runner's argument check.
 */
import type { JsonSchema, ToolSpec } from './types.js';

/** Longest string a grammar allows when the schema sets no `maxLength`. */
export const DEFAULT_MAX_STRING = 64;
/** Most array items when the schema sets no `maxItems`. */
export const DEFAULT_MAX_ITEMS = 8;
/** Deepest nesting of objects and arrays a grammar spells out; deeper values are scalars. */
const MAX_DEPTH = 6;

/** Options of {@link toolCallGrammar}. */
export interface ToolGrammarOptions {
	/**
	 * Longest string of any argument, whatever its schema allows: a call must end within the
	 * generation's token budget (a model that never closes a string would be cut off mid-call).
	 */
	maxString?: number;
}

/** The grammar of one call of any of `tools`. */
export function toolCallGrammar(tools: readonly ToolSpec[], options: ToolGrammarOptions = {}): string {
	if (tools.length === 0) throw new RangeError('no tools to call');
	const rules = new GrammarRules(options.maxString ?? 4096);
	const calls = tools.map((tool, i) => {
		const args = rules.value(tool.parameters, `args${i}`, 0);
		return rules.add(`call${i}`, `${literal(`"${escapeJson(tool.name)}"`)} ${literal(',"arguments":')} ${args}`);
	});
	rules.add('root', `${literal('{"tool":')} (${calls.join(' | ')}) ${literal('}')}`);
	return rules.text();
}

/** Grammar rules by name; equal bodies share a rule. */
class GrammarRules {
	private readonly rules = new Map<string, string>();
	private readonly byBody = new Map<string, string>();

	constructor(private readonly maxString: number) {}

	add(name: string, body: string): string {
		const existing = this.byBody.get(body);
		if (existing !== undefined && name !== 'root') return existing;
		this.rules.set(name, body);
		this.byBody.set(body, name);
		return name;
	}

	text(): string {
		const lines = [...this.rules].map(([name, body]) => `${name} ::= ${body}`);
		return [...lines, ...PRIMITIVES].join('\n') + '\n';
	}

	/** The rule name of a value matching `schema`. */
	value(schema: JsonSchema, name: string, depth: number): string {
		if (schema.enum !== undefined && schema.enum.length > 0)
			return this.add(name, schema.enum.map((v) => literal(JSON.stringify(v))).join(' | '));
		if ('const' in schema) return this.add(name, literal(JSON.stringify(schema['const'])));
		const types = Array.isArray(schema.type) ? schema.type : schema.type !== undefined ? [schema.type] : [];
		if (types.length > 1)
			return this.add(name, types.map((type, i) => this.value({ ...schema, type }, `${name}-${i}`, depth)).join(' | '));
		switch (types[0]) {
			case 'string':
				return this.add(name, stringRule(schema, this.maxString));
			case 'integer':
				return this.add(name, integerRule(schema));
			case 'number':
				return 'number';
			case 'boolean':
				return 'boolean';
			case 'null':
				return 'null';
			case 'array':
				return depth >= MAX_DEPTH ? 'scalar' : this.array(schema, name, depth);
			case 'object':
				return depth >= MAX_DEPTH ? 'scalar' : this.object(schema, name, depth);
			default:
				return schema.properties !== undefined && depth < MAX_DEPTH ? this.object(schema, name, depth) : 'scalar';
		}
	}

	/** Every property, in the schema's order (required or not: all present is valid). */
	private object(schema: JsonSchema, name: string, depth: number): string {
		const entries = Object.entries(schema.properties ?? {});
		if (entries.length === 0) return this.add(name, literal('{}'));
		const parts = entries.map(([key, property], i) => {
			const value = this.value(property, `${name}-${safeRuleName(key)}${i}`, depth + 1);
			return `${literal(`${i === 0 ? '' : ','}${JSON.stringify(key)}:`)} ${value}`;
		});
		return this.add(name, `${literal('{')} ${parts.join(' ')} ${literal('}')}`);
	}

	private array(schema: JsonSchema, name: string, depth: number): string {
		const item = schema.items !== undefined ? this.value(schema.items, `${name}-item`, depth + 1) : 'scalar';
		const min = Math.max(0, Math.floor(schema.minItems ?? 0));
		const max = Math.max(min, Math.min(Math.floor(schema.maxItems ?? DEFAULT_MAX_ITEMS), 64));
		if (max === 0) return this.add(name, literal('[]'));
		const some = max === 1 ? item : `${item} (${literal(',')} ${item}){${Math.max(0, min - 1)},${max - 1}}`;
		return this.add(name, min === 0 ? `${literal('[')} (${some})? ${literal(']')}` : `${literal('[')} ${some} ${literal(']')}`);
	}
}

/** Integers; with a non-negative `minimum` and a `maximum`, at most the maximum's digits. */
function integerRule(schema: JsonSchema): string {
	if (schema.minimum === undefined || schema.maximum === undefined || schema.minimum < 0 || schema.maximum > 1e15) return 'integer';
	const digits = String(Math.floor(schema.maximum)).length;
	return digits === 1 ? '[0-9]' : `[0-9]{1,${digits}}`;
}

function stringRule(schema: JsonSchema, cap: number): string {
	const min = Math.max(0, Math.floor(schema.minLength ?? 0));
	const max = Math.max(min, Math.min(Math.floor(schema.maxLength ?? DEFAULT_MAX_STRING), cap, 4096));
	return `"\\"" char{${min},${max}} "\\""`;
}

/** Rules every grammar shares: bounded JSON scalars. */
const PRIMITIVES = [
	'char ::= [^"\\\\\\x00-\\x1f] | "\\\\" ["\\\\/bfnrt]',
	'integer ::= "-"? ([0-9] | [1-9] [0-9]{1,14})',
	'number ::= integer ("." [0-9]{1,6})?',
	'boolean ::= "true" | "false"',
	'null ::= "null"',
	`string ::= "\\"" char{0,${DEFAULT_MAX_STRING}} "\\""`,
	'scalar ::= string | number | boolean | null'
];

/** A GBNF string literal of `text`. */
function literal(text: string): string {
	return JSON.stringify(text);
}

function escapeJson(text: string): string {
	return JSON.stringify(text).slice(1, -1);
}

/** A property name as part of a rule name (GBNF rule names are `[a-zA-Z0-9-]`). */
function safeRuleName(key: string): string {
	return key.replace(/[^a-zA-Z0-9]/g, '').slice(0, 24) || 'p';
}
