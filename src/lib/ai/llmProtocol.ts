/**
 * The wire format of `/outpost/llm/1.0.0`, the stream protocol a member uses to run a model
 * hosted by another peer (PROTOCOL.md "Models on the mesh"): REQUEST from the asker, then
 * QUEUED, CHUNK, TOOL_CALL, DONE or ERROR from the host; CANCEL from the asker stops a targeted request. writeX/readX pairs over lib0 encoding,
 * y-protocols style; {@link encodeLlmMessage} and {@link decodeLlmMessage} for whole
 * messages. The stream starts with the sync protocol's membership exchange (wire.ts), so
 * these types start at 32, clear of the sync protocol's.
 *
 * Decoding is defensive: the size is checked before any field, every length and count
 * against a bound and against what is left, strings must be valid UTF-8, and nothing may
 * follow the last field. It throws only `MalformedMessageError` or `MessageTooLargeError`.
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { expectEnd, readBoundedBytes, readBoundedUint, readId, writeId } from '../mesh/codec.js';
import { MalformedMessageError, MessageTooLargeError } from '../mesh/errors.js';
import { EngineProblem, type AnswerTarget, type ChatMessage, type FinishReason, type GenerateRequest } from './engine.js';
import { decodeToolSection, encodeToolSection, type ToolSection } from './tools/toolWire.js';
import { TOOL_NAME, type ToolCall } from './tools/types.js';

/** libp2p protocol id of a model request stream. */
export const LLM_PROTOCOL_ID = '/outpost/llm/1.0.0';

/** Numeric message types of the llm protocol (first varuint of every message). */
export const LlmMessageType = { request: 32, queued: 33, chunk: 34, done: 35, error: 36, cancel: 37, toolCall: 38 } as const;

/** One of {@link LlmMessageType}'s values. */
export type LlmMessageType = (typeof LlmMessageType)[keyof typeof LlmMessageType];

/** Bounds of the llm protocol; see PROTOCOL.md "Models on the mesh". */
export const LlmLimits = {
	/** Largest REQUEST, in bytes (a long conversation). */
	maxRequestBytes: 4 * 1024 * 1024,
	/** Largest QUEUED, CHUNK, DONE or ERROR, in bytes. */
	maxReplyBytes: 64 * 1024,
	/** Largest request id, in bytes. */
	maxRequestIdBytes: 64,
	/** Largest entry id, clock or parent id of a target, in bytes (the documents' own field bound). */
	maxTargetFieldBytes: 200,
	/** Largest model id, in bytes. */
	maxModelBytes: 256,
	/** Most chat messages in a REQUEST. */
	maxMessages: 4096,
	/** Most stop strings, and the largest one in bytes. */
	maxStops: 16,
	maxStopBytes: 256,
	/** Largest ERROR text, in bytes. */
	maxErrorTextBytes: 4096,
	/** Largest tools section of a REQUEST (tools, tool choice, calls and results' ids), in bytes of JSON. */
	maxToolsBytes: 256 * 1024,
	/** Largest token count, queue position, maxTokens, seed or retry delay. */
	maxCount: 0xffff_ffff,
	/** Most text one answer's CHUNKs carry, in characters (an asker takes no more from a host). */
	maxAnswerChars: 4_000_000,
	/** Most TOOL_CALLs in one answer. */
	maxToolCalls: 64
} as const;

/** Chat roles on the wire. */
const ROLES = ['system', 'user', 'assistant', 'tool'] as const satisfies readonly ChatMessage['role'][];
const FINISH_REASONS = ['stop', 'length', 'tool-calls'] as const satisfies readonly FinishReason[];
/** Problems on the wire, by code (index + 1). */
const PROBLEMS = [
	EngineProblem.unknownModel,
	EngineProblem.emptyInput,
	EngineProblem.inputTooLong,
	EngineProblem.busy,
	EngineProblem.failed,
	EngineProblem.notAllowed
] as const satisfies readonly EngineProblem[];

/** Optional REQUEST fields present, as bits of its flags varuint. */
const Flag = { maxTokens: 1, temperature: 2, stop: 4, seed: 8, target: 16, tools: 32 } as const;
const ALL_FLAGS = Flag.maxTokens | Flag.temperature | Flag.stop | Flag.seed | Flag.target | Flag.tools;
/** Target kinds on the wire. */
const TARGET_KINDS = ['ai-thread', 'channel'] as const satisfies readonly AnswerTarget['kind'][];

