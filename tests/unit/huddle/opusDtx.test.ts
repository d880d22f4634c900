/** `usedtx=1` goes onto the Opus fmtp line of a local description, and only there. */
import { describe, expect, it } from 'vitest';
import { withOpusDtx } from '../../../src/lib/huddle/opusDtx.js';

const offer = [
	'v=0',
	'm=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0',
	'a=rtpmap:111 opus/48000/2',
	'a=rtcp-fb:111 transport-cc',
	'a=fmtp:111 minptime=10;useinbandfec=1',
	'a=rtpmap:63 red/48000/2',
	'a=fmtp:63 111/111',
	'a=rtpmap:9 G722/8000',
	''
].join('\r\n');

describe('withOpusDtx', () => {
	it('adds usedtx=1 to the Opus fmtp line and leaves the others', () => {
		const out = withOpusDtx(offer).split('\r\n');
		expect(out).toContain('a=fmtp:111 minptime=10;useinbandfec=1;usedtx=1');
		expect(out).toContain('a=fmtp:63 111/111');
		expect(out.length).toBe(offer.split('\r\n').length);
	});

	it('is idempotent and replaces usedtx=0', () => {
		expect(withOpusDtx(withOpusDtx(offer))).toBe(withOpusDtx(offer));
		expect(withOpusDtx(offer.replace('useinbandfec=1', 'usedtx=0;useinbandfec=1'))).toContain('a=fmtp:111 minptime=10;useinbandfec=1;usedtx=1');
	});

	it('adds an fmtp line where Opus has none', () => {
		const bare = 'v=0\nm=audio 9 UDP/TLS/RTP/SAVPF 109\na=rtpmap:109 opus/48000/2\na=sendrecv\n';
		expect(withOpusDtx(bare)).toBe('v=0\nm=audio 9 UDP/TLS/RTP/SAVPF 109\na=rtpmap:109 opus/48000/2\na=fmtp:109 usedtx=1\na=sendrecv\n');
	});
});
