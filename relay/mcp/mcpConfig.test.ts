/** Parsing of `--mcp` and `<data>/mcp.json`, and the text a tool's result becomes. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mergeMcpSpecs, parseMcpConfig, parseMcpFlag, readMcpConfigFile, splitCommandLine } from './mcpConfig.ts';
import { capText, toToolResult } from './toolResult.ts';

/** The message of the McpConfigError `run` throws. */
function configError(run: () => unknown): string {
	try {
		run();
	} catch (error) {
		expect((error as Error).name).toBe('McpConfigError');
		return (error as Error).message;
	}
	throw new Error('expected an McpConfigError');
}

describe('splitCommandLine', () => {
	it.each([
		['npx -y server', ['npx', '-y', 'server']],
		['  spaced \t out  ', ['spaced', 'out']],
		[`node 'a b' "c d" e\\ f`, ['node', 'a b', 'c d', 'e f']],
		[`say "a \\"quoted\\" \\\\ word" 'it''s'`, ['say', 'a "quoted" \\ word', 'its']],
		[`x "keep \\n as is" ''`, ['x', 'keep \\n as is', '']],
		['', []]
	])('%j', (text, words) => {
		expect(splitCommandLine(text)).toEqual(words);
	});

	it('refuses an unclosed quote', () => {
		expect(configError(() => splitCommandLine(`run "open`))).toBe('unclosed " in "run "open"');
		expect(configError(() => splitCommandLine(`run 'open`))).toBe(`unclosed ' in "run 'open"`);
	});
});