/** Asker → host: what to generate, for which workspace. */
export interface LlmRequest extends GenerateRequest {
	type: typeof LlmMessageType.request;
	workspaceId: string;
	/** The asker's id for this request (for logs and usage traces), at most 64 bytes. */
	requestId: string;
	/** Where the host writes the answer itself (it must hold that document of the workspace). */
	target?: AnswerTarget;
}
/** Asker → host: stop generating (a targeted request keeps running when the asker merely leaves). */
export interface LlmCancel {
	type: typeof LlmMessageType.cancel;
}
/** Host → asker: the request waits; `position` requests are ahead of it (running or waiting). */
export interface LlmQueued {
	type: typeof LlmMessageType.queued;
	position: number;
}
/** Host → asker: a piece of the answer. */
export interface LlmChunk {
	type: typeof LlmMessageType.chunk;
	text: string;
}
/** Host → asker: the model calls a tool (the asker runs it); comes before DONE. */
export interface LlmToolCall {
	type: typeof LlmMessageType.toolCall;
	call: ToolCall;
}
/** Host → asker: the answer is complete (the last message). */
export interface LlmDone {
	type: typeof LlmMessageType.done;
	finishReason: FinishReason;
	promptTokens: number;
	completionTokens: number;
}
/** Host → asker: the request was refused or failed (the last message). */
export interface LlmError {
	type: typeof LlmMessageType.error;
	problem: EngineProblem;
	message: string;
	/** For `busy`: when to try again. */
	retryAfterMs?: number;
}

/** Any llm protocol message. */
export type LlmMessage = LlmRequest | LlmQueued | LlmChunk | LlmToolCall | LlmDone | LlmError | LlmCancel;

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Reads a varstring of at most `max` UTF-8 bytes; invalid UTF-8 is malformed. */
function readBoundedString(decoder: decoding.Decoder, max: number, what: string): string {
	const bytes = readBoundedBytes(decoder, max, what);
	try {
		return strictUtf8.decode(bytes);
	} catch {
		throw new MalformedMessageError(`${what}: not UTF-8`);
	}
}

/** Writes a string known to fit its bound (else a RangeError: a local bug, never sent). */
function writeBoundedString(encoder: encoding.Encoder, value: string, max: number, what: string): void {
	const bytes = utf8.encode(value);
	if (bytes.length > max) throw new RangeError(`${what} of ${bytes.length} bytes exceeds ${max}`);
	encoding.writeVarUint8Array(encoder, bytes);
}

function checkCount(value: number, what: string): number {
	if (!Number.isSafeInteger(value) || value < 0 || value > LlmLimits.maxCount) throw new RangeError(`${what}: ${value}`);
	return value;
}

/** Writes REQUEST. */
export function writeRequest(encoder: encoding.Encoder, m: Omit<LlmRequest, 'type'>): void {
	encoding.writeVarUint(encoder, LlmMessageType.request);
	writeId(encoder, m.workspaceId);
	writeBoundedString(encoder, m.requestId, LlmLimits.maxRequestIdBytes, 'request id');
	writeBoundedString(encoder, m.model, LlmLimits.maxModelBytes, 'model id');
	if (m.messages.length > LlmLimits.maxMessages) throw new RangeError(`${m.messages.length} messages`);
	encoding.writeVarUint(encoder, m.messages.length);
	for (const { role, content } of m.messages) {
		encoding.writeVarUint(encoder, ROLES.indexOf(role));
		writeBoundedString(encoder, content, LlmLimits.maxRequestBytes, 'message');
	}
	const flags =
		(m.maxTokens !== undefined ? Flag.maxTokens : 0) |
		(m.temperature !== undefined ? Flag.temperature : 0) |
		(m.stop !== undefined ? Flag.stop : 0) |
		(m.seed !== undefined ? Flag.seed : 0) |
		(m.target !== undefined ? Flag.target : 0);
	const tools = toolSection(m);
	encoding.writeVarUint(encoder, flags | (tools !== undefined ? Flag.tools : 0));
	if (m.maxTokens !== undefined) encoding.writeVarUint(encoder, checkCount(Math.floor(m.maxTokens), 'maxTokens'));
	if (m.temperature !== undefined) encoding.writeFloat64(encoder, m.temperature);
	if (m.stop !== undefined) {
		if (m.stop.length > LlmLimits.maxStops) throw new RangeError(`${m.stop.length} stop strings`);
		encoding.writeVarUint(encoder, m.stop.length);
		for (const stop of m.stop) writeBoundedString(encoder, stop, LlmLimits.maxStopBytes, 'stop string');
	}
	if (m.seed !== undefined) encoding.writeVarUint(encoder, checkCount(m.seed, 'seed'));
	if (m.target !== undefined) writeTarget(encoder, m.target);
	if (tools !== undefined) writeBoundedString(encoder, encodeToolSection(tools), LlmLimits.maxToolsBytes, 'tools');
}

