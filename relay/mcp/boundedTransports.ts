/**
 * The relay's MCP transports, bounded in what one answer may make it hold. A tool's result is
 * cut to 64 KiB (toolResult.ts) only once it has been received and parsed whole, and a member
 * chooses a tool's arguments: a files server reading a big file, a fetch tool on an endless URL.
 * With the SDK's own transports (found in review), over stdio an answer over its 10 MiB read
 * buffer closed the connection, so the server went down for every member (its calls in flight
 * failed, its restart backed off up to a minute) and the caller was told it "stopped"; over
 * Streamable HTTP nothing bounded an answer at all.
 *
 * Here an answer over {@link MAX_MESSAGE_BYTES} is dropped as it arrives, holding no more than
 * that, and the call it answers (found by its JSON-RPC id, and only among the calls sent) gets a
 * JSON-RPC error with {@link OVERSIZE_CODE} instead: that call fails with a clear message and the
 * connection stays up for everyone else.
 *
 * - {@link BoundedStdioTransport}: the child process over stdin/stdout as the SDK's stdio
 *   transport runs it (same environment, same shutdown), reading stdout line by line with the
 *   bound. An oversized line's id is read from its first or last bytes, where JSON-RPC
 *   serialisers put it (`{"jsonrpc":"2.0","id":…` or `…,"id":…}`).
 * - {@link boundedFetch}: the fetch the Streamable HTTP transport is given. A JSON answer is read
 *   up to the bound and handed on whole, or replaced by the error for the ids the request sent;
 *   an event stream (a call answered as events, or notifications) is read line by line with the
 *   bound, and a `data:` line over it is replaced by the error for the call it answers (or
 *   dropped, when it answers none of the request's).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { PassThrough, type Readable } from 'node:stream';
import { getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { FetchLike, Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { JSONRPCMessageSchema, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { concat } from 'uint8arrays/concat';

/** Largest answer (one JSON-RPC message) the relay takes from an MCP server. */
export const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/** JSON-RPC error code of an answer dropped for its size (in the implementation-defined server range). */
export const OVERSIZE_CODE = -32_050;

/** A JSON-RPC id. */
type RequestId = string | number;

/** How much of an oversized line is kept at each end to find its id. */
const EDGE_BYTES = 256;

/** What {@link LineReader.push} finds: a whole line, or one that was over the bound (its edges kept). */
export type ReadLine = { line: string } | { oversized: { head: string; tail: string; bytes: number } };

/** Splits a byte stream into lines, holding at most `maxBytes` of a line; see the module comment. */
export class LineReader {
	private parts: Buffer[] = [];
	private held = 0;
	/** While a line is over the bound: its first bytes, its last bytes so far and its length. */
	private skipping: { head: Buffer; tail: Buffer; bytes: number } | undefined;

	constructor(private readonly maxBytes: number) {}

	push(chunk: Buffer): ReadLine[] {
		const out: ReadLine[] = [];
		let from = 0;
		while (from < chunk.length) {
			const end = chunk.indexOf(0x0a, from);
			const piece = chunk.subarray(from, end === -1 ? chunk.length : end);
			this.take(piece);
			if (end === -1) break;
			out.push(this.endLine());
			from = end + 1;
		}
		return out;
	}

	/** The line in progress when the stream ends without a newline (nothing when it was over the bound). */
	rest(): string {
		const rest = this.skipping === undefined ? Buffer.concat(this.parts).toString('utf8') : '';
		this.clear();
		return rest;
	}

	/** Forgets a line in progress. */
	clear(): void {
		this.parts = [];
		this.held = 0;
		this.skipping = undefined;
	}

	private take(piece: Buffer): void {
		if (piece.length === 0) return;
		if (this.skipping === undefined && this.held + piece.length <= this.maxBytes) {
			this.parts.push(piece);
			this.held += piece.length;
			return;
		}
		if (this.skipping === undefined) {
			const so = Buffer.concat([...this.parts, piece.subarray(0, EDGE_BYTES)]);
			this.skipping = { head: so.subarray(0, EDGE_BYTES), tail: Buffer.alloc(0), bytes: this.held };
			this.parts = [];
			this.held = 0;
		}
		const s = this.skipping;
		s.bytes += piece.length;
		s.tail = Buffer.concat([s.tail, piece.subarray(Math.max(0, piece.length - EDGE_BYTES))]);
		if (s.tail.length > EDGE_BYTES) s.tail = s.tail.subarray(s.tail.length - EDGE_BYTES);
	}

	private endLine(): ReadLine {
		const s = this.skipping;
		if (s !== undefined) {
			this.skipping = undefined;
			return { oversized: { head: s.head.toString('utf8'), tail: s.tail.toString('utf8'), bytes: s.bytes } };
		}
		const line = Buffer.concat(this.parts).toString('utf8').replace(/\r$/, '');
		this.parts = [];
		this.held = 0;
		return { line };
	}
}

