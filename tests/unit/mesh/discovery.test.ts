/** Browser announcements: the wire format read defensively, and who dials whom. */
import { describe, expect, it } from 'vitest';
import { multiaddr } from '@multiformats/multiaddr';
import {
	decodeAnnouncement,
	encodeAnnouncement,
	MAX_ANNOUNCED_ADDRESSES,
	MAX_ANNOUNCEMENT_BYTES,
	shouldDial,
	webrtcAddresses
} from '../../../src/lib/mesh/discovery';

const RELAY = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN';
const PEER = '12D3KooWP9SwkNxtbDvhZ8gV3sFH5vo42CiJWb4WoDqp52JEdkvP';
const WEBRTC = `/ip4/10.0.0.5/tcp/8446/tls/ws/p2p/${RELAY}/p2p-circuit/webrtc/p2p/${PEER}`;
const CIRCUIT = `/ip4/10.0.0.5/tcp/8446/tls/ws/p2p/${RELAY}/p2p-circuit/p2p/${PEER}`;
const bytes = (text: string) => new TextEncoder().encode(text);

describe('announcements', () => {
	it('round-trips the WebRTC addresses', () => {
		const decoded = decodeAnnouncement(encodeAnnouncement([multiaddr(WEBRTC)]));
		expect(decoded?.map(String)).toEqual([WEBRTC]);
		expect(webrtcAddresses([multiaddr(WEBRTC), multiaddr(CIRCUIT)]).map(String)).toEqual([WEBRTC]);
	});

	it('ignores malformed, oversized or foreign announcements, and bad addresses in good ones', () => {
		for (const bad of ['', 'garbage', '[]', 'null', '{"v":2,"addrs":[]}', '{"v":1}', '{"v":1,"addrs":"x"}']) {
			expect(decodeAnnouncement(bytes(bad))).toBeUndefined();
		}
		expect(decodeAnnouncement(new Uint8Array([0xff, 0xfe, 0x7b]))).toBeUndefined();
		expect(decodeAnnouncement(new Uint8Array(MAX_ANNOUNCEMENT_BYTES + 1).fill(0x20))).toBeUndefined();
		const mixed = JSON.stringify({ v: 1, addrs: [WEBRTC, 'not a multiaddr', 42, 'x'.repeat(400)] });
		expect(decodeAnnouncement(bytes(mixed))?.map(String)).toEqual([WEBRTC]);
		const many = JSON.stringify({ v: 1, addrs: Array.from({ length: 40 }, (_, i) => `/ip4/10.0.0.${i}/tcp/1`) });
		expect(decodeAnnouncement(bytes(many))).toHaveLength(MAX_ANNOUNCED_ADDRESSES);
	});

	it('lets exactly one of two peers dial', () => {
		expect(shouldDial(RELAY, PEER)).not.toBe(shouldDial(PEER, RELAY));
	});
});
