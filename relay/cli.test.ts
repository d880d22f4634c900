/** Flag parsing and LAN address listing of the relay's command line. */
import type { NetworkInterfaceInfo } from 'node:os';
import { describe, expect, it } from 'vitest';
import { lanAddresses } from './addresses.ts';
import { DEFAULT_DATA_DIR, DEFAULT_PORT, parseFlags } from './cli.ts';

describe('parseFlags', () => {
	it('uses the documented defaults', () => {
		expect(parseFlags([])).toEqual({
			port: DEFAULT_PORT,
			host: undefined,
			dataDir: DEFAULT_DATA_DIR,
			build: true,
			help: false
		});
		expect(DEFAULT_PORT).toBe(8443);
		expect(DEFAULT_DATA_DIR).toBe('./data');
	});

	it('reads every flag, in both --flag value and --flag=value form', () => {
		expect(parseFlags(['--port', '9000', '--host=127.0.0.1', '--data', '/tmp/x', '--no-build'])).toEqual({
			port: 9000,
			host: '127.0.0.1',
			dataDir: '/tmp/x',
			build: false,
			help: false
		});
		expect(parseFlags(['--port=0']).port).toBe(0);
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
		[['--host', ''], /--host needs a value/]
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
