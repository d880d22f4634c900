/** `@model question` parsing (mentions.ts). */
import { describe, expect, it } from 'vitest';
import { parseModelMention } from '../../../src/lib/ai/mentions.js';

const models = ['tiny-random-llama', 'llama', 'llama-3b', 'Qwen2.5:7b'];

describe('parseModelMention', () => {
	it('finds the model a message starts with, and the question after it', () => {
		expect(parseModelMention('@tiny-random-llama what is CRDT?', models)).toEqual({ model: 'tiny-random-llama', question: 'what is CRDT?' });
		expect(parseModelMention('  @llama\n多行\n问题', models)).toEqual({ model: 'llama', question: '多行\n问题' });
	});

	it('prefers the longest id, matches without regard to case, needs the id to end', () => {
		expect(parseModelMention('@llama-3b hi', models)?.model).toBe('llama-3b');
		expect(parseModelMention('@qwen2.5:7B hi', models)?.model).toBe('Qwen2.5:7b');
		expect(parseModelMention('@llamas hi', models)).toBeUndefined();
	});

	it('ignores messages that do not start with a known model or ask nothing', () => {
		expect(parseModelMention('hi @llama how are you', models)).toBeUndefined();
		expect(parseModelMention('@alice hello', models)).toBeUndefined();
		expect(parseModelMention('@llama', models)).toBeUndefined();
		expect(parseModelMention('@llama   ', models)).toBeUndefined();
		expect(parseModelMention('@ hi', ['', 'x'])).toBeUndefined();
	});
});
