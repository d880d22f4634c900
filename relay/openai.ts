/**
 * The relay's OpenAI-compatible API, so existing clients (SDKs, editors, scripts) can use the
 * models the relay hosts (DESIGN.md "Models on the mesh"):
 *
 * - `GET /v1/models`, `GET /v1/models/<id>`: OpenAI's list format, plus `context_length`,
 *   `engine` and `where` per model.
 * - `POST /v1/chat/completions` with `model`, `messages`, `temperature`, `max_tokens` (or
 *   `max_completion_tokens`), `stop`, `seed`, `stream`, `stream_options.include_usage`:
 *   a `chat.completion` object, or with `stream: true` server-sent `chat.completion.chunk`
 *   events ending in `data: [DONE]`. `tools` (functions) and `tool_choice` are taken: the
 *   answer then may carry `tool_calls` (streamed as deltas, each call's id and name first,
 *   then its arguments) with finish reason `tool_calls`, and the client runs the tools and
 *   sends their results back as `tool` messages, as with OpenAI. Only the client's tools are
 *   offered: the relay's own tools (MCP servers, the workspace's) never are here. Other
 *   OpenAI fields are ignored; `n` other than 1 is refused.
 *
 * Every request needs `Authorization: Bearer <key>` (apiKeys.ts); there is no exemption for
 * loopback. A key made in the app carries its maker's role (keysApi.ts `memberKeys`): it
 * lists and uses only the models the workspace's model-access rule lets that role use, among
 * the relay's own and those its workspace's members share (never another workspace's).
 * Errors are OpenAI-style `{error: {message, type, code, param}}`: 401 without a valid key,
 * 400 a malformed request, 403 a model the key's role may not use (or whose mesh host
 * refused the relay), 404 an unknown model, 413 a body over the limit, 429
 * with `Retry-After` when the model is busy. A streamed answer that fails after it started
 * ends with an `{error}` event instead of `[DONE]`. A client that disconnects aborts its
 * generation, which frees the engine for the next request.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ChatMessage, FinishReason, GenerateChunk, GenerateRequest } from '../src/lib/ai/engine.ts';
import { checkCalls, checkTools, isToolChoice } from '../src/lib/ai/tools/toolWire.ts';
import type { ToolCall } from '../src/lib/ai/tools/types.ts';
import type { VerifiedKey } from './ai/apiKeys.ts';
import type { ModelRegistry, ModelScope } from './ai/registry.ts';
import { SECURITY_HEADERS, type RequestHandler } from './static.ts';
import { dropBody, readBoundedBody } from './body.ts';
import { sendJson } from './json.ts';

/** Prefix of every path this API serves. */
export const OPENAI_PREFIX = '/v1/';

/** Default largest request body. */
export const MAX_CHAT_BODY_BYTES = 1024 * 1024;

/** Options of {@link createOpenAiHandler}. */
export interface OpenAiInit {
	/** Where models are listed and requests routed. */
	registry: Pick<ModelRegistry, 'models' | 'generate'>;
	/** Which bearer keys are valid, and which models each may use (an ApiKeyStore, or keysApi.ts `memberKeys`). */
	keys: { verify(key: string): Promise<VerifiedKey | undefined> };
	/** Largest request body in bytes; default {@link MAX_CHAT_BODY_BYTES}. */
	maxBodyBytes?: number;
	/** `Retry-After` seconds sent with 429 when a busy model gives no `retryAfterMs`; default 5. */
	retryAfterSeconds?: number;
	/** Where unexpected failures are reported (default: `console.error`). */
	onError?: (error: unknown) => void;
	/** How long a streamed answer waits for a client that stopped reading before it is dropped; default {@link STALL_MS}. */
	stallMs?: number;
	/** How often a streamed answer asks again whether its key still holds; default {@link RECHECK_MS}. */
	recheckMs?: number;
	/** Answers one key may have running at once; default {@link MAX_ANSWERS_PER_KEY}. */
	maxAnswersPerKey?: number;
}

/**
 * Answers one key may have running at once: past it, 429. Each holds an engine's slot or a
 * member's host for as long as it runs, and nothing but the per-address rate bounded how many
 * one key started (found in review).
 */
export const MAX_ANSWERS_PER_KEY = 4;