/** A REQUEST's tool fields (tools, choice, and the messages' calls and call ids), when it has any. */
function toolSection(m: GenerateRequest): ToolSection | undefined {
	const calls: ToolSection['calls'] = [];
	m.messages.forEach((message, index) => {
		if (message.toolCalls?.length || message.toolCallId !== undefined)
			calls.push({ index, ...(message.toolCalls ? { toolCalls: message.toolCalls } : {}), ...(message.toolCallId !== undefined ? { toolCallId: message.toolCallId } : {}) });
	});
	if (m.tools === undefined && m.toolChoice === undefined && calls.length === 0) return undefined;
	return { ...(m.tools ? { tools: m.tools } : {}), ...(m.toolChoice ? { toolChoice: m.toolChoice } : {}), calls };
}

/** Writes a REQUEST's target: kind, document id, entry id, then for a channel the clock and parent ('' = none). */
function writeTarget(encoder: encoding.Encoder, target: AnswerTarget): void {
	encoding.writeVarUint(encoder, TARGET_KINDS.indexOf(target.kind));
	writeId(encoder, target.docId);
	const max = LlmLimits.maxTargetFieldBytes;
	if (target.entryId === '') throw new RangeError('target entry id: empty');
	writeBoundedString(encoder, target.entryId, max, 'target entry id');
	if (target.kind === 'channel') {
		writeBoundedString(encoder, target.after ?? '', max, 'target clock');
		writeBoundedString(encoder, target.parent ?? '', max, 'target parent');
	}
}

function readTarget(decoder: decoding.Decoder): AnswerTarget {
	const kind = TARGET_KINDS[readBoundedUint(decoder, TARGET_KINDS.length - 1, 'REQUEST target kind')]!;
	const docId = readId(decoder, 'REQUEST target document');
	const max = LlmLimits.maxTargetFieldBytes;
	const entryId = readBoundedString(decoder, max, 'REQUEST target entry');
	if (entryId === '') throw new MalformedMessageError('REQUEST target entry: empty');
	if (kind === 'ai-thread') return { kind, docId, entryId };
	const after = readBoundedString(decoder, max, 'REQUEST target clock');
	const parent = readBoundedString(decoder, max, 'REQUEST target parent');
	return { kind, docId, entryId, ...(after !== '' ? { after } : {}), ...(parent !== '' ? { parent } : {}) };
}

