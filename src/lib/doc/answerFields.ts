/**
 * Fields of a model's answer as stored in a document (an AI-thread message, or a channel's
 * live answer): status, generation stats and queue position. Anyone in the workspace can
 * write these, so reading checks every value.
 */
import * as Y from 'yjs';
import { AiStepLimits, isToolStep } from './aiSteps.js';
import { AiStatus, type AnswerEnd, type GenerationStats } from './schema.js';

const STATUSES = new Set<unknown>(Object.values(AiStatus));

/** A status from a document, or `fallback` when it is not one. */
export function readStatus(value: unknown, fallback: AiStatus = AiStatus.done): AiStatus {
	return STATUSES.has(value) ? (value as AiStatus) : fallback;
}

/** Generation stats from a document: numbers only. */
export function readStats(value: unknown): GenerationStats | undefined {
	if (typeof value !== 'object' || value === null) return undefined;
	const { tokensIn, tokensOut, ttftMs, tokensPerSecond } = value as Record<string, unknown>;
	const numbers = [tokensIn, tokensOut, ttftMs, tokensPerSecond];
	if (!numbers.every((n) => typeof n === 'number' && Number.isFinite(n) && n >= 0)) return undefined;
	return { tokensIn, tokensOut, ttftMs, tokensPerSecond } as GenerationStats;
}

/** A queue position from a document: a small whole number, else nothing. */
export function readPosition(value: unknown): number | undefined {
	return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < 1_000_000 ? value : undefined;
}

/** The text of an answer entry (a Y.Text under `text`), or ''. */
export function readText(entry: Y.Map<unknown>): string {
	const text = entry.get('text');
	return text instanceof Y.Text ? text.toString() : '';
}

/** Longest error an answer's end carries. */
export const MAX_END_ERROR = 1000;

/** Whether `v` is a well-formed {@link AnswerEnd} (a signed record is only as good as its shape). */
export function isAnswerEnd(v: unknown): v is AnswerEnd {
	if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
	const { status, error, stats, steps } = v as Record<string, unknown>;
	return (
		STATUSES.has(status) &&
		(error === undefined || (typeof error === 'string' && error.length <= MAX_END_ERROR)) &&
		(stats === undefined || readStats(stats) !== undefined) &&
		(steps === undefined || (Array.isArray(steps) && steps.length <= AiStepLimits.maxSteps && steps.every(isToolStep)))
	);
}
