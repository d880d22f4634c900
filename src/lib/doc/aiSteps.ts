/**
 * The tool steps and knowledge sources an AI-chat answer carries (schema.ts `ToolStep`,
 * `SourceRef`): their bounds, a defensive reader for what a peer wrote (anyone may write a
 * live entry; a signed record is only as good as its shape), and cutting a step to fit.
 */
import type { SourceRef, ToolStep, ToolStepStatus } from './schema.js';

/** Bounds of an answer's steps and sources. */
export const AiStepLimits = {
	maxSteps: 16,
	maxArguments: 4000,
	maxResult: 8000,
	maxSources: 16,
	maxTitle: 200
} as const;

const STATUSES = new Set<unknown>(['running', 'approval', 'done', 'error', 'denied'] satisfies ToolStepStatus[]);
const isString = (v: unknown, max: number): v is string => typeof v === 'string' && v.length <= max;

export function isToolStep(v: unknown): v is ToolStep {
	if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
	const s = v as Record<string, unknown>;
	return (
		isString(s['id'], 64) &&
		isString(s['name'], 64) &&
		isString(s['arguments'], AiStepLimits.maxArguments) &&
		STATUSES.has(s['status']) &&
		(s['result'] === undefined || isString(s['result'], AiStepLimits.maxResult)) &&
		(s['ms'] === undefined || (typeof s['ms'] === 'number' && Number.isSafeInteger(s['ms']) && s['ms'] >= 0))
	);
}

export function isSourceRef(v: unknown): v is SourceRef {
	if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
	const s = v as Record<string, unknown>;
	return (
		typeof s['n'] === 'number' &&
		Number.isSafeInteger(s['n']) &&
		s['n'] >= 1 &&
		s['n'] <= AiStepLimits.maxSources &&
		(s['kind'] === 'note' || s['kind'] === 'message') &&
		isString(s['docId'], 64) &&
		(s['itemId'] === undefined || isString(s['itemId'], 100)) &&
		(s['offset'] === undefined || (typeof s['offset'] === 'number' && Number.isSafeInteger(s['offset']) && s['offset'] >= 0)) &&
		isString(s['title'], AiStepLimits.maxTitle)
	);
}

/** Steps as a record or entry holds them: a bounded list of well-formed steps, else undefined. */
export function readSteps(v: unknown): ToolStep[] | undefined {
	const list = v !== null && typeof v === 'object' && 'toArray' in v && typeof v.toArray === 'function' ? (v.toArray() as unknown[]) : v;
	if (!Array.isArray(list) || list.length === 0 || list.length > AiStepLimits.maxSteps || !list.every(isToolStep)) return undefined;
	return list;
}

/** Sources as a record or entry holds them, else undefined. */
export function readSources(v: unknown): SourceRef[] | undefined {
	if (!Array.isArray(v) || v.length === 0 || v.length > AiStepLimits.maxSources || !v.every(isSourceRef)) return undefined;
	return v;
}

/** A step cut to the bounds (arguments and result; a cut says so). */
export function clipStep(step: ToolStep): ToolStep {
	const cut = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 20)}… [cut: ${text.length} chars]`);
	return { ...step, arguments: cut(step.arguments, AiStepLimits.maxArguments), ...(step.result !== undefined ? { result: cut(step.result, AiStepLimits.maxResult) } : {}) };
}
