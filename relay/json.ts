/**
 * JSON answers of the relay's HTTP APIs (`/api`, `/api/keys`, `/v1`): the status, the
 * relay's security headers, no caching, and an error type that carries a status and what
 * the caller should do; and whether there is anyone left to answer.
 */
import type { ServerResponse } from 'node:http';
import { SECURITY_HEADERS } from './static.ts';

/** An invalid request: a status, a message saying what to do, and extra headers (`Allow`, `Retry-After`). */
export class HttpError extends Error {
	override name = 'HttpError';
	constructor(
		readonly status: number,
		message: string,
		readonly headers: Record<string, string> = {}
	) {
		super(message);
	}
}

/** Sends `body` as JSON (for HEAD, only the headers). */
export function sendJson(res: ServerResponse, status: number, body: object, headers: Record<string, string> = {}, head = false): void {
	const text = JSON.stringify(body);
	res.statusCode = status;
	for (const [name, value] of Object.entries({ ...SECURITY_HEADERS, ...headers })) res.setHeader(name, value);
	res.setHeader('Content-Type', 'application/json; charset=utf-8');
	res.setHeader('Cache-Control', 'no-store');
	res.setHeader('Content-Length', Buffer.byteLength(text));
	res.end(head ? undefined : text);
}

/** A request body as JSON; a 400 when it is not. */
export function parseJsonBody(text: string): unknown {
	try {
		return JSON.parse(text);
	} catch {
		throw new HttpError(400, 'the request body is not valid JSON');
	}
}

/** Field `name` of a parsed JSON object body (undefined for anything else). */
export function bodyField(body: unknown, name: string): unknown {
	return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>)[name] : undefined;
}

/**
 * Whether a request failed because its client went away (a reset, a closed tab), not through
 * the relay's fault. (Not `req.destroyed`: a request is destroyed once its body is read.)
 */
export function clientGone(res: ServerResponse, error: unknown): boolean {
	const code = error instanceof Error && 'code' in error ? error.code : undefined;
	return res.destroyed || code === 'ERR_STREAM_PREMATURE_CLOSE';
}
