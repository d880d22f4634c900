/**
 * Reading a bounded request body. A body over the limit (by its Content-Length, or once that
 * many bytes arrived) is refused at once, so the 413 goes out while the client is still
 * sending; the rest is read and dropped, never held (so the client reads the 413 rather than a
 * reset connection), up to `drainBytes`, beyond which the connection is cut. With a
 * {@link BodyBudget}, the bytes of every body being read at once are bounded too: a body that
 * does not fit is refused (503) and dropped. A client that goes away mid-body is `cutOff`,
 * whether the socket errs or just closes.
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
	/** Shared by the bodies being read at once; without it only `maxBytes` bounds a body. */
	budget?: BodyBudget;
	/** The error for a body the budget has no room for. */
	busy?: () => Error;
}

/**
 * Bytes of request bodies being read at once, across requests: a body reserves its
 * Content-Length (or its bytes as they arrive, when it has none) and gives them back when it
 * is read, refused or cut off. So stalled uploads hold at most `maxBytes` in all. `onFull` is
 * told of the first refusal of a burst (none again until a reservation fits).
 */
export class BodyBudget {
	private used = 0;
	private told = false;

	constructor(
		readonly maxBytes: number,
		private readonly onFull: (inUse: number) => void = () => {}
	) {}

	/** Bytes reserved now. */
	get inUse(): number {
		return this.used;
	}

	/** Reserves `bytes`: false (nothing reserved) when they do not fit. */
	reserve(bytes: number): boolean {
		if (this.used + bytes > this.maxBytes) {
			if (!this.told) this.onFull(this.used);
			this.told = true;
			return false;
		}
		this.used += bytes;
		this.told = false;
		return true;
	}

	/** Gives back `bytes` reserved earlier. */
	release(bytes: number): void {
		this.used = Math.max(0, this.used - bytes);
	}
}

/** The body as UTF-8, at most `limits.maxBytes`; see the module comment. */
export function readBoundedBody(req: IncomingMessage, limits: BodyLimits): Promise<string> {
	return new Promise<string>((resolve, reject) => {
		const chunks: Buffer[] = [];
		let size = 0;
		let over = false;
		let reserved = 0;
		const { budget } = limits;
		const giveBack = () => {
			budget?.release(reserved);
			reserved = 0;
		};
		const refuse = (error: Error) => {
			over = true;
			chunks.length = 0;
			giveBack();
			reject(error);
		};
		/** Reserves up to `total` bytes of the budget; refuses the body when they do not fit. */
		const fits = (total: number): boolean => {
			if (budget === undefined || total <= reserved) return true;
			if (budget.reserve(total - reserved)) {
				reserved = total;
				return true;
			}
			refuse(limits.busy?.() ?? limits.tooLarge());
			return false;
		};
		const declared = Number(req.headers['content-length']);
		if (declared > limits.maxBytes) refuse(limits.tooLarge());
		else if (declared > 0) fits(declared);
		req.on('data', (chunk: Buffer) => {
			size += chunk.length;
			if (!over && size > limits.maxBytes) refuse(limits.tooLarge());
			if (!over && fits(size)) chunks.push(chunk);
			else if (size > (limits.drainBytes ?? DRAIN_BYTES)) req.destroy();
		});
		req.once('end', () => {
			giveBack();
			if (over) reject(limits.tooLarge());
			else resolve(Buffer.concat(chunks).toString('utf8'));
		});
		// A client gone mid-body: its socket errs (a reset) or just closes; either is a cut-off, not the relay's failure.
		const cutOff = () => {
			giveBack();
			reject(limits.cutOff());
		};
		req.once('error', cutOff);
		req.once('close', cutOff);
	});
}

/**
 * Throws `tooLarge()` when `req` declares a body over `maxBytes` (Content-Length): asked
 * before anything else, so an oversized request is answered 413 at once, signed or not.
 */
export function refuseDeclaredOver(req: IncomingMessage, maxBytes: number, tooLarge: () => Error): void {
	if (Number(req.headers['content-length']) > maxBytes) throw tooLarge();
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