/**
 * How long a streamed answer waits for a client that reads nothing. The relay's engine makes
 * tokens only as they are taken, so a client that kept its connection open and read nothing
 * held the model from every other caller for ever (found in review).
 */
export const STALL_MS = 30_000;

/**
 * How often a streamed answer checks its key again: a key revoked, or whose maker lost the
 * role, while its answer streams stops getting it (found in review: the answer went on to
 * its end), as a mesh host checks its asker again every few chunks.
 */
export const RECHECK_MS = 1_000;

/** An OpenAI-style error answer. */
class OpenAiError extends Error {
	override name = 'OpenAiError';
	constructor(
		readonly status: number,
		message: string,
		readonly code: string | null = null,
		readonly param: string | null = null,
		readonly headers: Record<string, string> = {}
	) {
		super(message);
	}

	get type(): string {
		if (this.status === 401) return 'authentication_error';
		if (this.status === 429) return 'rate_limit_error';
		return this.status >= 500 ? 'server_error' : 'invalid_request_error';
	}

	toJSON(): object {
		return { error: { message: this.message, type: this.type, code: this.code, param: this.param } };
	}
}

/** A validated chat completion request. */
interface ChatRequest {
	generate: GenerateRequest;
	stream: boolean;
	includeUsage: boolean;
}

/** Creates the handler of every request under `/v1/`. */
export function createOpenAiHandler(init: OpenAiInit): RequestHandler {
	const onError = init.onError ?? ((error: unknown) => console.error('relay /v1:', error));
	const created = Math.floor(Date.now() / 1000);
	/** Answers running, by key id. */
	const running = new Map<string, number>();
	return async (req, res) => {
		try {
			const path = (req.url ?? '').split('?', 1)[0]!;
			const route =
				path === '/v1/chat/completions' ? 'chat' : path === '/v1/models' || path.startsWith('/v1/models/') ? 'models' : undefined;
			if (route === undefined) throw new OpenAiError(404, `no such endpoint: ${path}`, 'unknown_url');
			const method = route === 'chat' ? 'POST' : 'GET';
			if (req.method !== method && !(method === 'GET' && req.method === 'HEAD')) {
				drop(req);
				throw new OpenAiError(405, `use ${method} for ${path}`, 'method_not_allowed', null, { Allow: method });
			}
			const key = await authorized(req, init.keys);
			if (key === undefined) {
				drop(req);
				throw new OpenAiError(401, 'missing or invalid API key: send "Authorization: Bearer <key>" (npm run relay -- api-key create makes one)', 'invalid_api_key', null, {
					'WWW-Authenticate': 'Bearer'
				});
			}
			if (route === 'models') await listModels(req, res, init, key, path, created);
			else {
				const mine = running.get(key.id) ?? 0;
				const most = init.maxAnswersPerKey ?? MAX_ANSWERS_PER_KEY;
				if (mine >= most) {
					drop(req);
					throw new OpenAiError(429, `this key already has ${mine} answers running, the most it may: wait for one to finish`, 'rate_limit_exceeded', null, { 'Retry-After': '5' });
				}
				running.set(key.id, mine + 1);
				try {
					await chat(req, res, init, key, onError);
				} finally {
					const left = (running.get(key.id) ?? 1) - 1;
					if (left > 0) running.set(key.id, left);
					else running.delete(key.id);
				}
			}
		} catch (error) {
			if (res.headersSent || res.destroyed) {
				res.destroy();
				return;
			}
			if (error instanceof OpenAiError) {
				sendJson(res, error.status, error.toJSON(), error.headers);
				return;
			}
			onError(error);
			sendJson(res, 500, new OpenAiError(500, 'the relay failed to answer; see its log', 'internal_error').toJSON());
		}
	};
}

/** The presented key, when it is valid. */
async function authorized(req: IncomingMessage, keys: OpenAiInit['keys']): Promise<VerifiedKey | undefined> {
	const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
	return match === null ? undefined : keys.verify(match[1]!);
}

/** Whether `key` may use model `id` (keys without a rule: every model). */
const mayUse = (key: VerifiedKey, id: string): boolean => key.mayUse?.(id) ?? true;

/** Whose models `key` sees: a key made in the app, its workspace's (registry.ts `ModelScope`); the operator's, all. */
const scopeOf = (key: VerifiedKey): ModelScope => (key.workspace !== undefined ? { workspace: key.workspace, relayModels: key.relayModels ?? true } : 'all');

