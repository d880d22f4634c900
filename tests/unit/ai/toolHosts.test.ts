/** Whose shared tools a member's app asks for (ai/meshTools.ts `toolHostsOf`): relays of the team only. */
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { describe, expect, it } from 'vitest';
import { toolHostsOf } from '../../../src/lib/ai/meshTools.js';
import type { TeamRole } from '../../../src/lib/doc/team/ops.js';

const peer = async () => peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString();

describe('toolHostsOf', () => {
	it('asks the team’s relays, never a member, guest or stranger that advertises tools', async () => {
		const [relay, member, guest, stranger] = await Promise.all([peer(), peer(), peer(), peer()]);
		const roles = new Map<string, TeamRole>([
			[relay, 'relay'],
			[member, 'member'],
			[guest, 'guest']
		]);
		const hosts = toolHostsOf([member, relay, guest, stranger, 'not a peer id'], (p) => roles.get(p));
		expect(hosts.map(String)).toEqual([relay]);
	});
});
