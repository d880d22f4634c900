/**
 * The relay's MCP client against real MCP servers (tests/fixtures/mcpServer.ts, written with
 * the official SDK): over stdio as a child process and over Streamable HTTP on 127.0.0.1.
 * Listing, calls, errors that pass through, a crash and the restart after it, a hang next to
 * a call that still works, aborts, bad arguments and a command that does not exist.
 */
import '../../src/lib/mesh/polyfills.node.ts'; // before anything that loads libp2p (runRelay)
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startHttpFixture, type HttpFixture } from '../../tests/fixtures/mcpServer.ts';
import { runRelay } from '../run.ts';
import { McpHub, type McpHubInit } from './McpHub.ts';
import type { McpServerSpec } from './mcpConfig.ts';
import { rejection } from '../../tests/fixtures/rejection.ts';

const FIXTURE = fileURLToPath(new URL('../../tests/fixtures/mcpServer.ts', import.meta.url));

/** The fixture as a stdio server named `name`. */
const stdio = (name = 'fx'): McpServerSpec => ({ transport: 'stdio', name, command: process.execPath, args: ['--import', 'tsx', FIXTURE] });

const hubs: McpHub[] = [];
const fixtures: HttpFixture[] = [];
let lines: string[] = [];

afterEach(async () => {
	await Promise.all(hubs.splice(0).map((hub) => hub.close()));
	await Promise.all(fixtures.splice(0).map((fixture) => fixture.close()));
	lines = [];
});

/** A started hub with short delays, logging into `lines`. */
function startHub(servers: McpServerSpec[], init: Partial<McpHubInit> = {}): McpHub {
	const hub = new McpHub({ servers, retryDelay: () => 200, log: (line) => lines.push(line), ...init });
	hubs.push(hub);
	hub.start();
	return hub;
}

