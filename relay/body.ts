/**
 * Reading a bounded request body. A body over the limit (by its Content-Length, or once that
 * many bytes arrived) is refused at once, so the 413 goes out while the client is still
 * sending; the rest is read and dropped, never held (so the client reads the 413 rather than a
 * reset connection), up to `drainBytes`, beyond which the connection is cut.
 */
import type { IncomingMessage } from 'node:http';

/**
 * Bytes of a refused body read and dropped before the connection is cut, by default: enough
 * that a client sending a large body reads its 413, bounded so nobody holds a connection
 * for ever (nothing of it is kept in memory).
 */
export const DRAIN_BYTES = 64 * 1024 * 1024;

/** What {@link readBoundedBody} needs: the limits and the errors to reject with. */
export interface BodyLimits {
	maxBytes: number;
	/** Bytes read and dropped past the limit before the connection is cut; default {@link DRAIN_BYTES}. */
	drainBytes?: number;
	/** The error for a body over `maxBytes`. */
	tooLarge: () => Error;
	/** The error for a body whose connection closed before its end. */
	cutOff: () => Error;
}

/** The body as UTF-8, at most `limits.maxBytes`; see the module comment. */
export function readBoundedBody(req: IncomingMessage, limits: BodyLimits): Promise<string> {
	return new Promise<string>((resolve, reject) => {
		const chunks: Buffer[] = [];
		let size = 0;
		let over = false;
		const refuse = () => {
			over = true;
			chunks.length = 0;
			reject(limits.tooLarge());
		};
		if (Number(req.headers['content-length']) > limits.maxBytes) refuse();
		req.on('data', (chunk: Buffer) => {
			size += chunk.length;
			if (size > limits.maxBytes && !over) refuse();
			if (!over) chunks.push(chunk);
			else if (size > (limits.drainBytes ?? DRAIN_BYTES)) req.destroy();
		});
		req.once('end', () => (over ? reject(limits.tooLarge()) : resolve(Buffer.concat(chunks).toString('utf8'))));
		req.once('error', reject);
		req.once('close', () => reject(limits.cutOff()));
	});
}

/** Reads and drops a request's body (its request was refused), cutting the connection after `drainBytes`. */
export function dropBody(req: IncomingMessage, drainBytes = DRAIN_BYTES): void {
	let size = 0;
	req.on('data', (chunk: Buffer) => {
		size += chunk.length;
		if (size > drainBytes) req.destroy();
	});
	req.on('error', () => {});
}
