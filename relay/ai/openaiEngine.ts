/**
 * An {@link Engine} over any OpenAI-compatible server (`--openai-upstream URL`: Ollama, vLLM,
 * llama.cpp's server, another Outpost relay): `models()` from `GET {base}/models`, answers
 * from `POST {base}/chat/completions` with `stream: true`.
 *
 * The upstream is remote input: its SSE stream is parsed with bounded line and total sizes,
 * and anything malformed ends the generation with an `EngineError('failed')` rather than a
 * crash. Token counts come from the final `usage` chunk when the server sends one (asked for
 * with `stream_options.include_usage`); otherwise completion tokens are counted as content
 * chunks and prompt tokens estimated from the prompt's length.
 */
import {
	EngineError,
	type ChatMessage,
	type Engine,
	type EngineProblem,
	type FinishReason,
	type GenerateChunk,
	type GenerateRequest,
	type ModelInfo
} from '../../src/lib/ai/engine.ts';
import { newToolCallId } from '../../src/lib/ai/tools/toolPrompt.ts';
import { ToolLimits } from '../../src/lib/ai/tools/toolWire.ts';
import type { ToolCall, ToolChoice } from '../../src/lib/ai/tools/types.ts';

/** Options of {@link OpenAIEngine}. */
export interface OpenAIEngineInit {
	/** Base URL of the API, ending in `/v1` (a trailing slash is fine). */
	baseUrl: string;
	/** Sent as `Authorization: Bearer <apiKey>` when set. */
	apiKey?: string;
	/** Context length of models whose listing does not say; default 4096. */
	defaultContextLength?: number;
	/** Longest SSE line accepted, in characters; default 1 MiB. */
	maxLineLength?: number;
	/** Most bytes of one streamed answer; default 32 MiB. */
	maxStreamBytes?: number;
	/** `fetch` to use (tests); default the global one. */
	fetch?: typeof fetch;
}

/** Most bytes read of a non-streamed response (model list, error body). */
const MAX_JSON_BYTES = 4 * 1024 * 1024;

/** The part of a streamed `chat.completion.chunk` this engine reads. */
interface StreamEvent {
	choices?: { delta?: { content?: unknown; tool_calls?: unknown }; finish_reason?: unknown }[];
	usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } | null;
	error?: unknown;
}

/** An {@link Engine} over an OpenAI-compatible server; see the module comment. */
export class OpenAIEngine implements Engine {
	readonly kind = 'openai' as const;
	/** The base URL without a trailing slash. */
	readonly baseUrl: string;
	private readonly fetch: typeof fetch;

	constructor(private readonly init: OpenAIEngineInit) {
		this.baseUrl = init.baseUrl.replace(/\/+$/, '');
		this.fetch = init.fetch ?? globalThis.fetch;
	}

	async models(signal?: AbortSignal): Promise<ModelInfo[]> {
		const response = await this.request('GET', '/models', undefined, signal);
		const body = await readJson(response, signal);
		const data = isObject(body) && Array.isArray(body.data) ? body.data : undefined;
		if (!data) throw new EngineError('failed', `${this.baseUrl}/models did not answer a model list`);
		const models: ModelInfo[] = [];
		for (const entry of data) {
			if (!isObject(entry) || typeof entry.id !== 'string' || entry.id === '') continue;
			models.push({
				id: entry.id,
				name: typeof entry.name === 'string' && entry.name !== '' ? entry.name : entry.id,
				engine: this.kind,
				contextLength: contextLength(entry) ?? this.init.defaultContextLength ?? 4096
			});
		}
		return models;
	}

