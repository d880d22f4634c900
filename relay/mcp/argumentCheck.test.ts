import { describe, expect, it } from 'vitest';
import type { JsonSchema } from '../../src/lib/ai/tools/types.ts';
import { argumentsProblem } from './argumentCheck.ts';

describe('argumentsProblem', () => {
	const never = (why: string): void => {
		throw new Error(`unexpectedly unchecked: ${why}`);
	};

	it('passes what fits, names what does not (draft-07 and 2020-12 schemas)', () => {
		const schema: JsonSchema = { type: 'object', properties: { path: { type: 'string', maxLength: 8 } }, required: ['path'] };
		expect(argumentsProblem(schema, { path: 'a.txt' }, never)).toBeUndefined();
		expect(argumentsProblem(schema, { path: 'a-much-longer-name.txt' }, never)).toMatch(/arguments\/path must NOT have more than 8 characters/);
		expect(argumentsProblem(schema, {}, never)).toMatch(/must have required property 'path'/);
		const strict = { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', properties: {}, additionalProperties: false } as JsonSchema;
		expect(argumentsProblem(strict, {}, never)).toBeUndefined();
		expect(argumentsProblem(strict, { extra: 1 }, never)).toMatch(/must NOT have additional properties/);
	});

	it('leaves a schema it cannot compile to the server, and says so once', () => {
		const told: string[] = [];
		const odd = { $schema: 'http://example.invalid/unknown-draft', type: 'object' } as JsonSchema;
		expect(argumentsProblem(odd, { anything: true }, (why) => told.push(why))).toBeUndefined();
		expect(argumentsProblem(odd, { anything: false }, (why) => told.push(why))).toBeUndefined();
		expect(told).toHaveLength(1);
	});

	it('takes two tools whose schemas share an $id, and cuts a long reason short', () => {
		const a = { $id: 'urn:same', type: 'object', properties: { x: { type: 'number' } } } as JsonSchema;
		const b = { $id: 'urn:same', type: 'object', properties: { y: { type: 'string' } } } as JsonSchema;
		expect(argumentsProblem(a, { x: 'no' }, never)).toMatch(/arguments\/x must be number/);
		expect(argumentsProblem(b, { y: 1 }, never)).toMatch(/arguments\/y must be string/);
		const wide = { type: 'object', properties: { ['k'.repeat(500)]: { type: 'number' } } } as JsonSchema;
		const reason = argumentsProblem(wide, { ['k'.repeat(500)]: 'no' }, never)!;
		expect(reason.length).toBeLessThanOrEqual(300);
		expect(reason.endsWith('…')).toBe(true);
	});
});
