import { describe, expect, it } from 'vitest';
import { pickAppUrls, pickRelayAddresses } from '../../../src/lib/mesh/relayInfo';

const PEER = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN';
const info = {
	peerId: PEER,
	multiaddrs: [
		`/ip4/10.0.0.5/tcp/8444/tls/ws/p2p/${PEER}`,
		`/ip4/127.0.0.1/tcp/8445/ws/p2p/${PEER}`,
		`/ip4/10.0.0.5/tcp/8446/ws`
	]
};

describe('pickRelayAddresses', () => {
	it('keeps only secure WebSockets on an https page on the LAN', () => {
		expect(pickRelayAddresses(info, new URL('https://10.0.0.5:8443/'))).toEqual([`/ip4/10.0.0.5/tcp/8444/tls/ws/p2p/${PEER}`]);
	});

	it('adds the loopback listener for a page on the relay machine, and appends the peer id', () => {
		expect(pickRelayAddresses(info, new URL('http://127.0.0.1:8444/'))).toEqual([
			`/ip4/10.0.0.5/tcp/8444/tls/ws/p2p/${PEER}`,
			`/ip4/127.0.0.1/tcp/8445/ws/p2p/${PEER}`,
			`/ip4/10.0.0.5/tcp/8446/ws/p2p/${PEER}`
		]);
	});

	it('returns nothing for malformed descriptions instead of throwing', () => {
		const page = new URL('http://127.0.0.1/');
		for (const bad of [null, 'x', 42, {}, { peerId: PEER }, { peerId: 'nope', multiaddrs: [] }, { peerId: PEER, multiaddrs: 'x' }]) {
			expect(pickRelayAddresses(bad, page)).toEqual([]);
		}
		expect(pickRelayAddresses({ peerId: PEER, multiaddrs: ['/not/a/multiaddr', 7, 'x'.repeat(400)] }, page)).toEqual([]);
	});
});

describe('pickAppUrls', () => {
	it('keeps http(s) origins and drops anything else', () => {
		expect(pickAppUrls({ urls: ['https://10.0.0.5:8443', 'javascript:alert(1)', 'https://a b', 3] })).toEqual(['https://10.0.0.5:8443']);
		expect(pickAppUrls({})).toEqual([]);
		expect(pickAppUrls(null)).toEqual([]);
	});
});