async function listModels(req: IncomingMessage, res: ServerResponse, init: OpenAiInit, key: VerifiedKey, path: string, created: number): Promise<void> {
	// A model the key's role may not use is not listed (nor found by id).
	const data = (await init.registry.models(scopeOf(key))).filter((m) => mayUse(key, m.id)).map((m) => ({
		id: m.id,
		object: 'model',
		created,
		owned_by: m.where,
		name: m.name,
		engine: m.engine,
		where: m.where,
		context_length: m.contextLength,
		...(m.tokensPerSecond !== undefined ? { tokens_per_second: m.tokensPerSecond } : {})
	}));
	const head = req.method === 'HEAD';
	if (path === '/v1/models') {
		sendJson(res, 200, { object: 'list', data }, {}, head);
		return;
	}
	const segment = path.slice('/v1/models/'.length);
	const id = decodedSegment(segment);
	const model = id === undefined ? undefined : data.find((m) => m.id === id);
	if (!model) throw new OpenAiError(404, `the model "${id ?? segment}" does not exist here; GET /v1/models lists them`, 'model_not_found', 'model');
	sendJson(res, 200, model, {}, head);
}

/** A percent-decoded path segment; undefined for a malformed escape (`%E0`), which names no model. */
function decodedSegment(segment: string): string | undefined {
	try {
		return decodeURIComponent(segment);
	} catch {
		return undefined;
	}
}

async function chat(req: IncomingMessage, res: ServerResponse, init: OpenAiInit, key: VerifiedKey, onError: (error: unknown) => void): Promise<void> {
	const text = await readBody(req, init.maxBodyBytes ?? MAX_CHAT_BODY_BYTES);
	let body: unknown;
	try {
		body = JSON.parse(text);
	} catch {
		throw new OpenAiError(400, 'the request body is not valid JSON', 'invalid_json');
	}
	const request = parseChatRequest(body);
	if (!mayUse(key, request.generate.model)) {
		const role = key.role !== undefined ? ` (${key.role})` : '';
		throw new OpenAiError(
			403,
			`the role of this key's maker${role} may not use the model "${request.generate.model}" in its workspace; an owner or admin can allow it in the app under Models → Model access`,
			'model_not_allowed',
			'model'
		);
	}

	// The client going away (closing the connection) cancels the generation.
	const controller = new AbortController();
	res.once('close', () => {
		if (!res.writableFinished) controller.abort();
	});
	const chunks = init.registry.generate(request.generate, controller.signal, scopeOf(key))[Symbol.asyncIterator]();
	const id = `chatcmpl-${randomBytes(12).toString('base64url')}`;
	const created = Math.floor(Date.now() / 1000);
	const model = request.generate.model;
	try {
		// Refusals (unknown model, too long, busy) come before the first chunk: answer them as HTTP errors.
		let next: IteratorResult<GenerateChunk>;
		try {
			next = await chunks.next();
		} catch (error) {
			if (controller.signal.aborted) return;
			throw engineToHttp(error, init, onError);
		}
		if (!request.stream) {
			let content = '';
			const calls: ToolCall[] = [];
			let revoked = false;
			let checkedAt = Date.now();
			try {
				for (; !next.done; next = await chunks.next()) {
					// As a streamed answer is (found in review: a whole answer went to a key revoked meanwhile).
					if (Date.now() - checkedAt >= (init.recheckMs ?? RECHECK_MS)) {
						checkedAt = Date.now();
						const still = await authorized(req, init.keys);
						if (still === undefined || !mayUse(still, model)) {
							revoked = true;
							controller.abort();
							break;
						}
					}
					const chunk = next.value;
					if (chunk.type === 'text') content += chunk.text;
					else if (chunk.type === 'tool-call') calls.push(chunk.call);
					else {
						const message = calls.length > 0 ? { role: 'assistant', content: content || null, tool_calls: calls.map(openAiCall) } : { role: 'assistant', content };
						sendJson(res, 200, {
							id,
							object: 'chat.completion',
							created,
							model,
							choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason(chunk.finishReason) }],
							usage: usage(chunk)
						});
						return;
					}
				}
			} catch (error) {
				if (controller.signal.aborted) return;
				throw engineToHttp(error, init, onError);
			}
			if (revoked) throw new OpenAiError(401, 'the API key was revoked, or its maker may no longer use this model, while the answer was written', 'invalid_api_key');
			throw new Error(`the engine of ${model} ended without a done chunk`);
		}

		res.statusCode = 200;
		for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
		res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
		res.setHeader('Cache-Control', 'no-store');
		res.setHeader('X-Accel-Buffering', 'no'); // no proxy buffering of the stream
		const event = (choices: object[], extra: object = {}) =>
			`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices, ...(request.includeUsage ? { usage: null } : {}), ...extra })}\n\n`;
		const delta = (d: object, reason: FinishReason | null = null) =>
			event([{ index: 0, delta: d, logprobs: null, finish_reason: reason === null ? null : finishReason(reason) }]);
		const stallMs = init.stallMs ?? STALL_MS;
		if (!(await write(res, delta({ role: 'assistant', content: '' }), stallMs))) return;
		let calls = 0;
		let checkedAt = Date.now();
		try {
			for (; !next.done; next = await chunks.next()) {
				if (Date.now() - checkedAt >= (init.recheckMs ?? RECHECK_MS)) {
					checkedAt = Date.now();
					const still = await authorized(req, init.keys);
					if (still === undefined || !mayUse(still, model)) {
						controller.abort();
						const refused = new OpenAiError(401, 'the API key was revoked, or its maker may no longer use this model, while the answer streamed', 'invalid_api_key');
						res.end(`data: ${JSON.stringify(refused.toJSON())}\n\n`);
						return;
					}
				}
				const chunk = next.value;
				let out: string;
				if (chunk.type === 'text') out = delta({ content: chunk.text });
				else if (chunk.type === 'tool-call') {
					// As OpenAI streams a call: id, name and empty arguments first, then the arguments.
					const index = calls++;
					const { id: callId, name } = chunk.call;
					out =
						delta({ tool_calls: [{ index, id: callId, type: 'function', function: { name, arguments: '' } }] }) +
						delta({ tool_calls: [{ index, function: { arguments: chunk.call.arguments } }] });
				} else out = delta({}, chunk.finishReason) + (request.includeUsage ? event([], { usage: usage(chunk) }) : '') + 'data: [DONE]\n\n';
				if (!(await write(res, out, stallMs))) return;
			}
			res.end();
		} catch (error) {
			if (controller.signal.aborted) return;
			const failure = engineToHttp(error, init, onError);
			res.end(`data: ${JSON.stringify(failure.toJSON())}\n\n`);
		}
	} finally {
		// Stops the engine's work if we stopped reading early (a write to a closed client).
		await chunks.return?.(undefined).catch(() => undefined);
	}
}

