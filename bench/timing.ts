/**
 * Timing one generation, the same way in Node and in a browser page (mesh-inference bench):
 * time to first token (the call until the first text chunk) and decode tokens/s
 * ((completion tokens − 1) ÷ (first text chunk → done)).
 */
import type { Engine, GenerateRequest } from '../src/lib/ai/engine.ts';

/** One timed generation. */
export interface Run {
	ttftMs: number;
	tokensPerSecond: number;
	totalMs: number;
	completionTokens: number;
	text: string;
}

/** Runs one generation to its end and times it. */
export async function timedGeneration(engine: Engine, request: GenerateRequest): Promise<Run> {
	const start = performance.now();
	let first: number | undefined;
	let text = '';
	for await (const chunk of engine.generate(request)) {
		if (chunk.type === 'text') {
			first ??= performance.now();
			text += chunk.text;
			continue;
		}
		if (chunk.type !== 'done') continue; // no tools are offered: no calls come
		const end = performance.now();
		if (first === undefined) throw new Error('the generation produced no text');
		return {
			ttftMs: first - start,
			tokensPerSecond: (chunk.completionTokens - 1) / ((end - first) / 1000),
			totalMs: end - start,
			completionTokens: chunk.completionTokens,
			text
		};
	}
	throw new Error('the generation ended without DONE');
}