const ID = String.raw`("(?:[^"\\]|\\.){0,100}"|-?\d{1,16})`;
const ID_FIRST = new RegExp(String.raw`^\s*\{\s*"jsonrpc"\s*:\s*"2\.0"\s*,\s*"id"\s*:\s*${ID}`);
const ID_LAST = new RegExp(String.raw`[,{]\s*"id"\s*:\s*${ID}\s*\}\s*$`);

/** The JSON-RPC id an oversized message names at either end, if it is one of `sent`. */
export function oversizedId(head: string, tail: string, sent: ReadonlySet<RequestId>): RequestId | undefined {
	for (const match of [ID_LAST.exec(tail), ID_FIRST.exec(head)]) {
		const text = match?.[1];
		if (text === undefined) continue;
		let id: unknown;
		try {
			id = JSON.parse(text);
		} catch {
			continue;
		}
		if ((typeof id === 'string' || typeof id === 'number') && sent.has(id)) return id;
	}
	return undefined;
}

/** The error a call whose answer was over `maxBytes` gets instead. */
export function oversizeAnswer(id: RequestId, bytes: number | undefined, maxBytes: number): JSONRPCMessage {
	const size = bytes === undefined ? `more than ${maxBytes}` : String(bytes);
	return { jsonrpc: '2.0', id, error: { code: OVERSIZE_CODE, message: `the answer was ${size} bytes; the relay takes at most ${maxBytes}` } };
}

/** The ids of the requests in a JSON-RPC message or batch. */
function requestIds(message: unknown): RequestId[] {
	const list = Array.isArray(message) ? message : [message];
	const ids: RequestId[] = [];
	for (const m of list) {
		if (m === null || typeof m !== 'object' || !('method' in m) || !('id' in m)) continue;
		const id = (m as { id: unknown }).id;
		if (typeof id === 'string' || typeof id === 'number') ids.push(id);
	}
	return ids;
}

/** The ids answered by a JSON-RPC message or batch. */
function answeredIds(message: unknown): RequestId[] {
	const list = Array.isArray(message) ? message : [message];
	const ids: RequestId[] = [];
	for (const m of list) {
		if (m === null || typeof m !== 'object' || 'method' in m || !('id' in m)) continue;
		const id = (m as { id: unknown }).id;
		if (typeof id === 'string' || typeof id === 'number') ids.push(id);
	}
	return ids;
}

/** What {@link BoundedStdioTransport} runs. */
export interface BoundedStdioParams {
	command: string;
	args?: string[];
	env?: Record<string, string>;
	/** Largest answer taken; default {@link MAX_MESSAGE_BYTES}. */
	maxMessageBytes?: number;
}

/** An MCP server as a child process over stdio, its answers bounded; see the module comment. */
export class BoundedStdioTransport implements Transport {
	onclose?: () => void;
	onerror?: (error: Error) => void;
	onmessage?: (message: JSONRPCMessage) => void;

	private child: ChildProcess | undefined;
	private readonly reader: LineReader;
	private readonly maxBytes: number;
	/** Requests sent and not answered yet. */
	private readonly sent = new Set<RequestId>();
	/** The child's stderr, there before it starts (no early line is lost). */
	readonly stderr: Readable = new PassThrough();

	constructor(private readonly params: BoundedStdioParams) {
		this.maxBytes = params.maxMessageBytes ?? MAX_MESSAGE_BYTES;
		this.reader = new LineReader(this.maxBytes);
	}

	start(): Promise<void> {
		if (this.child !== undefined) throw new Error('the transport is started already');
		return new Promise((resolve, reject) => {
			const child = spawn(this.params.command, this.params.args ?? [], {
				env: { ...getDefaultEnvironment(), ...this.params.env },
				stdio: ['pipe', 'pipe', 'pipe'],
				shell: false
			});
			this.child = child;
			child.on('error', (error) => {
				reject(error);
				this.onerror?.(error);
			});
			child.on('spawn', () => resolve());
			child.on('close', () => {
				this.child = undefined;
				this.onclose?.();
			});
			child.stdin?.on('error', (error) => this.onerror?.(error));
			child.stdout?.on('error', (error) => this.onerror?.(error));
			child.stdout?.on('data', (chunk: Buffer) => {
				for (const read of this.reader.push(chunk)) this.deliver(read);
			});
			child.stderr?.pipe(this.stderr as PassThrough);
		});
	}

	send(message: JSONRPCMessage): Promise<void> {
		return new Promise((resolve, reject) => {
			const stdin = this.child?.stdin;
			if (stdin == null) {
				reject(new Error('Not connected'));
				return;
			}
			for (const id of requestIds(message)) this.sent.add(id);
			if (stdin.write(`${JSON.stringify(message)}\n`)) resolve();
			else stdin.once('drain', resolve);
		});
	}