/** Reads REQUEST's fields. */
export function readRequest(decoder: decoding.Decoder): LlmRequest {
	const workspaceId = readId(decoder, 'REQUEST workspace id');
	const requestId = readBoundedString(decoder, LlmLimits.maxRequestIdBytes, 'REQUEST id');
	const model = readBoundedString(decoder, LlmLimits.maxModelBytes, 'REQUEST model');
	const count = readBoundedUint(decoder, LlmLimits.maxMessages, 'REQUEST messages');
	const messages: ChatMessage[] = [];
	for (let i = 0; i < count; i++) {
		const role = ROLES[readBoundedUint(decoder, ROLES.length - 1, 'REQUEST role')]!;
		messages.push({ role, content: readBoundedString(decoder, LlmLimits.maxRequestBytes, 'REQUEST message') });
	}
	const flags = readBoundedUint(decoder, ALL_FLAGS, 'REQUEST flags');
	const request: LlmRequest = { type: LlmMessageType.request, workspaceId, requestId, model, messages };
	if (flags & Flag.maxTokens) request.maxTokens = readBoundedUint(decoder, LlmLimits.maxCount, 'REQUEST maxTokens');
	if (flags & Flag.temperature) {
		if (decoder.arr.length - decoder.pos < 8) throw new MalformedMessageError('REQUEST temperature: message ends early');
		const temperature = decoding.readFloat64(decoder);
		if (!Number.isFinite(temperature) || temperature < 0) throw new MalformedMessageError('REQUEST temperature out of range');
		request.temperature = temperature;
	}
	if (flags & Flag.stop) {
		const stops = readBoundedUint(decoder, LlmLimits.maxStops, 'REQUEST stop strings');
		request.stop = [];
		for (let i = 0; i < stops; i++) request.stop.push(readBoundedString(decoder, LlmLimits.maxStopBytes, 'REQUEST stop'));
	}
	if (flags & Flag.seed) request.seed = readBoundedUint(decoder, LlmLimits.maxCount, 'REQUEST seed');
	if (flags & Flag.target) request.target = readTarget(decoder);
	if (flags & Flag.tools) {
		const section = decodeToolSection(readBoundedString(decoder, LlmLimits.maxToolsBytes, 'REQUEST tools'), messages.length);
		if (section.tools) request.tools = section.tools;
		if (section.toolChoice) request.toolChoice = section.toolChoice;
		for (const { index, toolCalls, toolCallId } of section.calls) {
			const message = messages[index]!;
			if (toolCalls) {
				if (message.role !== 'assistant') throw new MalformedMessageError('REQUEST tools: calls on a message that is not the model\'s');
				message.toolCalls = toolCalls;
			}
			if (toolCallId !== undefined) {
				if (message.role !== 'tool') throw new MalformedMessageError('REQUEST tools: a call id on a message that is not a tool result');
				message.toolCallId = toolCallId;
			}
		}
	}
	return request;
}

/** Writes QUEUED. */
export function writeQueued(encoder: encoding.Encoder, m: Omit<LlmQueued, 'type'>): void {
	encoding.writeVarUint(encoder, LlmMessageType.queued);
	encoding.writeVarUint(encoder, checkCount(m.position, 'position'));
}

/** Writes CHUNK. */
export function writeChunk(encoder: encoding.Encoder, m: Omit<LlmChunk, 'type'>): void {
	encoding.writeVarUint(encoder, LlmMessageType.chunk);
	writeBoundedString(encoder, m.text, LlmLimits.maxReplyBytes - 8, 'chunk');
}

/** Writes TOOL_CALL: id, name, arguments (JSON text). */
export function writeToolCall(encoder: encoding.Encoder, m: Omit<LlmToolCall, 'type'>): void {
	encoding.writeVarUint(encoder, LlmMessageType.toolCall);
	writeBoundedString(encoder, m.call.id, LlmLimits.maxRequestIdBytes, 'tool call id');
	writeBoundedString(encoder, m.call.name, 64, 'tool name');
	writeBoundedString(encoder, m.call.arguments, LlmLimits.maxReplyBytes - 256, 'tool arguments');
}

function readToolCall(decoder: decoding.Decoder): LlmToolCall {
	const id = readBoundedString(decoder, LlmLimits.maxRequestIdBytes, 'TOOL_CALL id');
	const name = readBoundedString(decoder, 64, 'TOOL_CALL name');
	if (!TOOL_NAME.test(name)) throw new MalformedMessageError('TOOL_CALL name: not a tool name');
	const args = readBoundedString(decoder, LlmLimits.maxReplyBytes, 'TOOL_CALL arguments');
	return { type: LlmMessageType.toolCall, call: { id, name, arguments: args } };
}

/** Writes DONE. */
export function writeDone(encoder: encoding.Encoder, m: Omit<LlmDone, 'type'>): void {
	encoding.writeVarUint(encoder, LlmMessageType.done);
	encoding.writeVarUint(encoder, FINISH_REASONS.indexOf(m.finishReason));
	encoding.writeVarUint(encoder, checkCount(m.promptTokens, 'promptTokens'));
	encoding.writeVarUint(encoder, checkCount(m.completionTokens, 'completionTokens'));
}

/** Writes ERROR; a message over the bound is cut (at a character boundary). */
export function writeError(encoder: encoding.Encoder, m: Omit<LlmError, 'type'>): void {
	encoding.writeVarUint(encoder, LlmMessageType.error);
	encoding.writeVarUint(encoder, PROBLEMS.indexOf(m.problem) + 1);
	let text = m.message;
	while (utf8.encode(text).length > LlmLimits.maxErrorTextBytes) text = [...text].slice(0, -64).join('');
	writeBoundedString(encoder, text, LlmLimits.maxErrorTextBytes, 'error text');
	encoding.writeVarUint(encoder, m.retryAfterMs === undefined ? 0 : checkCount(Math.ceil(m.retryAfterMs), 'retryAfterMs') + 1);
}

