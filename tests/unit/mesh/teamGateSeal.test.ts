/** Who may store and fetch sealed updates of a document on this replica (TeamGate.maySeal). */
import { describe, expect, it } from 'vitest';
import type { MeshAuthority, SpaceAccess } from '../../../src/lib/mesh/authority';
import { TeamGate } from '../../../src/lib/mesh/teamGate';

/** A team with one space, `space`, whose member devices are `inside`; this replica is in it when `local`. */
function gateWith(local: boolean, inside: string[]): TeamGate {
	const access: SpaceAccess = { local, reads: (peerId) => inside.includes(peerId) };
	const authority: MeshAuthority = {
		joined: true,
		excluded: false,
		isMember: () => true,
		admission: () => undefined,
		admits: async () => ({ admitted: true }) as never,
		onChange: () => () => {},
		spaceAccess: (docId) => (docId === 'space' ? access : undefined)
	};
	return new TeamGate(authority);
}

describe('sealed storage rights', () => {
	it('a relay outside a space keeps it sealed for the space’s member devices only', () => {
		const relay = gateWith(false, ['ann', 'bob']);
		expect(relay.maySeal('ann', 'space')).toBe(true);
		expect(relay.maySeal('eve', 'space')).toBe(false); // a member of the team, not of the space
		expect(relay.maySeal('ann', 'general')).toBe(false); // not a space's document: synced in the clear
	});

	it('a replica in the space syncs it in the clear instead, and one without a team keeps nothing sealed', () => {
		expect(gateWith(true, ['ann', 'bob']).maySeal('ann', 'space')).toBe(false);
		expect(new TeamGate(undefined).maySeal('ann', 'space')).toBe(false);
	});
});
