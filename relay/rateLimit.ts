/**
 * Requests per address per minute, for the relay's HTTP API (`/api/`, `/v1/`) and signalling
 * upgrades: a fixed one-minute window per remote address. Over the limit, a request is
 * answered 429 with `Retry-After` (signalling: refused before the upgrade), and the first
 * refusal of an address in a window is logged, not every one. At most `maxAddresses`
 * addresses are tracked; when full, the oldest window goes (a stranger cycling addresses
 * cannot grow the table). An address is counted by {@link addressKey}: an IPv6 host by its
 * /64 (one host is handed a whole /64 and may use any address in it), an IPv4-mapped IPv6
 * address as its IPv4 address.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIPv6 } from 'node:net';
import { dropBody } from './body.ts';

/** Default requests per address per minute. */
export const DEFAULT_REQUESTS_PER_MINUTE = 600;
const WINDOW_MS = 60_000;

/** What {@link RateLimiter.take} decides. */
export type RateVerdict = { ok: true } | { ok: false; retryAfterS: number; first: boolean };

/** See the module comment. */
export class RateLimiter {
	private readonly windows = new Map<string, { start: number; count: number; told: boolean }>();

	constructor(
		readonly perMinute = DEFAULT_REQUESTS_PER_MINUTE,
		private readonly maxAddresses = 10_000,
		private readonly now: () => number = Date.now
	) {}

	/** Counts one request from `address` (counted by its {@link addressKey}). */
	take(address: string): RateVerdict {
		const now = this.now();
		address = addressKey(address);
		let window = this.windows.get(address);
		if (window === undefined || now - window.start >= WINDOW_MS) {
			this.windows.delete(address);
			if (this.windows.size >= this.maxAddresses) this.windows.delete(this.windows.keys().next().value!);
			window = { start: now, count: 0, told: false };
			this.windows.set(address, window); // newest last
		}
		window.count++;
		if (window.count <= this.perMinute) return { ok: true };
		const first = !window.told;
		window.told = true;
		return { ok: false, retryAfterS: Math.max(1, Math.ceil((window.start + WINDOW_MS - now) / 1000)), first };
	}
}

/** The address a request came from, as {@link addressKey} counts it (`unknown` when the socket no longer says). */
export function addressOf(req: IncomingMessage): string {
	return addressKey(req.socket.remoteAddress ?? 'unknown');
}

/**
 * The key per-address limits count `address` by (rate, challenges, signalling connections): an
 * IPv6 address by its /64 (`2001:db8:0:0::/64`), an IPv4-mapped one (`::ffff:192.0.2.1`) by
 * its IPv4 address, anything else as it is.
 */
export function addressKey(address: string): string {
	const groups = ipv6Groups(address);
	if (groups === undefined) return address;
	if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
		return [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff].join('.');
	}
	return `${groups
		.slice(0, 4)
		.map((g) => g.toString(16))
		.join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address (a zone id dropped), or undefined for anything else. */
function ipv6Groups(address: string): number[] | undefined {
	let text = address.split('%', 1)[0]!;
	if (!isIPv6(text)) return undefined;
	const dotted = /^(.*:)(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
	if (dotted !== null) {
		const [a, b, c, d] = dotted.slice(2).map(Number) as [number, number, number, number];
		text = `${dotted[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
	}
	const [head = '', tail] = text.split('::');
	const split = (part: string | undefined) => (part ? part.split(':') : []);
	const written = [...split(head), ...split(tail)];
	const filler = tail === undefined ? [] : new Array<string>(8 - written.length).fill('0');
	return [...split(head), ...filler, ...split(tail)].map((group) => parseInt(group, 16));
}

/**
 * Counts `req` against `limiter`; when over, answers 429 with `Retry-After` and a JSON error,
 * logs the first refusal of the window, and returns false.
 */
export function admitRequest(limiter: RateLimiter, req: IncomingMessage, res: ServerResponse, log: (line: string) => void): boolean {
	const address = addressOf(req);
	const verdict = limiter.take(address);
	if (verdict.ok) return true;
	if (verdict.first) log(`Requests from ${address} are over ${limiter.perMinute} a minute; refused for ${verdict.retryAfterS} s`);
	const body = JSON.stringify({ error: `Too many requests from your address: try again in ${verdict.retryAfterS} s.` });
	res.writeHead(429, {
		'Content-Type': 'application/json; charset=utf-8',
		'Retry-After': String(verdict.retryAfterS),
		'Content-Length': Buffer.byteLength(body)
	});
	res.end(body);
	dropBody(req); // whatever body it sent is read and dropped, within a bound
	return false;
}

/** Counts a signalling upgrade against `limiter`: the seconds to wait when over (logged once per window), else undefined. */
export function admitUpgrade(limiter: RateLimiter, req: IncomingMessage, log: (line: string) => void): number | undefined {
	const address = addressOf(req);
	const verdict = limiter.take(address);
	if (verdict.ok) return undefined;
	if (verdict.first) log(`Signalling connections from ${address} are over ${limiter.perMinute} a minute; refused for ${verdict.retryAfterS} s`);
	return verdict.retryAfterS;
}
