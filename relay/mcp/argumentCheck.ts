/**
 * The relay's own check of a tool call's arguments against the tool's `inputSchema`, before
 * the MCP server is asked. A member's call reaches a server the relay's operator chose, which
 * may trust its schema more than it should (a path it was told is a string, a count it was
 * told is at most 10): the relay holds a member to the schema the server published, whatever
 * the member's client sends. Ajv, the standard JSON Schema validator (the MCP SDK's own).
 *
 * A schema Ajv cannot compile (an unknown draft, a keyword it does not know) is not checked
 * here: the server still checks it, as it did before this module; the relay says so once in
 * its log.
 */
import { Ajv, type SchemaObject, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { JsonSchema } from '../../src/lib/ai/tools/types.ts';

/** The longest description of what is wrong that goes back to the caller. */
const MAX_REASON_CHARS = 300;

/** One compiler per draft; `strict: false` takes the keywords tool schemas carry (`title`, `examples`, vendors' own). */
const draft07 = new Ajv({ strict: false, allErrors: false });
const draft2020 = new Ajv2020({ strict: false, allErrors: false });

/** A schema's validator, or null when it could not be compiled; kept while the tool list holds the schema. */
const compiled = new WeakMap<JsonSchema, ValidateFunction | null>();

function compile(schema: JsonSchema, onUnchecked: (why: string) => void): ValidateFunction | null {
	const known = compiled.get(schema);
	if (known !== undefined) return known;
	let validate: ValidateFunction | null;
	try {
		// Compiled without its `$id`: two tools sharing one would otherwise clash in the compiler's registry.
		const { $id: _id, ...rest } = schema as JsonSchema & { $id?: unknown; $schema?: unknown };
		const draft = typeof rest.$schema === 'string' && rest.$schema.includes('2020-12') ? draft2020 : draft07;
		validate = draft.compile(rest as SchemaObject);
	} catch (error) {
		validate = null;
		onUnchecked(error instanceof Error ? error.message : String(error));
	}
	compiled.set(schema, validate);
	return validate;
}

/**
 * Why `args` does not fit `schema` (Ajv's words, shortened), or undefined when it does, or when
 * the schema could not be compiled (`onUnchecked` is told why, once per schema).
 */
export function argumentsProblem(schema: JsonSchema, args: Record<string, unknown>, onUnchecked: (why: string) => void): string | undefined {
	const validate = compile(schema, onUnchecked);
	if (validate === null || validate(args)) return undefined;
	const reason = draft07.errorsText(validate.errors, { dataVar: 'arguments' });
	return reason.length > MAX_REASON_CHARS ? `${reason.slice(0, MAX_REASON_CHARS - 1)}…` : reason;
}