/** Resolves once `check` holds, looking after every change and every 50 ms. */
async function until(check: () => boolean, what: string, ms = 15_000): Promise<void> {
	const deadline = Date.now() + ms;
	while (!check()) {
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; log:\n${lines.join('\n')}`);
		await new Promise((resolve) => setTimeout(resolve, 50));
	}
}

const ready = (hub: McpHub, name = 'fx') => () => hub.status().find((s) => s.name === name)?.state === 'ready';

describe('McpHub over stdio', () => {
	it('lists the tools under <server>.<tool>, calls them and passes errors and non-text content through', async () => {
		const hub = startHub([stdio()], { maxResultBytes: 1024 });
		expect(hub.status()).toEqual([{ name: 'fx', state: 'starting', tools: 0 }]);
		await until(ready(hub), 'the server to be ready');

		const names = hub.tools().map((tool) => tool.name);
		expect(names).toEqual(expect.arrayContaining(['fx.echo', 'fx.add', 'fx.fail', 'fx.hang', 'fx.crash', 'fx.grow']));
		expect(names.some((name) => name.includes(' '))).toBe(false);
		expect(lines.some((line) => /tool "bad name" left out/.test(line))).toBe(true);
		const echo = hub.tools().find((tool) => tool.name === 'fx.echo')!;
		expect(echo.description).toBe('fx: Answers with its text.');
		expect(echo.parameters).toMatchObject({ type: 'object', properties: { text: { type: 'string' } }, required: ['text'] });
		expect(hub.status()).toEqual([{ name: 'fx', state: 'ready', tools: names.length }]);

		expect(await hub.call('fx.echo', { text: 'hello' })).toEqual({ content: 'hello' });
		expect(await hub.call('fx.add', { a: 2, b: 40 })).toEqual({ content: '42' });
		expect(await hub.call('fx.fail', {})).toEqual({ content: 'it failed on purpose', isError: true });
		expect(await hub.call('fx.picture', {})).toEqual({ content: '[image image/png, 1234 bytes]' });
		const big = await hub.call('fx.big', { bytes: 5000 });
		expect(big.content).toMatch(/^x{1024}\n\[cut: the tool returned 5000 bytes; only the first 1 KiB are shown\]$/);
		const malformed = await rejection(hub.call('fx.malformed', {}));
		// The SDK's server checks its own result and answers with an error, which is cut short.
		expect(malformed.name).toBe('McpCallError');
		expect(malformed.message).toMatch(/^The MCP server "fx" refused "malformed": MCP error -32602: .{20,}…$/);
		expect(malformed.message.length).toBeLessThan(400);
	});

	it('holds a call to the schema the tool published before asking the server (a modified client cannot reach a server that trusts its schema)', async () => {
		const hub = startHub([stdio()]);
		await until(ready(hub), 'the server to be ready');
		for (const [args, why] of [
			[{ n: 99 }, /arguments\/n must be <= 3/],
			[{ n: 1.5 }, /arguments\/n must be integer/],
			[{}, /arguments must have required property 'n'/],
			[{ n: '2' }, /arguments\/n must be/]
		] as const) {
			const error = await rejection(hub.call('fx.limited', args));
			expect(error.name).toBe('McpArgumentsError');
			expect(error.message).toMatch(/^The arguments of "fx.limited" do not fit its schema: /);
			expect(error.message).toMatch(why);
		}
		expect(await hub.call('fx.add', { a: 'two' }).catch((error: Error) => error.name)).toBe('McpArgumentsError');
		expect(await hub.call('fx.runs', {})).toEqual({ content: '0' });
		expect(await hub.call('fx.limited', { n: 3 })).toEqual({ content: '3' });
		expect(await hub.call('fx.runs', {})).toEqual({ content: '1' });
	});

	it('refuses arguments that are not an object, and unknown tools, before asking the server', async () => {
		const hub = startHub([stdio()]);
		await until(ready(hub), 'the server to be ready');
		for (const args of ['text', null, [1], 3, undefined]) {
			const error = await rejection(hub.call('fx.echo', args));
			expect(error.name).toBe('McpArgumentsError');
			expect(error.message).toMatch(/The arguments of "fx.echo" must be a JSON object, not/);
		}
		expect((await rejection(hub.call('nope.echo', {}))).name).toBe('McpToolNotFoundError');
		expect((await rejection(hub.call('echo', {}))).message).toMatch(/There is no MCP tool "echo"/);
		expect((await rejection(hub.call('fx.nope', {}))).message).toBe('The MCP server "fx" has no tool "nope"');
	});

	it('reports a crash clearly, refuses calls while down, and restarts the server after the delay', async () => {
		const hub = startHub([stdio()], { retryDelay: () => 1500 });
		await until(ready(hub), 'the server to be ready');
		let changes = 0;
		hub.onChange(() => changes++);

		const crash = await rejection(hub.call('fx.crash', {}));
		expect(crash.name).toBe('McpServerDownError');
		// The asker is told what happened, not the server's stderr (that is for the log and the status).
		expect(crash.message).toMatch(/^The MCP server "fx" stopped while running "crash"; retrying in [\d.]+ s$/);
		expect(hub.status()[0]).toMatchObject({ name: 'fx', state: 'failed', error: expect.stringMatching(/^it exited/), tools: 0 });
		expect(hub.tools()).toEqual([]);
		const down = await rejection(hub.call('fx.echo', { text: 'x' }));
		expect(down.message).toMatch(/^The MCP server "fx" is not running, so "echo" was not run; retrying in [\d.]+ s$/);

		await until(ready(hub), 'the restart');
		expect(changes).toBeGreaterThanOrEqual(3); // failed, starting, ready
		expect(hub.tools().length).toBeGreaterThan(5);
		expect(await hub.call('fx.echo', { text: 'back' })).toEqual({ content: 'back' });
		expect(lines.some((line) => /MCP server "fx" failed \(it exited.*\); retrying in 1.5 s/.test(line))).toBe(true);
	});

	it('times out a call that hangs while another call still works, and aborts by signal', async () => {
		const hub = startHub([stdio()], { callTimeoutMs: 800 });
		await until(ready(hub), 'the server to be ready');

		const hang = hub.call('fx.hang', {});
		expect(await hub.call('fx.echo', { text: 'meanwhile' })).toEqual({ content: 'meanwhile' });
		const timeout = await rejection(hang);
		expect(timeout.name).toBe('McpTimeoutError');
		expect(timeout.message).toBe('The MCP server "fx" did not answer "hang" within 0.8 s');
		expect(hub.status()[0]!.state).toBe('ready');

		// An abort before the time limit: AbortError, not McpTimeoutError.
		const controller = new AbortController();
		const aborted = hub.call('fx.hang', {}, controller.signal);
		setTimeout(() => controller.abort(), 100);
		expect((await rejection(aborted)).name).toBe('AbortError');
		expect((await rejection(hub.call('fx.echo', { text: 'x' }, AbortSignal.abort()))).name).toBe('AbortError');
		expect(await hub.call('fx.add', { a: 1, b: 1 })).toEqual({ content: '2' });
	});

	it('runs at most its share of calls at once, everyone’s together: the next is refused at once, and a freed slot is taken again', async () => {
		const hub = startHub([stdio()], { maxRunningCalls: 2 });
		await until(ready(hub), 'the server to be ready');
		const stops = [new AbortController(), new AbortController()];
		const hangs = stops.map((stop) => rejection(hub.call('fx.hang', {}, stop.signal)));
		const busy = await rejection(hub.call('fx.echo', { text: 'third' }));
		expect(busy.name).toBe('McpBusyError');
		expect(busy.message).toBe('The MCP server "fx" is running 2 calls, the most it takes at once: try "echo" again in a moment');
		stops[0]!.abort();
		expect((await hangs[0]!).name).toBe('AbortError');
		expect(await hub.call('fx.echo', { text: 'now' })).toEqual({ content: 'now' });
		stops[1]!.abort();
		await hangs[1];
	});

	it('follows tools/list_changed', async () => {
		const hub = startHub([stdio()]);
		await until(ready(hub), 'the server to be ready');
		expect(await hub.call('fx.grow', {})).toEqual({ content: 'extra_1' });
		await until(() => hub.tools().some((tool) => tool.name === 'fx.extra_1'), 'the new tool');
		expect(await hub.call('fx.extra_1', {})).toEqual({ content: 'extra_1' });
	});

	it('fails clearly and keeps retrying when the command does not exist', async () => {
		const hub = startHub([{ transport: 'stdio', name: 'ghost', command: '/nonexistent/outpost-mcp-server', args: [] }], { retryDelay: () => 100 });
		await until(() => lines.filter((line) => line.startsWith('MCP server "ghost" failed')).length >= 3, 'three failures');
		expect(lines[0]).toBe('MCP server "ghost" failed (the command "/nonexistent/outpost-mcp-server" was not found); retrying in 0.1 s');
		const error = await rejection(hub.call('ghost.read', {}));
		expect(error.name).toBe('McpServerDownError');
		// The cause (the relay's command line) is in the log (above), not told to the asker.
		expect(error.message).toMatch(/^The MCP server "ghost" (is not running, so "read" was not run; retrying in|is starting)/);
		expect(error.message).not.toContain('/nonexistent');
	});

	it('ends the child process on close', async () => {
		const hub = startHub([stdio()]);
		await until(ready(hub), 'the server to be ready');
		const pid = Number((await hub.call('fx.pid', {})).content);
		expect(() => process.kill(pid, 0)).not.toThrow();
		await hub.close();
		expect(hub.status()[0]!.state).toBe('closed');
		await until(() => {
			try {
				process.kill(pid, 0);
				return false;
			} catch {
				return true;
			}
		}, 'the child to exit', 6000);
	});

	it('refuses two servers of one name', () => {
		expect(() => new McpHub({ servers: [stdio('fx'), stdio('FX')] })).toThrow(/the MCP server "FX" is given twice/);
	});
});

describe('McpHub over Streamable HTTP', () => {
	it('lists and calls tools, follows list changes, and reconnects after the server comes back', async () => {
		const fixture = await startHttpFixture();
		fixtures.push(fixture);
		const hub = startHub([{ transport: 'http', name: 'web', url: fixture.url }, stdio('fx')]);
		await until(() => hub.status().every((s) => s.state === 'ready'), 'both servers to be ready');
		expect(hub.tools().map((tool) => tool.name)).toEqual(expect.arrayContaining(['web.echo', 'web.add', 'fx.echo']));
		expect(await hub.call('web.echo', { text: 'over http' })).toEqual({ content: 'over http' });
		expect(await hub.call('web.add', { a: 0.5, b: 0.25 })).toEqual({ content: '0.75' });
		expect(await hub.call('web.fail', {})).toEqual({ content: 'it failed on purpose', isError: true });
		await hub.call('web.grow', {});
		await until(() => hub.tools().some((tool) => tool.name === 'web.extra_1'), 'the new tool over http');

		const crash = await rejection(hub.call('web.crash', {}));
		expect(crash.name).toBe('McpServerDownError');
		expect(crash.message).toMatch(/^The MCP server "web" stopped while running "crash"; retrying in/);
		await until(() => hub.status()[0]!.state === 'failed', 'the failure');
		// The other server is not affected.
		expect(await hub.call('fx.echo', { text: 'still here' })).toEqual({ content: 'still here' });

		fixtures.push(await startHttpFixture(fixture.port));
		await until(ready(hub, 'web'), 'the reconnect');
		expect(await hub.call('web.echo', { text: 'again' })).toEqual({ content: 'again' });
	});

	it('fails clearly when nothing listens at the URL', async () => {
		const fixture = await startHttpFixture();
		await fixture.close();
		const hub = startHub([{ transport: 'http', name: 'web', url: fixture.url }]);
		await until(() => hub.status()[0]!.state === 'failed', 'the failure');
		expect(hub.status()[0]!.error).toMatch(new RegExp(`^${fixture.url.replace(/[.]/g, '\\.')} did not answer: .*ECONNREFUSED`));
	});
});

describe('runRelay with MCP servers', () => {
	it('starts the hub only when servers are configured, and closes it with the relay', async () => {
		const tmp = await mkdtemp(join(tmpdir(), 'outpost-mcp-'));
		try {
			const root = join(tmp, 'build');
			await mkdir(root, { recursive: true });
			await writeFile(join(root, 'index.html'), '<!doctype html><title>home</title>');
			const base = { root, host: '127.0.0.1', port: 0, mdns: false, lanIps: [], log: (line: string) => lines.push(line) };
			const plain = await runRelay({ ...base, dataDir: join(tmp, 'plain') });
			expect(plain.mcp).toBeUndefined();
			await plain.close();

			const relay = await runRelay({ ...base, dataDir: join(tmp, 'mcp'), mcp: [stdio()] });
			try {
				await until(() => relay.mcp?.status()[0]?.state === 'ready', 'the relay\'s MCP server');
				expect(lines).toContain(`MCP server "fx" is ready with ${relay.mcp!.tools().length} tools`);
			} finally {
				await relay.close();
			}
			expect(relay.mcp!.status()[0]!.state).toBe('closed');
		} finally {
			await rm(tmp, { recursive: true, force: true });
		}
	}, 30_000);
});