	async close(): Promise<void> {
		const child = this.child;
		this.child = undefined;
		this.reader.clear();
		this.sent.clear();
		if (child === undefined) return;
		const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
		const within = (ms: number) => Promise.race([closed, new Promise<void>((resolve) => setTimeout(resolve, ms).unref())]);
		try {
			child.stdin?.end();
		} catch {
			// already gone
		}
		await within(2000);
		if (child.exitCode === null && child.signalCode === null) {
			child.kill('SIGTERM');
			await within(2000);
		}
		if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
	}

	private deliver(read: ReadLine): void {
		if ('oversized' in read) {
			const { head, tail, bytes } = read.oversized;
			const id = oversizedId(head, tail, this.sent);
			if (id === undefined) {
				this.onerror?.(new Error(`dropped a message of ${bytes} bytes that answers no call (the most taken is ${this.maxBytes})`));
				return;
			}
			this.sent.delete(id);
			this.onmessage?.(oversizeAnswer(id, bytes, this.maxBytes));
			return;
		}
		if (read.line.trim() === '') return;
		let message: JSONRPCMessage;
		try {
			message = JSONRPCMessageSchema.parse(JSON.parse(read.line));
		} catch (error) {
			this.onerror?.(error instanceof Error ? error : new Error(String(error)));
			return;
		}
		for (const id of answeredIds(message)) this.sent.delete(id);
		this.onmessage?.(message);
	}
}

/** Reads `body` up to `maxBytes`; undefined when it is longer (the rest is not read). */
async function readUpTo(body: ReadableStream<Uint8Array>, maxBytes: number): Promise<Uint8Array<ArrayBuffer> | undefined> {
	const reader = body.getReader();
	const parts: Uint8Array[] = [];
	let held = 0;
	for (;;) {
		const { done, value } = await reader.read();
		if (done) break;
		held += value.byteLength;
		if (held > maxBytes) {
			await reader.cancel().catch(() => {});
			return undefined;
		}
		parts.push(value);
	}
	return concat(parts, held);
}

/** An event stream read line by line with the bound; see the module comment. `sent`: the ids of the request it answers. */
function boundedEvents(body: ReadableStream<Uint8Array>, maxBytes: number, sent: ReadonlySet<RequestId>): ReadableStream<Uint8Array> {
	const reader = new LineReader(maxBytes);
	const encoder = new TextEncoder();
	const only = sent.size === 1 ? [...sent][0] : undefined;
	const out = (read: ReadLine): string => {
		if ('line' in read) return `${read.line}\n`;
		const { head, tail, bytes } = read.oversized;
		if (!head.startsWith('data:')) return '';
		const id = oversizedId(head.replace(/^data:\s?/, ''), tail, sent) ?? only;
		return id === undefined ? '' : `data: ${JSON.stringify(oversizeAnswer(id, bytes, maxBytes))}\n`;
	};
	return body.pipeThrough(
		new TransformStream<Uint8Array, Uint8Array>({
			transform(chunk, controller) {
				const text = reader.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)).map(out).join('');
				if (text !== '') controller.enqueue(encoder.encode(text));
			},
			flush(controller) {
				const rest = reader.rest();
				if (rest !== '') controller.enqueue(encoder.encode(rest));
			}
		})
	);
}

/** The ids of the requests a fetch's JSON body sends. */
function idsOf(body: unknown): RequestId[] {
	try {
		return typeof body === 'string' ? requestIds(JSON.parse(body)) : [];
	} catch {
		return [];
	}
}

/** The fetch of the Streamable HTTP transport, its answers bounded; see the module comment. */
export function boundedFetch(maxBytes: number = MAX_MESSAGE_BYTES, base: FetchLike = fetch): FetchLike {
	return async (url, init) => {
		const response = await base(url, init);
		if (response.body === null) return response;
		const type = (response.headers.get('content-type') ?? '').split(';', 1)[0]!.trim().toLowerCase();
		if (type === 'text/event-stream') {
			const events = boundedEvents(response.body, maxBytes, new Set(idsOf(init?.body)));
			return new Response(events, { status: response.status, statusText: response.statusText, headers: response.headers });
		}
		const declared = Number(response.headers.get('content-length') ?? NaN);
		const bytes = Number.isFinite(declared) && declared > maxBytes ? undefined : await readUpTo(response.body, maxBytes);
		if (bytes !== undefined) return new Response(bytes, { status: response.status, statusText: response.statusText, headers: response.headers });
		if (Number.isFinite(declared)) await response.body.cancel().catch(() => {});
		// Too large: the calls this request made get the error instead.
		const answers = idsOf(init?.body).map((id) => oversizeAnswer(id, Number.isFinite(declared) ? declared : undefined, maxBytes));
		const headers = new Headers(response.headers);
		headers.set('content-type', 'application/json');
		headers.delete('content-length');
		return new Response(JSON.stringify(answers.length === 1 ? answers[0] : answers), { status: response.status, statusText: response.statusText, headers });
	};
}
