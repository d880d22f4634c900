/**
 * The write policy of an AI-chat document (writePolicy.ts runs it on every remote update):
 * its signed `records` (questions, finished answers, cuts: schema.ts `AiRecord`) only
 * accumulate, as plain values: none may be deleted, overwritten or arrive deleted. `messages`
 * (the live entries an answer streams into, and chats from before records) and `meta` (the
 * system prompt) are live: anyone may change them, and the view trusts only records for what
 * was asked and answered (AiThreadDoc.list). Any other top-level name is refused.
 */
import type * as Y from 'yjs';
import { inspectGrowth, type GrowthRule } from './growth.js';

const ROOTS: Record<string, GrowthRule> = {
	records: 'array',
	messages: 'live',
	meta: 'live'
};

/** Why `update` would rewrite the signed history of AI-chat document `doc`, or undefined when it only adds. */
export function checkAiThreadUpdate(doc: Y.Doc, update: Uint8Array): string | undefined {
	return inspectGrowth(doc, update, ROOTS, 'refuse', 'an AI chat');
}
