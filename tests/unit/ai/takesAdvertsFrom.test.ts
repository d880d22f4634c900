/**
 * Whose model adverts a replica takes (the browser's MeshModels and the relay's /v1 alike): a
 * member device of any role but guest; a guest's, a removed device's or a stranger's never.
 */
import { describe, expect, it } from 'vitest';
import { takesAdvertsFrom } from '../../../src/lib/ai/hostAccess.js';
import { TeamRole } from '../../../src/lib/doc/team/ops.js';

describe('takesAdvertsFrom', () => {
	const roles = new Map<string, TeamRole>([
		['owner', TeamRole.owner],
		['admin', TeamRole.admin],
		['member', TeamRole.member],
		['relay', TeamRole.relay],
		['guest', TeamRole.guest]
	]);
	const team = { isMember: (peerId: string) => roles.has(peerId), roleOf: (peerId: string) => roles.get(peerId) };

	it('takes a member device of any role but guest', () => {
		expect(['owner', 'admin', 'member', 'relay', 'guest', 'stranger'].filter((peer) => takesAdvertsFrom(team, peer))).toEqual(['owner', 'admin', 'member', 'relay']);
	});

	it('takes nothing without a team, nor from a device the team no longer counts', () => {
		expect(takesAdvertsFrom(undefined, 'owner')).toBe(false);
		expect(takesAdvertsFrom({ isMember: () => false, roleOf: () => TeamRole.member }, 'removed')).toBe(false);
	});
});
