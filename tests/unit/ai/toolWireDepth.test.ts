/**
 * A tool list from a host that may be hostile (a relay's `/outpost/tools/1.0.0` answer, or an
 * llm REQUEST's tools section) whose parameters schema nests 20,000 levels in under 1 MiB: it
 * was taken, and the tool prompt's signatures (toolPrompt.ts, recursive) then overflowed the
 * stack of every answer offered those tools. Such a list is now malformed.
 */
import { describe, expect, it } from 'vitest';
import { MalformedMessageError } from '../../../src/lib/mesh/errors.js';
import { decodeToolAnswer, ToolWireLimits } from '../../../src/lib/ai/toolProtocol.js';
import { toolInstructions } from '../../../src/lib/ai/tools/toolPrompt.js';
import { decodeToolSection, ToolLimits } from '../../../src/lib/ai/tools/toolWire.js';

/** A parameters schema of `depth` nested objects (the outermost is level 1). */
const nested = (depth: number) => '{"type":"object","properties":{"a":'.repeat(depth - 1) + '{"type":"object","properties":{}}' + '}}'.repeat(depth - 1);
const list = (depth: number) => `{"type":"tools","tools":[{"name":"fx.deep","description":"Deep.","parameters":${nested(depth)}}]}`;

describe('tool schemas nested without bound', () => {
	it('a host’s list whose schema nests 20,000 levels is malformed, not a crash of every later answer', () => {
		const bytes = new TextEncoder().encode(list(20_000));
		expect(bytes.length).toBeLessThan(ToolWireLimits.maxAnswerBytes);
		expect(() => decodeToolAnswer(bytes, 'list')).toThrow(MalformedMessageError);
		expect(() => decodeToolSection(`{"tools":[{"name":"deep","parameters":${nested(20_000)}}],"calls":[]}`, 1)).toThrow(MalformedMessageError);
	});

	it('a schema within the bound is taken and described', () => {
		// Each nested property is two levels (the `properties` object, then the property's schema).
		const levels = Math.floor((ToolLimits.maxSchemaDepth + 1) / 2);
		const answer = decodeToolAnswer(new TextEncoder().encode(list(levels)), 'list');
		expect(answer.type).toBe('tools');
		if (answer.type === 'tools') expect(toolInstructions(answer.tools)).toContain('fx.deep(a?: {a: {a:');
		expect(() => decodeToolAnswer(new TextEncoder().encode(list(levels + 1)), 'list')).toThrow(MalformedMessageError);
	});
});