describe('parseMcpFlag', () => {
	it('reads stdio and HTTP servers', () => {
		expect(parseMcpFlag('files=npx -y server /srv')).toEqual({ transport: 'stdio', name: 'files', command: 'npx', args: ['-y', 'server', '/srv'] });
		expect(parseMcpFlag('Web_1=http://127.0.0.1:8000/mcp?x=1')).toEqual({ transport: 'http', name: 'Web_1', url: 'http://127.0.0.1:8000/mcp?x=1' });
		expect(parseMcpFlag('s=https://farm.example')).toEqual({ transport: 'http', name: 's', url: 'https://farm.example/' });
		// The first "=" ends the name; later ones belong to the command.
		expect(parseMcpFlag('env=env A=1 server')).toMatchObject({ command: 'env', args: ['A=1', 'server'] });
	});

	it.each([
		['files', /needs name=command or name=URL/],
		['=npx server', /a server's name must be 1 to 32 letters/],
		['a.b=npx', /a server's name/],
		[`${'n'.repeat(33)}=npx`, /a server's name/],
		['files=  ', /server "files" needs a command or a URL after "="/],
		['files=ws://host/mcp', /server "files" must be an http:\/\/ or https:\/\/ URL/],
		['files=http://[bad/mcp', /server "files" needs a URL such as/],
		['files=http://host/mcp#part', /must not have a #fragment/]
	])('%j is refused', (text, message) => {
		expect(configError(() => parseMcpFlag(text))).toMatch(message);
	});
});

describe('parseMcpConfig', () => {
	const FILE = '/data/mcp.json';

	it('reads every kind of server', () => {
		const text = JSON.stringify({
			servers: {
				files: { command: 'npx', args: ['-y', 'server'], env: { ROOT: '/srv' } },
				bare: { command: 'server' },
				search: { url: 'http://10.0.0.5:8000/mcp' }
			}
		});
		expect(parseMcpConfig(text, FILE)).toEqual([
			{ transport: 'stdio', name: 'files', command: 'npx', args: ['-y', 'server'], env: { ROOT: '/srv' } },
			{ transport: 'stdio', name: 'bare', command: 'server', args: [] },
			{ transport: 'http', name: 'search', url: 'http://10.0.0.5:8000/mcp' }
		]);
		expect(parseMcpConfig('{ "servers": {} }', FILE)).toEqual([]);
	});

	it.each([
		['{ "servers": ', /^\/data\/mcp.json is not valid JSON: /],
		['[]', /^\/data\/mcp.json must hold an object \{ "servers"/],
		['{ "server": {} }', /must hold an object/],
		['{ "servers": { "a b": { "command": "x" } } }', /^\/data\/mcp.json: the server "a b": a server's name must be/],
		['{ "servers": { "files": "npx server" } }', /^\/data\/mcp.json: servers.files must be an object/],
		['{ "servers": { "files": { "cmd": "npx" } } }', /servers.files has an unknown key "cmd" \(expected command, args, env or url\)/],
		['{ "servers": { "files": {} } }', /servers.files needs "command" \(a non-empty string\) or "url"/],
		['{ "servers": { "files": { "command": " " } } }', /needs "command"/],
		['{ "servers": { "files": { "command": "x", "args": "-y" } } }', /servers.files.args must be an array of strings/],
		['{ "servers": { "files": { "command": "x", "args": [1] } } }', /args must be an array of strings/],
		['{ "servers": { "files": { "command": "x", "env": { "A": 1 } } } }', /servers.files.env must be an object of strings/],
		['{ "servers": { "files": { "command": "x", "url": "http://h" } } }', /has both "url" and "command"/],
		['{ "servers": { "web": { "url": 8000 } } }', /servers.web.url must be a string/],
		['{ "servers": { "web": { "url": "localhost:8000" } } }', /servers.web must be an http:\/\/ or https:\/\/ URL/],
		['{ "servers": { "web": { "url": "http://h" }, "WEB": { "url": "http://h" } } }', /names the server "WEB" twice/]
	])('%s is refused', (text, message) => {
		expect(configError(() => parseMcpConfig(text, FILE))).toMatch(message);
	});

	it('reads the file of a data directory; no file is no servers', async () => {
		const dir = await mkdtemp(join(tmpdir(), 'outpost-mcp-config-'));
		try {
			expect(await readMcpConfigFile(dir)).toEqual([]);
			await writeFile(join(dir, 'mcp.json'), '{ "servers": { "web": { "url": "http://127.0.0.1:9/mcp" } } }');
			expect(await readMcpConfigFile(dir)).toEqual([{ transport: 'http', name: 'web', url: 'http://127.0.0.1:9/mcp' }]);
			await writeFile(join(dir, 'mcp.json'), '{ oops');
			await expect(readMcpConfigFile(dir)).rejects.toThrow(`${join(dir, 'mcp.json')} is not valid JSON`);
		} finally {
			await rm(dir, { recursive: true, force: true });
		}
	});

	it('lets a flag replace the file\'s server of the same name', () => {
		const file = parseMcpConfig('{ "servers": { "files": { "command": "old" }, "web": { "url": "http://h/mcp" } } }', FILE);
		const flags = [parseMcpFlag('Files=new server')];
		expect(mergeMcpSpecs(file, flags).map((spec) => spec.name)).toEqual(['web', 'Files']);
	});
});

describe('toToolResult', () => {
	it('joins text and summarises other blocks', () => {
		expect(
			toToolResult({
				content: [
					{ type: 'text', text: 'first' },
					{ type: 'image', mimeType: 'image/png', data: Buffer.alloc(10).toString('base64') },
					{ type: 'audio', mimeType: 'audio/wav', data: '' },
					{ type: 'resource_link', name: 'notes', uri: 'file:///srv/notes.md' },
					{ type: 'resource', resource: { uri: 'file:///a.txt', text: 'inside' } },
					{ type: 'resource', resource: { uri: 'file:///b.bin', mimeType: 'application/zip', blob: Buffer.alloc(7).toString('base64') } }
				]
			})
		).toEqual({
			content: 'first\n[image image/png, 10 bytes]\n[audio audio/wav, 0 bytes]\n[resource notes: file:///srv/notes.md]\n[resource file:///a.txt]\ninside\n[resource file:///b.bin application/zip, 7 bytes]'
		});
		expect(toToolResult({ content: [], structuredContent: { n: 1 }, isError: true })).toEqual({ content: '{"n":1}', isError: true });
		expect(toToolResult({ toolResult: { old: true } })).toEqual({ content: '{"old":true}' });
	});

	it('cuts text at the limit, never inside a character', () => {
		expect(capText('short', 10)).toBe('short');
		expect(capText('ééééé', 5)).toBe('éé\n[cut: the tool returned 10 bytes; only the first 5 bytes are shown]');
		expect(capText('x'.repeat(3000), 2048)).toBe(`${'x'.repeat(2048)}\n[cut: the tool returned 3000 bytes; only the first 2 KiB are shown]`);
	});
});