/** OpenAI's name of a finish reason. */
function finishReason(reason: FinishReason): string {
	return reason === 'tool-calls' ? 'tool_calls' : reason;
}

function openAiCall(call: ToolCall): object {
	return { id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } };
}

function usage(done: Extract<GenerateChunk, { type: 'done' }>): object {
	return {
		prompt_tokens: done.promptTokens,
		completion_tokens: done.completionTokens,
		total_tokens: done.promptTokens + done.completionTokens
	};
}

/**
 * Writes, waiting while the client is slow; false when the client has gone, or read nothing
 * for `stallMs` (its connection is then closed, which stops the generation).
 */
async function write(res: ServerResponse, text: string, stallMs: number): Promise<boolean> {
	if (res.destroyed) return false;
	if (res.write(text)) return true;
	await new Promise<void>((resolve) => {
		const timer = setTimeout(() => {
			res.destroy();
			done();
		}, stallMs);
		const done = () => {
			clearTimeout(timer);
			res.off('drain', done);
			res.off('close', done);
			resolve();
		};
		res.on('drain', done);
		res.on('close', done);
	});
	return !res.destroyed;
}

/** An engine's failure as the HTTP error to answer. */
function engineToHttp(error: unknown, init: OpenAiInit, onError: (error: unknown) => void): OpenAiError {
	if (!(error instanceof Error) || error.name !== 'EngineError' || !('problem' in error)) {
		onError(error);
		return new OpenAiError(500, 'the model failed; see the relay log', 'internal_error');
	}
	switch (error.problem) {
		case 'unknown-model':
			return new OpenAiError(404, error.message, 'model_not_found', 'model');
		case 'empty-input':
			return new OpenAiError(400, error.message, 'empty_input', 'messages');
		case 'input-too-long':
			return new OpenAiError(400, error.message, 'context_length_exceeded', 'messages');
		case 'not-allowed':
			// The peer that runs it (a mesh host) does not let the relay's role use the model.
			return new OpenAiError(
				403,
				'the peer that runs this model does not let the relay use it; an owner or admin can allow the Relay role in the app under Models → Model access',
				'model_not_allowed',
				'model'
			);
		case 'busy': {
			// A mesh host says when to come back (meshEngine.ts RemoteEngineError); else the default.
			const ms = 'retryAfterMs' in error && typeof error.retryAfterMs === 'number' ? error.retryAfterMs : undefined;
			const seconds = String(ms !== undefined && Number.isFinite(ms) && ms > 0 ? Math.ceil(ms / 1000) : (init.retryAfterSeconds ?? 5));
			return new OpenAiError(429, error.message, 'rate_limit_exceeded', null, { 'Retry-After': seconds });
		}
		default:
			onError(error);
			return new OpenAiError(500, error.message, 'model_failed');
	}
}

