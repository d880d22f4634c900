/**
 * The plain text the workspace tools give a model: results bounded in bytes (a small model's
 * context is small, and a tool's result is read whole), times in one fixed form.
 */
import { hlcWall } from '../../doc/hlc.js';
import type { ToolResult } from './types.js';

/** Most bytes (UTF-8) of a workspace tool's result. */
export const MAX_RESULT_BYTES = 8 * 1024;

const encoder = new TextEncoder();

/** Bytes of `text` in UTF-8. */
export function byteLength(text: string): number {
	return encoder.encode(text).byteLength;
}

/** The longest start of `text` of at most `maxBytes` bytes in UTF-8 (never half a character). */
export function cutToBytes(text: string, maxBytes: number): string {
	if (text.length <= maxBytes / 3 || byteLength(text) <= maxBytes) return text;
	let lo = 0;
	let hi = Math.min(text.length, maxBytes);
	while (lo < hi) {
		const mid = (lo + hi + 1) >>> 1;
		if (byteLength(text.slice(0, mid)) <= maxBytes) lo = mid;
		else hi = mid - 1;
	}
	const code = text.charCodeAt(lo - 1);
	return text.slice(0, code >= 0xd800 && code <= 0xdbff ? lo - 1 : lo);
}

/** A result of `content`, cut to {@link MAX_RESULT_BYTES} with a line that says so. */
export function bounded(content: string, isError = false): ToolResult {
	let text = content;
	if (byteLength(text) > MAX_RESULT_BYTES) {
		const note = '\n[Cut: the result was longer than 8 KiB.]';
		text = cutToBytes(text, MAX_RESULT_BYTES - byteLength(note)) + note;
	}
	return isError ? { content: text, isError: true } : { content: text };
}

/** An error result the model reads. */
export function refused(content: string): ToolResult {
	return bounded(content, true);
}

/** `text` on one line, cut to `max` characters with an ellipsis. */
export function oneLine(text: string, max: number): string {
	const flat = text.replace(/\s+/g, ' ').trim();
	return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

/** The wall-clock time of a hybrid-clock timestamp, as `2025-01-31 14:05 UTC` ('' when unknown). */
export function clockTime(hlc: string): string {
	const wall = hlcWall(hlc);
	return wall > 0 ? `${new Date(wall).toISOString().slice(0, 16).replace('T', ' ')} UTC` : '';
}