function readBody(type: LlmMessageType, decoder: decoding.Decoder): LlmMessage {
	switch (type) {
		case LlmMessageType.request:
			return readRequest(decoder);
		case LlmMessageType.cancel:
			return { type };
		case LlmMessageType.queued:
			return { type, position: readBoundedUint(decoder, LlmLimits.maxCount, 'QUEUED position') };
		case LlmMessageType.chunk:
			return { type, text: readBoundedString(decoder, LlmLimits.maxReplyBytes, 'CHUNK text') };
		case LlmMessageType.toolCall:
			return readToolCall(decoder);
		case LlmMessageType.done:
			return {
				type,
				finishReason: FINISH_REASONS[readBoundedUint(decoder, FINISH_REASONS.length - 1, 'DONE reason')]!,
				promptTokens: readBoundedUint(decoder, LlmLimits.maxCount, 'DONE promptTokens'),
				completionTokens: readBoundedUint(decoder, LlmLimits.maxCount, 'DONE completionTokens')
			};
		case LlmMessageType.error: {
			const code = readBoundedUint(decoder, PROBLEMS.length, 'ERROR problem');
			if (code === 0) throw new MalformedMessageError('ERROR problem 0');
			const message = readBoundedString(decoder, LlmLimits.maxErrorTextBytes, 'ERROR text');
			const retry = readBoundedUint(decoder, LlmLimits.maxCount + 1, 'ERROR retryAfterMs');
			const error: LlmError = { type, problem: PROBLEMS[code - 1]!, message };
			if (retry > 0) error.retryAfterMs = retry - 1;
			return error;
		}
	}
}

/** Encodes one message. */
export function encodeLlmMessage(m: LlmMessage): Uint8Array {
	const encoder = encoding.createEncoder();
	switch (m.type) {
		case LlmMessageType.request:
			writeRequest(encoder, m);
			break;
		case LlmMessageType.queued:
			writeQueued(encoder, m);
			break;
		case LlmMessageType.chunk:
			writeChunk(encoder, m);
			break;
		case LlmMessageType.toolCall:
			writeToolCall(encoder, m);
			break;
		case LlmMessageType.done:
			writeDone(encoder, m);
			break;
		case LlmMessageType.error:
			writeError(encoder, m);
			break;
		case LlmMessageType.cancel:
			encoding.writeVarUint(encoder, LlmMessageType.cancel);
			break;
	}
	return encoding.toUint8Array(encoder);
}

/** The largest message of a type. */
export function llmSizeLimit(type: LlmMessageType): number {
	return type === LlmMessageType.request ? LlmLimits.maxRequestBytes : LlmLimits.maxReplyBytes;
}

const types = new Set<number>(Object.values(LlmMessageType));

/**
 * Decodes one message, of one of the `expected` types (default: any). Throws only
 * `MalformedMessageError` (also for a type not expected) or `MessageTooLargeError`.
 */
export function decodeLlmMessage(bytes: Uint8Array, expected?: readonly LlmMessageType[]): LlmMessage {
	if (bytes.length > LlmLimits.maxRequestBytes) throw new MessageTooLargeError(bytes.length, LlmLimits.maxRequestBytes);
	try {
		const decoder = decoding.createDecoder(bytes);
		const type = readBoundedUint(decoder, 0x7f, 'llm message type');
		if (!types.has(type)) throw new MalformedMessageError(`unknown llm message type ${type}`);
		if (expected !== undefined && !expected.includes(type as LlmMessageType)) {
			throw new MalformedMessageError(`llm message type ${type} not expected here`);
		}
		const limit = llmSizeLimit(type as LlmMessageType);
		if (bytes.length > limit) throw new MessageTooLargeError(bytes.length, limit);
		const m = readBody(type as LlmMessageType, decoder);
		expectEnd(decoder, `llm message type ${type}`);
		return m;
	} catch (error) {
		if (error instanceof MalformedMessageError || error instanceof MessageTooLargeError) throw error;
		throw new MalformedMessageError(`undecodable llm message (${error instanceof Error ? error.message : String(error)})`);
	}
}
