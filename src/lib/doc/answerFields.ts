/**
 * Fields of a model's answer as stored in a document (an AI-thread message, or a channel's
 * live answer): status, generation stats and queue position. Anyone in the workspace can
 * write these, so reading checks every value.
 */
import * as Y from 'yjs';
import { AiStatus, type GenerationStats } from './schema.js';

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
