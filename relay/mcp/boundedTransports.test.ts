/**
 * Answers of MCP servers bounded as they arrive (boundedTransports.ts): the line reader and
 * the id of an oversized answer alone, then a real server (tests/fixtures/mcpServer.ts, its
 * `big {bytes}` tool) over stdio and over Streamable HTTP, through the relay's hub: a member's
 * call whose answer is too large fails with a clear error, and the server stays up for
 * everyone else (found in review: over stdio the server went down for every member; over HTTP
 * the whole answer was held).
 */
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startHttpFixture, type HttpFixture } from '../../tests/fixtures/mcpServer.ts';
import { LineReader, oversizedId } from './boundedTransports.ts';
import { McpHub } from './McpHub.ts';
import type { McpServerSpec } from './mcpConfig.ts';
import { rejection } from '../../tests/fixtures/rejection.ts';

const FIXTURE = fileURLToPath(new URL('../../tests/fixtures/mcpServer.ts', import.meta.url));
const hubs: McpHub[] = [];
const fixtures: HttpFixture[] = [];

afterEach(async () => {
	await Promise.all(hubs.splice(0).map((hub) => hub.close()));
	await Promise.all(fixtures.splice(0).map((fixture) => fixture.close()));
});

/** A hub of one server taking answers of at most 1 MiB, once the server is ready. */
async function readyHub(spec: McpServerSpec): Promise<McpHub> {
	const hub = new McpHub({ servers: [spec], retryDelay: () => 60_000, maxMessageBytes: 1024 * 1024 });
	hubs.push(hub);
	hub.start();
	const deadline = Date.now() + 20_000;
	while (hub.status()[0]?.state !== 'ready') {
		if (Date.now() > deadline) throw new Error('the fixture did not come up');
		await new Promise((resolve) => setTimeout(resolve, 50));
	}
	return hub;
}

describe('the line reader', () => {
	it('gives whole lines across chunks, and an oversized one as its edges and length, holding no more than the bound', () => {
		const reader = new LineReader(16);
		expect(reader.push(Buffer.from('{"a":1}\n{"b"'))).toEqual([{ line: '{"a":1}' }]);
		expect(reader.push(Buffer.from(':2}\r\n'))).toEqual([{ line: '{"b":2}' }]);
		const long = `{"jsonrpc":"2.0","id":7,"result":"${'x'.repeat(1000)}"}`;
		const read = [...reader.push(Buffer.from(long.slice(0, 500))), ...reader.push(Buffer.from(`${long.slice(500)}\n{"c":3}\n`))];
		expect(read).toHaveLength(2);
		expect(read[0]).toMatchObject({ oversized: { bytes: long.length } });
		expect(read[1]).toEqual({ line: '{"c":3}' });
		const { head, tail } = (read[0] as { oversized: { head: string; tail: string } }).oversized;
		expect(head.startsWith('{"jsonrpc":"2.0","id":7')).toBe(true);
		expect(tail.endsWith('x"}')).toBe(true);
	});

	it('finds an oversized answer’s id at either end, and only among the calls sent', () => {
		const sent = new Set<string | number>([3, 'call-9']);
		expect(oversizedId('{"result":{"content":[', 'xxxx"}]},"jsonrpc":"2.0","id":3}', sent)).toBe(3);
		expect(oversizedId('{"jsonrpc":"2.0","id":"call-9","result":{', 'xxxx"}]}}', sent)).toBe('call-9');
		// An id inside the content, or one no call was sent with, names nothing.
		expect(oversizedId('{"result":{"content":[{"id":3,', 'xxxx"}]}}', sent)).toBeUndefined();
		expect(oversizedId('{"jsonrpc":"2.0","id":4,"result":{', '"}]},"id":5}', sent)).toBeUndefined();
	});
});

describe('an MCP server’s answers too large for the relay', () => {
	it('over stdio: the call fails with a clear error, and the server stays up for everyone else', async () => {
		const hub = await readyHub({ transport: 'stdio', name: 'fx', command: process.execPath, args: ['--import', 'tsx', FIXTURE] });
		const huge = await rejection(hub.call('fx.big', { bytes: 3 * 1024 * 1024 }));
		expect(huge.name).toBe('McpCallError');
		expect(huge.message).toMatch(/^The MCP server "fx" answered "big" with too much: the answer was \d+ bytes; the relay takes at most 1048576$/);
		expect(hub.status()[0]?.state).toBe('ready');
		expect(await hub.call('fx.add', { a: 1, b: 1 })).toEqual({ content: '2' });
		// Within the bound, a large answer is taken (and cut for the model as before).
		expect((await hub.call('fx.big', { bytes: 512 * 1024 })).content).toContain('[cut: the tool returned 524288 bytes');
	}, 40_000);

	it('over Streamable HTTP: the call fails with a clear error before the answer is held whole, and the server stays up', async () => {
		const fixture = await startHttpFixture();
		fixtures.push(fixture);
		const hub = await readyHub({ transport: 'http', name: 'web', url: fixture.url });
		const huge = await rejection(hub.call('web.big', { bytes: 8 * 1024 * 1024 }));
		expect(huge.name).toBe('McpCallError');
		expect(huge.message).toMatch(/^The MCP server "web" answered "big" with too much: the answer was (\d+|more than 1048576) bytes; the relay takes at most 1048576$/);
		expect(hub.status()[0]?.state).toBe('ready');
		expect(await hub.call('web.add', { a: 2, b: 2 })).toEqual({ content: '4' });
	}, 40_000);
});
