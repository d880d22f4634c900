/** Invite links: round trip, and every kind of broken link gets a precise reason. */
import { describe, expect, it } from 'vitest';
import { newId } from '../../../src/lib/doc/ids';
import { InviteFormatError, InviteProblem, inviteLink, parseInvite } from '../../../src/lib/mesh/invite';
import { fromBase64Url, newSecret, toBase64Url } from '../../../src/lib/mesh/secret';
import { mulberry32 } from '../../fixtures/random';

const RELAY = '/ip4/10.77.0.1/tcp/8443/wss/p2p/12D3KooWQ8ZxB2aGq2m5Lq7Gb8HPw4ENkGnLjKJSwsLMSEHRrWCK';

function reason(text: string): InviteProblem | undefined {
	try {
		parseInvite(text);
		return undefined;
	} catch (err) {
		expect(err).toBeInstanceOf(InviteFormatError);
		return (err as InviteFormatError).reason;
	}
}

describe('invite links', () => {
	it('round-trip through a link, a fragment and text around it', () => {
		const invite = { workspaceId: newId(), secret: newSecret(), name: '科考船 Vessel & Co', relays: [RELAY, '/ip4/192.168.1.5/tcp/8443/wss'] };
		const link = inviteLink('https://10.77.0.1:8443/', invite);
		expect(link.startsWith('https://10.77.0.1:8443/#invite?')).toBe(true);
		expect(link.split('#')[0]).toBe('https://10.77.0.1:8443/'); // nothing secret before the fragment
		for (const text of [link, link.slice(link.indexOf('#')), `  Join us: ${link}\n`]) {
			const back = parseInvite(text);
			expect(back.workspaceId).toBe(invite.workspaceId);
			expect(Array.from(back.secret)).toEqual(Array.from(invite.secret));
			expect(back.name).toBe(invite.name);
			expect(back.relays).toEqual(invite.relays);
		}
	});

	it('carries the channel it was made from, and drops a malformed one rather than refusing the invite', () => {
		const channel = newId();
		const invite = { workspaceId: newId(), secret: newSecret(), name: 'ship', relays: [RELAY], channel };
		expect(parseInvite(inviteLink('https://10.77.0.1:8443', invite)).channel).toBe(channel);
		const plain = inviteLink('https://10.77.0.1:8443', { ...invite, channel: undefined });
		expect(plain).not.toContain('c=');
		expect(parseInvite(plain).channel).toBeUndefined();
		const mangled = parseInvite(`${plain}&c=..%2F..%2Fetc`);
		expect(mangled.channel).toBeUndefined();
		expect(mangled.workspaceId).toBe(invite.workspaceId);
	});

	it('base64url round-trips every byte value and refuses other alphabets', () => {
		const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
		expect(Array.from(fromBase64Url(toBase64Url(bytes)))).toEqual(Array.from(bytes));
		expect(() => fromBase64Url('ab+/')).toThrow();
	});

	it('says what is wrong with a broken invite', () => {
		const good = inviteLink('https://h', { workspaceId: newId(), secret: newSecret(), name: 'x', relays: [RELAY] });
		expect(reason('https://example.org/')).toBe(InviteProblem.notAnInvite);
		expect(reason('')).toBe(InviteProblem.notAnInvite);
		expect(reason(good.replace(/w=[a-z2-7]+/, 'w=NOT-AN-ID'))).toBe(InviteProblem.badWorkspace);
		expect(reason(good.replace(/s=[^&]+/, 's=short'))).toBe(InviteProblem.badSecret);
		expect(reason(good.replace(/s=[^&]+/, 's=' + '%%%'))).toBe(InviteProblem.badSecret);
		expect(reason(good.replace(/&s=[^&]+/, ''))).toBe(InviteProblem.badSecret);
		expect(reason(`${good}&r=not-a-multiaddr`)).toBe(InviteProblem.badRelay);
		expect(reason(good + '&r=/ip4/1.2.3.4'.repeat(9))).toBe(InviteProblem.badRelay);
		expect(reason(good + 'x'.repeat(5000))).toBe(InviteProblem.tooLong);
		// A link cut short in a chat app loses its secret's tail.
		expect(reason(good.slice(0, good.indexOf('s=') + 20))).toBe(InviteProblem.badSecret);
	});

	it('never throws anything but InviteFormatError on random text', () => {
		const rand = mulberry32(7);
		const alphabet = '#invite?w=s=r=n=&%/abcdefghijklmnopqrstuvwxyz234567-_+=é中 ';
		for (let i = 0; i < 2000; i++) {
			const length = Math.floor(rand() * 120);
			let text = i % 2 ? '#invite?' : '';
			for (let j = 0; j < length; j++) text += alphabet[Math.floor(rand() * alphabet.length)];
			try {
				parseInvite(text);
			} catch (err) {
				expect(err).toBeInstanceOf(InviteFormatError);
			}
		}
	});
});
