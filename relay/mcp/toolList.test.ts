/**
 * The tool listing against a real SDK server (low-level `Server`, so it can page and send
 * malformed tools) over the SDK's in-memory transport: pages followed, tools the relay cannot
 * offer left out and reported, the count capped.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { ListToolsRequestSchema, type ServerResult } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { listTools } from './toolList.ts';

const OBJECT = { type: 'object', properties: {} };
const tool = (name: string, inputSchema: unknown = OBJECT) => ({ name, description: `does ${name}`, inputSchema });

const clients: Client[] = [];
afterEach(async () => {
	await Promise.all(clients.splice(0).map((client) => client.close()));
});

/** A client connected to a server whose `tools/list` answers page `n` with `pages[n]`. */
async function connect(pages: unknown[][]): Promise<Client> {
	const server = new Server({ name: 'pager', version: '1.0.0' }, { capabilities: { tools: {} } });
	server.setRequestHandler(ListToolsRequestSchema, (request) => {
		const page = Number(request.params?.cursor ?? 0);
		// Malformed tools on purpose: the handler's type is the well-formed result.
		return { tools: pages[page] ?? [], ...(page + 1 < pages.length ? { nextCursor: String(page + 1) } : {}) } as ServerResult;
	});
	const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
	await server.connect(serverSide);
	const client = new Client({ name: 'test', version: '1.0.0' });
	await client.connect(clientSide);
	clients.push(client);
	return client;
}

describe('listTools', () => {
	it('follows the cursor and leaves out what it cannot offer, saying why', async () => {
		const client = await connect([
			[tool('read'), tool('bad name'), tool('typed', { type: 'string' }), { name: 'schemaless' }],
			[tool('write'), tool('read'), 'not a tool', tool('x'.repeat(65))],
			[{ ...tool('titled'), description: undefined, title: 'A title' }]
		]);
		const skipped: string[] = [];
		const tools = await listTools(client, { maxTools: 128, timeoutMs: 5000, onSkipped: (name, why) => skipped.push(`${name}: ${why}`) });
		expect(tools).toEqual([
			{ name: 'read', description: 'does read', parameters: OBJECT },
			{ name: 'write', description: 'does write', parameters: OBJECT },
			{ name: 'titled', description: 'A title', parameters: OBJECT }
		]);
		expect(skipped).toEqual([
			'bad name: its name is not 1 to 64 letters, digits, "_", "-" or "."',
			'typed: its inputSchema is not a JSON Schema of type "object"',
			'schemaless: its inputSchema is not a JSON Schema of type "object"',
			'read: it is listed twice',
			'not a tool: it is not a tool object',
			`${'x'.repeat(65)}: its name is not 1 to 64 letters, digits, "_", "-" or "."`
		]);
	});

	it('keeps at most maxTools', async () => {
		const client = await connect([Array.from({ length: 100 }, (_, i) => tool(`a${i}`)), Array.from({ length: 100 }, (_, i) => tool(`b${i}`))]);
		const skipped: string[] = [];
		const tools = await listTools(client, { maxTools: 128, timeoutMs: 5000, onSkipped: (name, why) => skipped.push(`${name}: ${why}`) });
		expect(tools).toHaveLength(128);
		expect(tools.at(-1)!.name).toBe('b27');
		expect(skipped).toEqual(['b28: the server offers more than 128 tools']);
	});

	it('leaves out a tool whose inputSchema nests deeper than members’ apps take, and keeps the others', async () => {
		let deep: Record<string, unknown> = { type: 'object', properties: {} };
		for (let i = 0; i < 100; i++) deep = { type: 'object', properties: { a: deep } };
		const client = await connect([[tool('read'), tool('deep', deep)]]);
		const skipped: string[] = [];
		const tools = await listTools(client, { maxTools: 128, timeoutMs: 5000, onSkipped: (name, why) => skipped.push(`${name}: ${why}`) });
		expect(tools.map((t) => t.name)).toEqual(['read']);
		expect(skipped).toEqual(['deep: its inputSchema nests deeper than 64 levels']);
	});
});