	async *generate(request: GenerateRequest, signal?: AbortSignal): AsyncGenerator<GenerateChunk> {
		signal?.throwIfAborted();
		if (request.messages.length === 0 || request.messages.every((m) => m.content.trim() === ''))
			throw new EngineError('empty-input', 'The prompt is empty: write a message first.');
		try {
			const response = await this.request(
				'POST',
				'/chat/completions',
				{
					model: request.model,
					messages: request.messages.map(openAiMessage),
					...(request.tools?.length ? { tools: request.tools.map((f) => ({ type: 'function', function: f })) } : {}),
					...(request.toolChoice !== undefined ? { tool_choice: openAiChoice(request.toolChoice) } : {}),
					stream: true,
					stream_options: { include_usage: true },
					...(request.maxTokens !== undefined ? { max_tokens: request.maxTokens } : {}),
					...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
					...(request.stop?.length ? { stop: request.stop } : {}),
					...(request.seed !== undefined ? { seed: request.seed } : {})
				},
				signal
			);
			if (!response.body) throw new EngineError('failed', 'The upstream answered with no body.');
			let chunks = 0;
			let finishReason: FinishReason | undefined;
			let usage: { promptTokens: number; completionTokens: number } | undefined;
			const calls = new ToolCallDeltas(request.tools?.map((t) => t.name) ?? []);
			for await (const data of sseData(response.body, this.limits())) {
				if (data === '[DONE]') break;
				const event = parseEvent(data);
				if (event.error !== undefined) throw upstreamError(event.error);
				if (event.usage) usage = readUsage(event.usage) ?? usage;
				const choice = event.choices?.[0];
				const content = choice?.delta?.content;
				if (typeof content === 'string' && content !== '') {
					chunks++;
					yield { type: 'text', text: content };
				}
				if (choice?.delta?.tool_calls !== undefined) calls.add(choice.delta.tool_calls);
				if (typeof choice?.finish_reason === 'string')
					finishReason = choice.finish_reason === 'length' ? 'length' : choice.finish_reason === 'tool_calls' ? 'tool-calls' : 'stop';
			}
			if (finishReason === undefined) throw new EngineError('failed', 'The upstream ended the answer without finishing it.');
			for (const call of calls.done()) yield { type: 'tool-call', call };
			yield {
				type: 'done',
				finishReason,
				promptTokens: usage?.promptTokens ?? estimateTokens(request),
				completionTokens: usage?.completionTokens ?? chunks
			};
		} catch (error) {
			if (signal?.aborted) throw signal.reason;
			if (error instanceof EngineError) throw error;
			throw new EngineError('failed', `The upstream ${this.baseUrl} failed: ${String(error)}`, { cause: error });
		}
	}

	private limits(): SseLimits {
		return { maxLine: this.init.maxLineLength ?? 1024 * 1024, maxBytes: this.init.maxStreamBytes ?? 32 * 1024 * 1024 };
	}

	/** Sends a request; a non-2xx answer becomes an {@link EngineError}. */
	private async request(method: string, path: string, body: unknown, signal?: AbortSignal): Promise<Response> {
		const headers: Record<string, string> = { Accept: body === undefined ? 'application/json' : 'text/event-stream' };
		if (body !== undefined) headers['Content-Type'] = 'application/json';
		if (this.init.apiKey !== undefined) headers.Authorization = `Bearer ${this.init.apiKey}`;
		let response: Response;
		try {
			response = await this.fetch(`${this.baseUrl}${path}`, {
				method,
				headers,
				...(body !== undefined ? { body: JSON.stringify(body) } : {}),
				...(signal ? { signal } : {})
			});
		} catch (error) {
			if (signal?.aborted) throw signal.reason;
			throw new EngineError('failed', `Could not reach ${this.baseUrl}: ${String(error)}`, { cause: error });
		}
		if (response.ok) return response;
		const detail = await readJson(response, signal).catch(() => undefined);
		throw httpError(response.status, isObject(detail) ? detail.error : undefined, response.headers.get('retry-after'));
	}
}

/** A message in OpenAI's form: calls as `tool_calls`, a result with its `tool_call_id`. */
function openAiMessage(message: ChatMessage): object {
	if (message.role === 'tool') return { role: 'tool', content: message.content, tool_call_id: message.toolCallId ?? '' };
	if (message.role === 'assistant' && message.toolCalls?.length)
		return {
			role: 'assistant',
			content: message.content || null,
			tool_calls: message.toolCalls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } }))
		};
	return { role: message.role, content: message.content };
}

function openAiChoice(choice: ToolChoice): unknown {
	return typeof choice === 'string' ? choice : { type: 'function', function: { name: choice.name } };
}