const ROLES: Record<string, ChatMessage['role']> = { system: 'system', developer: 'system', user: 'user', assistant: 'assistant', tool: 'tool' };

/**
 * Validates a `/v1/chat/completions` body.
 * @throws {OpenAiError} 400 naming the offending field.
 */
export function parseChatRequest(body: unknown): ChatRequest {
	if (!isObject(body)) throw invalid('the request body must be a JSON object', null);
	const { model, messages, temperature, stop, seed, stream, stream_options: streamOptions, n, tools, tool_choice: toolChoice } = body;
	const maxTokens = body.max_completion_tokens ?? body.max_tokens;
	if (typeof model !== 'string' || model === '' || model.length > 256) throw invalid('"model" must be a model id (GET /v1/models lists them)', 'model');
	if (!Array.isArray(messages)) throw invalid('"messages" must be an array of {role, content}', 'messages');
	const request: GenerateRequest = { model, messages: messages.map(parseMessage) };
	if (!isAbsent(maxTokens)) {
		if (!Number.isSafeInteger(maxTokens) || (maxTokens as number) < 1) throw invalid('"max_tokens" must be a whole number of at least 1', 'max_tokens');
		request.maxTokens = maxTokens as number;
	}
	if (!isAbsent(temperature)) {
		if (typeof temperature !== 'number' || !(temperature >= 0 && temperature <= 2)) throw invalid('"temperature" must be a number from 0 to 2', 'temperature');
		request.temperature = temperature;
	}
	if (!isAbsent(stop)) {
		const stops = typeof stop === 'string' ? [stop] : stop;
		if (!Array.isArray(stops) || stops.length > 16 || !stops.every((s) => typeof s === 'string' && s.length <= 1000))
			throw invalid('"stop" must be a string or an array of at most 16 strings', 'stop');
		if (stops.length > 0) request.stop = stops as string[];
	}
	if (!isAbsent(seed)) {
		if (!Number.isSafeInteger(seed)) throw invalid('"seed" must be a whole number', 'seed');
		request.seed = seed as number;
	}
	if (!isAbsent(stream) && typeof stream !== 'boolean') throw invalid('"stream" must be true or false', 'stream');
	if (!isAbsent(streamOptions) && !isObject(streamOptions)) throw invalid('"stream_options" must be an object', 'stream_options');
	const includeUsage = isObject(streamOptions) ? streamOptions.include_usage : undefined;
	if (!isAbsent(includeUsage) && typeof includeUsage !== 'boolean')
		throw invalid('"stream_options.include_usage" must be true or false', 'stream_options');
	if (!isAbsent(n) && n !== 1) throw invalid('only one choice per request is supported ("n": 1)', 'n');
	if (!isAbsent(tools)) {
		if (!Array.isArray(tools)) throw invalid('"tools" must be an array of {type: "function", function: {name, description, parameters}}', 'tools');
		const functions = tools.map((tool: unknown, i) => {
			if (!isObject(tool) || tool.type !== 'function' || !isObject(tool.function))
				throw invalid(`tools[${i}] must be {type: "function", function: {name, description, parameters}}`, `tools[${i}]`);
			return tool.function;
		});
		request.tools = checkTools(functions, (why) => invalid(`"tools": ${why}`, 'tools'));
	}
	if (!isAbsent(toolChoice)) request.toolChoice = parseToolChoice(toolChoice, request.tools?.map((t) => t.name) ?? []);
	return { generate: request, stream: stream === true, includeUsage: includeUsage === true };
}

