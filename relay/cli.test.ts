/** Flag parsing and LAN address listing of the relay's command line. */
import type { NetworkInterfaceInfo } from 'node:os';
import { describe, expect, it } from 'vitest';
import { newId } from '../src/lib/doc/ids.ts';
import { lanAddresses } from './addresses.ts';
import { DEFAULT_DATA_DIR, DEFAULT_PORT, parseFlags } from './cli.ts';

const PEER_A = '/ip4/10.0.0.2/tcp/8445/p2p/12D3KooWByCo28HZUuFyo9dqFrrsdZseTFcyS7NzcaG6jyj9tec5';
const PEER_B = '/dns4/shore.example/tcp/8446/tls/ws/p2p/12D3KooWByCo28HZUuFyo9dqFrrsdZseTFcyS7NzcaG6jyj9tec5';

describe('parseFlags', () => {
	it('uses the documented defaults', () => {
		expect(parseFlags([])).toEqual({
			port: DEFAULT_PORT,
			host: undefined,
			httpPort: undefined,
			p2pPort: undefined,
			dataDir: DEFAULT_DATA_DIR,
			models: [],
			openaiUpstreams: [],
			peers: [],
			mcp: [],
			serveWorkspaces: [],
			mdns: true,
			quotas: {},
			build: true,
			help: false
		});
		expect(DEFAULT_PORT).toBe(8443);
		expect(DEFAULT_DATA_DIR).toBe('./data');
	});

	it('reads --serve-workspace (repeatable) and refuses what is not a workspace id', () => {
		const ids = [newId(), newId()];
		expect(parseFlags(['--serve-workspace', ids[0]!, `--serve-workspace=${ids[1]!}`]).serveWorkspaces).toEqual(ids);
		expect(() => parseFlags(['--serve-workspace', 'my workspace'])).toThrow(/--serve-workspace needs a workspace id/);
	});

	it('reads every flag, in both --flag value and --flag=value form', () => {
		expect(
			parseFlags([
				'--port',
				'9000',
				'--host=127.0.0.1',
				'--data',
				'/tmp/x',
				'--no-build',
				'--http-port=9100',
				'--p2p-port',
				'9200',
				'--peer',
				PEER_A,
				`--peer=${PEER_B}`,
				'--no-mdns',
				'--model',
				'/models/a.gguf',
				'--model=b.gguf',
				'--model-threads',
				'1',
				'--openai-upstream',
				'http://10.0.0.5:11434/v1/',
				'--openai-upstream=https://farm.example/v1',
				'--max-workspaces=50',
				'--archives-per-address=4',
				'--connections-per-address=8',
				'--workspace-bytes',
				'512M',
				'--workspace-docs=2000',
				'--relay-bytes=6G',
				'--requests-per-minute',
				'120',
				'--topics-per-peer=4',
				'--mcp',
				`files=npx -y '@modelcontextprotocol/server-filesystem' "/srv/shared files"`,
				'--mcp=search=https://10.0.0.5:8000/mcp'
			])
		).toEqual({
			port: 9000,
			host: '127.0.0.1',
			httpPort: 9100,
			p2pPort: 9200,
			dataDir: '/tmp/x',
			models: ['/models/a.gguf', 'b.gguf'],
			modelThreads: 1,
			openaiUpstreams: ['http://10.0.0.5:11434/v1', 'https://farm.example/v1'],
			peers: [PEER_A, PEER_B],
			mcp: [
				{ transport: 'stdio', name: 'files', command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem', '/srv/shared files'] },
				{ transport: 'http', name: 'search', url: 'https://10.0.0.5:8000/mcp' }
			],
			serveWorkspaces: [],
			mdns: false,
			quotas: { maxWorkspaces: 50, archivesPerAddress: 4, connectionsPerAddress: 8, workspaceBytes: 512 * 1024 * 1024, relayBytes: 6 * 1024 ** 3, workspaceDocs: 2000, requestsPerMinute: 120, topicsPerPeer: 4 },
			build: false,
			help: false
		});
		expect(parseFlags(['--port=0']).port).toBe(0);
		expect(parseFlags(['--port=65535', '--p2p-port=9000']).port).toBe(65535);
		expect(parseFlags(['--help']).help).toBe(true);
	});

	it.each([
		[['--bogus'], /Unknown option '--bogus'/],
		[['serve'], /Unexpected argument 'serve'/],
		[['--port'], /argument missing/],
		[['--port', 'abc'], /--port must be a whole number/],
		[['--port', '65536'], /--port must be a whole number/],
		[['--port', '-1'], /--port/],
		[['--port', '80.5'], /--port must be a whole number/],
		[['--host', ''], /--host needs a value/],
		[['--http-port', 'x'], /--http-port must be a whole number/],
		[['--p2p-port', '65534'], /--p2p-port must be a whole number from 0 to 65533/],
		[['--peer'], /argument missing/],
		[['--peer', 'not a multiaddr'], /--peer needs a multiaddr/],
		[['--peer', '/ip4/10.0.0.2/tcp/bogus'], /--peer needs a multiaddr/],
		[['--peer', '/ip4/10.0.0.2/tcp/8445'], /--peer must end in \/p2p\/<peer id>/],
		[['--peer', PEER_A, '--peer', '/ip4/10.0.0.3/tcp/8445/ws'], /--peer must end in \/p2p/],
		[['--no-mdns=yes'], /does not take an argument/],
		[['--port', '65532'], /add --p2p-port/],
		[['--model'], /argument missing/],
		[['--model', ' '], /--model needs a value/],
		[['--model-threads', '0'], /--model-threads must be a whole number from 1/],
		[['--model-threads', 'many'], /--model-threads must be a whole number from 1/],
		[['--openai-upstream', 'localhost:11434'], /--openai-upstream must be an http/],
		[['--openai-upstream', 'not a url'], /--openai-upstream needs a URL/],
		[['--openai-upstream', 'ftp://host/v1'], /--openai-upstream must be an http/],
		[['--openai-upstream', 'http://u:p@host/v1'], /must not carry credentials/],
		[['--openai-upstream', 'http://host/v1?x=1'], /without \? or #/],
		[['--workspace-bytes', '10K'], /--workspace-bytes must be a size of at least 1M/],
		[['--workspace-bytes', 'lots'], /--workspace-bytes must be a size/],
		[['--relay-bytes', '512K'], /--relay-bytes must be a size of at least 1M/],
		[['--workspace-docs', '0'], /--workspace-docs must be a whole number from 1 to 100000/],
		[['--requests-per-minute', 'many'], /--requests-per-minute must be a whole number/],
		[['--topics-per-peer', '2000'], /--topics-per-peer must be a whole number from 1 to 1024/],
		[['--mcp'], /argument missing/],
		[['--mcp', 'npx server'], /--mcp needs name=command or name=URL/],
		[['--mcp', 'my.files=npx server'], /--mcp "my.files=npx server": a server's name must be 1 to 32 letters/],
		[['--mcp', 'files='], /--mcp server "files" needs a command or a URL/],
		[['--mcp', "files=npx 'unclosed"], /--mcp unclosed ' in/],
		[['--mcp', 'files=ftp://host/mcp'], /--mcp server "files" must be an http:\/\/ or https:\/\/ URL/],
		[['--mcp', 'files=http://u:p@host/mcp'], /must not carry a user name or password/],
		[['--mcp', 'a=x', '--mcp', 'A=http://h/mcp'], /--mcp names the server "A" twice/]
	])('%j is a UsageError', (argv, message) => {
		let caught: unknown;
		try {
			parseFlags(argv);
		} catch (error) {
			caught = error;
		}
		expect(caught).toBeInstanceOf(Error);
		expect((caught as Error).name).toBe('UsageError');
		expect((caught as Error).message).toMatch(message);
	});
});

describe('lanAddresses', () => {
	const info = (address: string, family: 'IPv4' | 'IPv6', internal: boolean): NetworkInterfaceInfo =>
		({ address, family, internal, netmask: '', mac: '', cidr: null }) as NetworkInterfaceInfo;

	it('lists external IPv4 addresses only, once each', () => {
		expect(
			lanAddresses({
				lo: [info('127.0.0.1', 'IPv4', true), info('::1', 'IPv6', true)],
				eth0: [info('192.168.1.20', 'IPv4', false), info('fe80::1', 'IPv6', false)],
				wlan0: [info('10.0.0.7', 'IPv4', false)],
				dup: [info('10.0.0.7', 'IPv4', false)],
				empty: undefined
			})
		).toEqual(['192.168.1.20', '10.0.0.7']);
	});

	it('reads the real interfaces by default', () => {
		expect(lanAddresses()).not.toContain('127.0.0.1');
	});
});