/**
 * Tool calls as OpenAI streams them: per `index`, the id and name first, the arguments in
 * pieces after. Bounded: at most {@link ToolLimits.maxCalls} calls of at most
 * {@link ToolLimits.maxArguments} characters, each naming a tool that was offered.
 */
class ToolCallDeltas {
	private readonly calls: { id: string; name: string; arguments: string }[] = [];

	constructor(private readonly offered: string[]) {}

	add(deltas: unknown): void {
		if (!Array.isArray(deltas)) throw new EngineError('failed', 'The upstream sent malformed tool calls.');
		for (const delta of deltas) {
			if (!isObject(delta) || !isCount(delta.index) || delta.index > this.calls.length || delta.index >= ToolLimits.maxCalls)
				throw new EngineError('failed', 'The upstream sent a malformed tool call.');
			const call = (this.calls[delta.index] ??= { id: '', name: '', arguments: '' });
			if (typeof delta.id === 'string') call.id = delta.id.slice(0, ToolLimits.maxCallId);
			const fn = isObject(delta.function) ? delta.function : {};
			if (typeof fn.name === 'string') call.name += fn.name;
			if (typeof fn.arguments === 'string') call.arguments += fn.arguments;
			if (call.arguments.length > ToolLimits.maxArguments || call.name.length > 64)
				throw new EngineError('failed', 'The upstream sent a tool call over the size limit.');
		}
	}

	done(): ToolCall[] {
		return this.calls.map((call) => {
			if (!this.offered.includes(call.name)) throw new EngineError('failed', `The upstream called a tool that was not offered ("${call.name.slice(0, 64)}").`);
			return { id: call.id || newToolCallId(), name: call.name, arguments: call.arguments };
		});
	}
}

/** An HTTP error answer as an {@link EngineError}. */
function httpError(status: number, error: unknown, retryAfter: string | null): EngineError {
	const { message, code } = describeError(error);
	const says = message ? `: ${message}` : '';
	if (status === 404) return new EngineError('unknown-model', `The upstream has no such model${says}`);
	if (status === 429 || status === 503) {
		const wait = retryAfter && /^\d+$/.test(retryAfter) ? ` Try again in ${retryAfter} s.` : ' Try again shortly.';
		return new EngineError('busy', `The upstream is busy${says}.${wait}`);
	}
	if (status === 400) {
		const problem = problemOf(code, message);
		if (problem) return new EngineError(problem, `The upstream refused the request${says}`);
	}
	if (status === 401 || status === 403)
		return new EngineError('failed', `The upstream refused this relay's API key (HTTP ${status})${says}`);
	return new EngineError('failed', `The upstream answered HTTP ${status}${says}`);
}

/** An `{"error": …}` event inside the stream as an {@link EngineError}. */
function upstreamError(error: unknown): EngineError {
	const { message, code } = describeError(error);
	return new EngineError(problemOf(code, message) ?? 'failed', `The upstream failed mid-answer: ${message || 'no reason given'}`);
}

/** The engine problem an OpenAI error code (or message) names, if it is a specific one. */
function problemOf(code: string, message: string): EngineProblem | undefined {
	if (code === 'model_not_found') return 'unknown-model';
	if (code === 'rate_limit_exceeded') return 'busy';
	if (code === 'empty_input') return 'empty-input';
	if (/context/i.test(code) || /context length|context window|maximum context|too long/i.test(message)) return 'input-too-long';
	return undefined;
}

function describeError(error: unknown): { message: string; code: string } {
	if (typeof error === 'string') return { message: error.slice(0, 500), code: '' };
	if (!isObject(error)) return { message: '', code: '' };
	const message = typeof error.message === 'string' ? error.message.slice(0, 500) : '';
	const code = typeof error.code === 'string' ? error.code : typeof error.type === 'string' ? error.type : '';
	return { message, code };
}

function parseEvent(data: string): StreamEvent {
	let event: unknown;
	try {
		event = JSON.parse(data);
	} catch {
		throw new EngineError('failed', `The upstream sent a malformed event: ${data.slice(0, 80)}`);
	}
	if (!isObject(event) || (event.choices !== undefined && !Array.isArray(event.choices)))
		throw new EngineError('failed', `The upstream sent an unexpected event: ${data.slice(0, 80)}`);
	return event as StreamEvent; // checked above: an object whose `choices` is an array if present
}

