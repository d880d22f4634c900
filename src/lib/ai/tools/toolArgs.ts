/**
 * Checks a tool call's arguments against the tool's JSON Schema before the tool runs: a
 * model (or a modified client) may write anything, and a tool must never see arguments of
 * the wrong shape. Covers the keywords tools use (tools/types.ts `JsonSchema`); unknown
 * keywords pass.
 */
import type { JsonSchema } from './types.js';

/** The arguments as an object, or the reason they do not fit `schema`. */
export function parseArguments(text: string, schema: JsonSchema): { ok: true; value: Record<string, unknown> } | { ok: false; error: string } {
	let value: unknown;
	try {
		value = JSON.parse(text === '' ? '{}' : text);
	} catch {
		return { ok: false, error: 'the arguments are not JSON' };
	}
	if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, error: 'the arguments are not a JSON object' };
	const error = schemaError(value, schema, 'arguments');
	return error === undefined ? { ok: true, value: value as Record<string, unknown> } : { ok: false, error };
}

/** Why `value` does not match `schema` (the first reason), or undefined when it does. */
export function schemaError(value: unknown, schema: JsonSchema, path: string, depth = 0): string | undefined {
	if (depth > 16) return `${path} is nested too deeply`;
	if (schema.enum !== undefined && !schema.enum.some((v) => v === value)) return `${path} must be one of ${schema.enum.map((v) => JSON.stringify(v)).join(', ')}`;
	const types = Array.isArray(schema.type) ? schema.type : schema.type !== undefined ? [schema.type] : [];
	if (types.length > 0 && !types.some((type) => isType(value, type))) return `${path} must be ${types.join(' or ')}`;
	if (typeof value === 'string') {
		if (schema.minLength !== undefined && value.length < schema.minLength) return `${path} is shorter than ${schema.minLength}`;
		if (schema.maxLength !== undefined && value.length > schema.maxLength) return `${path} is longer than ${schema.maxLength}`;
	}
	if (typeof value === 'number') {
		if (schema.minimum !== undefined && value < schema.minimum) return `${path} is less than ${schema.minimum}`;
		if (schema.maximum !== undefined && value > schema.maximum) return `${path} is more than ${schema.maximum}`;
	}
	if (Array.isArray(value)) {
		if (schema.minItems !== undefined && value.length < schema.minItems) return `${path} has fewer than ${schema.minItems} items`;
		if (schema.maxItems !== undefined && value.length > schema.maxItems) return `${path} has more than ${schema.maxItems} items`;
		if (schema.items)
			for (const [i, item] of value.entries()) {
				const error = schemaError(item, schema.items, `${path}[${i}]`, depth + 1);
				if (error) return error;
			}
	}
	if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
		const record = value as Record<string, unknown>;
		for (const key of schema.required ?? []) if (!(key in record)) return `${path}.${key} is missing`;
		for (const [key, property] of Object.entries(schema.properties ?? {})) {
			if (!(key in record)) continue;
			const error = schemaError(record[key], property, `${path}.${key}`, depth + 1);
			if (error) return error;
		}
		if (schema['additionalProperties'] === false)
			for (const key of Object.keys(record))
				if (!(key in (schema.properties ?? {}))) return `${path}.${key} is not allowed`;
	}
	return undefined;
}

function isType(value: unknown, type: string): boolean {
	switch (type) {
		case 'string':
			return typeof value === 'string';
		case 'number':
			return typeof value === 'number' && Number.isFinite(value);
		case 'integer':
			return typeof value === 'number' && Number.isInteger(value);
		case 'boolean':
			return typeof value === 'boolean';
		case 'null':
			return value === null;
		case 'array':
			return Array.isArray(value);
		case 'object':
			return typeof value === 'object' && value !== null && !Array.isArray(value);
		default:
			return true;
	}
}
