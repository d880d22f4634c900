/**
 * Requests per address per minute on the relay: `/api/`, `/v1/` and signalling upgrades get
 * 429 with Retry-After past the limit (static files do not count), the refusal is logged once
 * per address and window, and the window's end lets the address in again. An IPv6 host counts
 * by its /64, an IPv4-mapped address as its IPv4 address.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { addressKey, RateLimiter } from './rateLimit.ts';
import { startRelay, type Relay } from './server.ts';
import { SIGNALLING_PATH } from './signalling.ts';

let root: string;
let relay: Relay | undefined;
beforeEach(async () => {
	root = await mkdtemp(join(tmpdir(), 'outpost-rate-'));
	await mkdir(join(root, 'build'));
	await writeFile(join(root, 'build', 'index.html'), '<!doctype html><title>app</title>');
});
afterEach(async () => {
	await relay?.close();
	relay = undefined;
	await rm(root, { recursive: true, force: true });
});

/** The status a signalling upgrade gets (101 when it opens). */
function upgradeStatus(url: string): Promise<{ status: number; retryAfter?: string }> {
	return new Promise((resolve, reject) => {
		const ws = new WebSocket(url.replace(/^http/, 'ws') + SIGNALLING_PATH);
		ws.on('open', () => {
			ws.close();
			resolve({ status: 101 });
		});
		ws.on('unexpected-response', (_req, res) => {
			resolve({ status: res.statusCode ?? 0, ...(res.headers['retry-after'] !== undefined ? { retryAfter: String(res.headers['retry-after']) } : {}) });
			ws.terminate();
		});
		ws.on('error', (error) => reject(error));
	});
}

describe('requests per address per minute', () => {
	it('answers 429 with Retry-After past the limit on /api, /v1 and signalling, logs once, and serves static files', async () => {
		const logged: string[] = [];
		relay = await startRelay({
			root: join(root, 'build'),
			host: '127.0.0.1',
			port: 0,
			requestsPerMinute: 5,
			log: (line) => logged.push(line),
			api: async (_req, res) => void res.end('{"ok":true}'),
			openai: async (_req, res) => void res.end('{"ok":true}')
		});
		const statuses: number[] = [];
		for (let i = 0; i < 4; i++) statuses.push((await fetch(`${relay.url}/api/challenge`, { method: 'POST', body: '{}' })).status);
		statuses.push((await fetch(`${relay.url}/v1/models`)).status);
		expect(statuses).toEqual([200, 200, 200, 200, 200]);

		const refused = await fetch(`${relay.url}/v1/models`);
		expect(refused.status).toBe(429);
		expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
		expect(await refused.json()).toEqual({ error: expect.stringMatching(/Too many requests from your address: try again in \d+ s/) });
		expect((await fetch(`${relay.url}/api/challenge`, { method: 'POST', body: 'x'.repeat(100_000) })).status).toBe(429);
		expect(await upgradeStatus(relay.url)).toMatchObject({ status: 429, retryAfter: expect.stringMatching(/^\d+$/) });
		// The app itself is not counted.
		expect((await fetch(`${relay.url}/`)).status).toBe(200);
		expect(logged.filter((line) => line.includes('over 5 a minute'))).toHaveLength(1);
	});

	it('opens a fresh window after a minute, and forgets the oldest address when its table is full', () => {
		let now = 0;
		const limiter = new RateLimiter(2, 3, () => now);
		expect([limiter.take('a'), limiter.take('a'), limiter.take('a')].map((v) => v.ok)).toEqual([true, true, false]);
		expect(limiter.take('a')).toEqual({ ok: false, retryAfterS: 60, first: false });
		now = 30_000;
		expect(limiter.take('a')).toMatchObject({ ok: false, retryAfterS: 30 });
		now = 60_000;
		expect(limiter.take('a').ok).toBe(true);
		// Three addresses fit; a fourth pushes out the oldest window (a's), which starts afresh.
		for (const address of ['b', 'c', 'd']) limiter.take(address);
		expect([limiter.take('a'), limiter.take('a'), limiter.take('a')].map((v) => v.ok)).toEqual([true, true, false]);
	});

	it('counts an IPv6 host by its /64 and an IPv4-mapped address as its IPv4 address', () => {
		const limiter = new RateLimiter(2);
		expect([limiter.take('2001:db8::1'), limiter.take('2001:db8::2'), limiter.take('2001:db8:0:0:ffff::9')].map((v) => v.ok)).toEqual([true, true, false]);
		expect(limiter.take('2001:db8:0:1::1').ok).toBe(true); // another /64
		expect([limiter.take('::ffff:192.0.2.1'), limiter.take('192.0.2.1'), limiter.take('::ffff:c000:201')].map((v) => v.ok)).toEqual([true, true, false]);
		expect(addressKey('2001:DB8::1%eth0')).toBe(addressKey('2001:db8:0:0:1:2:3:4'));
		expect(addressKey('127.0.0.1')).toBe('127.0.0.1');
		expect(addressKey('unknown')).toBe('unknown');
	});
});