/** OpenAI's `tool_choice`: "auto", "none", "required" or {type: "function", function: {name}}. */
function parseToolChoice(value: unknown, names: string[]): GenerateRequest['toolChoice'] {
	if (value === 'auto' || value === 'none' || value === 'required') {
		if (value === 'required' && names.length === 0) throw invalid('"tool_choice" is "required" but no "tools" are given', 'tool_choice');
		return value;
	}
	const name = isObject(value) && value.type === 'function' && isObject(value.function) ? value.function.name : undefined;
	const choice = { name };
	if (!isToolChoice(choice)) throw invalid('"tool_choice" must be "auto", "none", "required" or {type: "function", function: {name}}', 'tool_choice');
	if (!names.includes(choice.name)) throw invalid(`"tool_choice" names "${choice.name}", which is not among "tools"`, 'tool_choice');
	return choice;
}

function parseMessage(message: unknown, i: number): ChatMessage {
	const param = `messages[${i}]`;
	if (!isObject(message)) throw invalid(`${param} must be an object {role, content}`, param);
	const role = typeof message.role === 'string' ? ROLES[message.role] : undefined;
	if (role === undefined) throw invalid(`${param}.role must be "system", "developer", "user", "assistant" or "tool"`, `${param}.role`);
	const parsed = parseContent(message, role, param);
	if (role === 'tool') {
		const id = message.tool_call_id;
		if (typeof id !== 'string' || id === '' || id.length > 64) throw invalid(`${param}.tool_call_id must name the call this result answers`, `${param}.tool_call_id`);
		return { ...parsed, toolCallId: id };
	}
	if (role === 'assistant' && !isAbsent(message.tool_calls)) {
		const raw = message.tool_calls;
		if (!Array.isArray(raw)) throw invalid(`${param}.tool_calls must be an array`, `${param}.tool_calls`);
		const calls = raw.map((call: unknown) =>
			isObject(call) && isObject(call.function) ? { id: call.id, name: call.function.name, arguments: call.function.arguments } : call
		);
		return { ...parsed, toolCalls: checkCalls(calls, (why) => invalid(`${param}.tool_calls: ${why}`, `${param}.tool_calls`)) };
	}
	return parsed;
}

function parseContent(message: Record<string, unknown>, role: ChatMessage['role'], param: string): ChatMessage {
	const { content } = message;
	if (typeof content === 'string') return { role, content };
	if ((content === null || content === undefined) && role === 'assistant') return { role, content: '' };
	if (Array.isArray(content)) {
		const texts = content.map((part: unknown) =>
			isObject(part) && part.type === 'text' && typeof part.text === 'string' ? part.text : undefined
		);
		if (texts.every((t) => t !== undefined)) return { role, content: texts.join('\n') };
		throw invalid(`${param}.content: only text parts ({"type": "text", "text": …}) are supported`, `${param}.content`);
	}
	throw invalid(`${param}.content must be a string`, `${param}.content`);
}

function invalid(message: string, param: string | null): OpenAiError {
	return new OpenAiError(400, message, 'invalid_request', param);
}

function isAbsent(value: unknown): value is undefined | null {
	return value === undefined || value === null;
}

function isObject(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The body as UTF-8, at most `limit` bytes (see body.ts for what is drained). */
function readBody(req: IncomingMessage, limit: number): Promise<string> {
	return readBoundedBody(req, {
		maxBytes: limit,
		tooLarge: () => new OpenAiError(413, `the request body is over ${limit} bytes: shorten the conversation`, 'request_too_large'),
		cutOff: () => new OpenAiError(400, 'the request body was cut off', 'incomplete_body')
	});
}

/** Drops a refused body as it arrives, never holding it (body.ts `dropBody`). */
function drop(req: IncomingMessage): void {
	if (!req.readableEnded) dropBody(req);
}