function readUsage(usage: NonNullable<StreamEvent['usage']>): { promptTokens: number; completionTokens: number } | undefined {
	const { prompt_tokens: prompt, completion_tokens: completion } = usage;
	if (!isCount(prompt) || !isCount(completion)) return undefined;
	return { promptTokens: prompt, completionTokens: completion };
}

/** The context length a model listing states: ours and OpenRouter's, vLLM's, llama.cpp server's. */
function contextLength(entry: Record<string, unknown>): number | undefined {
	const meta = isObject(entry.meta) ? entry.meta : {};
	for (const value of [entry.context_length, entry.max_model_len, meta.n_ctx, meta.n_ctx_train])
		if (isCount(value) && value > 0) return value;
	return undefined;
}

/** Roughly four characters a token, for servers that send no usage. */
function estimateTokens(request: GenerateRequest): number {
	return Math.max(1, Math.ceil(request.messages.reduce((n, m) => n + m.content.length, 0) / 4));
}

interface SseLimits {
	/** Longest line, in characters. */
	maxLine: number;
	/** Most bytes of the whole stream. */
	maxBytes: number;
}

/**
 * The `data` of each server-sent event (multi-line data joined with `\n`); comments, `event`,
 * `id` and `retry` fields are skipped. A line or stream over its limit is an EngineError.
 */
export async function* sseData(body: ReadableStream<Uint8Array>, limits: SseLimits): AsyncGenerator<string> {
	const decoder = new TextDecoder();
	const reader = body.getReader();
	let buffer = '';
	let bytes = 0;
	let data: string[] = [];
	try {
		for (;;) {
			const { done, value } = await reader.read();
			if (done) break;
			bytes += value.byteLength;
			if (bytes > limits.maxBytes) throw new EngineError('failed', `The upstream's answer is over ${limits.maxBytes} bytes.`);
			buffer += decoder.decode(value, { stream: true });
			let end: number;
			while ((end = buffer.search(/\r\n|\r|\n/)) >= 0) {
				// A lone \r at the end of the buffer may be the first half of \r\n: wait for more.
				if (buffer[end] === '\r' && end === buffer.length - 1) break;
				const line = buffer.slice(0, end);
				buffer = buffer.slice(end + (buffer.startsWith('\r\n', end) ? 2 : 1));
				if (line.length > limits.maxLine) throw tooLong(limits);
				if (line === '') {
					if (data.length > 0) yield data.join('\n');
					data = [];
				} else if (line.startsWith('data:')) {
					data.push(line.slice(line[5] === ' ' ? 6 : 5));
				}
			}
			if (buffer.length > limits.maxLine) throw tooLong(limits);
		}
		const last = buffer + decoder.decode();
		if (last.startsWith('data:')) data.push(last.slice(last[5] === ' ' ? 6 : 5));
		if (data.length > 0) yield data.join('\n');
	} finally {
		await reader.cancel().catch(() => undefined);
	}
}

function tooLong(limits: SseLimits): EngineError {
	return new EngineError('failed', `The upstream sent a line over ${limits.maxLine} characters.`);
}

/** A JSON body read up to {@link MAX_JSON_BYTES}. */
async function readJson(response: Response, signal?: AbortSignal): Promise<unknown> {
	if (!response.body) return undefined;
	const reader = response.body.getReader();
	const chunks: Uint8Array[] = [];
	let size = 0;
	try {
		for (;;) {
			signal?.throwIfAborted();
			const { done, value } = await reader.read();
			if (done) break;
			size += value.byteLength;
			if (size > MAX_JSON_BYTES) throw new EngineError('failed', `The upstream's answer is over ${MAX_JSON_BYTES} bytes.`);
			chunks.push(value);
		}
	} finally {
		await reader.cancel().catch(() => undefined);
	}
	try {
		return JSON.parse(Buffer.concat(chunks).toString('utf8'));
	} catch {
		throw new EngineError('failed', 'The upstream answered with malformed JSON.');
	}
}

function isObject(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
	return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}
