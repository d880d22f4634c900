/**
 * The unlisted-document allowance as the team gate applies it (mesh/unlistedAllowance.ts): per
 * member, whichever of its devices or tabs sends; the workspace's total; a document the root
 * lists, or a private space's, never counts; an apply that failed gives its slot back.
 */
import { describe, expect, it } from 'vitest';
import { newId } from '../../../src/lib/doc/ids';
import { WorkspaceDoc } from '../../../src/lib/doc/WorkspaceDoc';
import type { MeshAuthority } from '../../../src/lib/mesh/authority';
import { TeamGate } from '../../../src/lib/mesh/teamGate';
import { MemoryDocs } from './memoryDocs';

/** The team's answers the gate asks: mallory's two devices and a tab of hers, and bob's device. */
const team: MeshAuthority = {
	joined: true,
	excluded: false,
	isMember: (peerId) => ['mallory-1', 'mallory-2', 'bob-1'].includes(peerId),
	deviceOf: (peerId) => (peerId === 'mallory-tab' ? 'mallory-1' : peerId),
	personOf: (peerId) => (peerId.startsWith('mallory') ? 'mallory' : peerId.startsWith('bob') ? 'bob' : undefined),
	admission: () => undefined,
	admits: () => Promise.resolve('refused'),
	onChange: () => () => {},
	spaceAccess: (docId) => (docId.startsWith('space') ? { local: true, reads: () => true } : undefined)
};

describe('the unlisted-document allowance of a team gate', () => {
	it('counts a member’s devices and tabs as one, keeps the total, and frees what the root lists', () => {
		const ws = newId();
		const docs = new MemoryDocs(ws);
		let clock = 0;
		const gate = new TeamGate(team, { perPerson: 3, total: 5, now: () => clock });
		const admit = (peer: string, docId: string) => gate.unlistedFor(peer, docs).admit(docId);
		const ids = Array.from({ length: 8 }, () => newId());
		expect([admit('mallory-1', ids[0]!), admit('mallory-2', ids[1]!), admit('mallory-tab', ids[2]!)]).toEqual(['new', 'new', 'new']);
		expect(admit('mallory-2', ids[3]!), 'her fourth, from another device').toBe('refused');
		expect(admit('mallory-1', ids[0]!), 'one taken already').toBe('known');
		expect([admit('bob-1', ids[3]!), admit('bob-1', ids[4]!)]).toEqual(['new', 'new']);
		expect(admit('stranger', ids[5]!), 'the workspace’s total').toBe('refused');
		// Listed documents and private spaces' never count.
		new WorkspaceDoc(docs.get(ws)).createChannel({ id: ids[6]!, name: 'c', topic: '', private: false, readOnly: false, archived: false, createdAt: 1, createdBy: 'x' });
		expect(admit('mallory-1', ids[6]!)).toBe('known');
		expect(admit('mallory-1', 'space-1')).toBe('known');
		// Once the root lists one of hers, it stops counting.
		new WorkspaceDoc(docs.get(ws)).createChannel({ id: ids[1]!, name: 'd', topic: '', private: false, readOnly: false, archived: false, createdAt: 1, createdBy: 'x' });
		expect(admit('mallory-2', ids[7]!), 'swept at most once a second').toBe('refused');
		clock += 1000;
		expect(admit('mallory-2', ids[7]!)).toBe('new');
		// A failed apply gives the slot back.
		gate.unlistedFor('mallory-1', docs).release(ids[7]!);
		expect(admit('mallory-1', newId())).toBe('new');
	});

	it('counts nothing for a store that does not know what its root lists', () => {
		const gate = new TeamGate(team, { perPerson: 1, total: 1 });
		const docs = new MemoryDocs(); // no workspace: every document is named
		expect([newId(), newId(), newId()].map((id) => gate.unlistedFor('mallory-1', docs).admit(id))).toEqual(['known', 'known', 'known']);
	});
	it('keeps counting a lapsed tab against its member, and takes nothing from a peer the joined team does not name', () => {
		const ws = newId();
		const docs = new MemoryDocs(ws);
		// mallory's one device delegates to tab after tab; the authority forgets a tab once it lapses.
		const live = new Set<string>();
		const tabs: MeshAuthority = {
			...team,
			deviceOf: (peerId) => (live.has(peerId) ? 'mallory-1' : team.deviceOf!(peerId)),
			personOf: (peerId) => (live.has(peerId) || peerId === 'mallory-1' ? 'mallory' : peerId === 'bob-1' ? 'bob' : undefined)
		};
		const gate = new TeamGate(tabs, { perPerson: 2, total: 10 });
		const sessions = Array.from({ length: 4 }, (_, i) => {
			const tab = `mallory-tab-${i}`;
			live.add(tab);
			return { tab, unlisted: gate.unlistedFor(tab, docs) };
		});
		expect(sessions[0]!.unlisted.admit(newId())).toBe('new');
		// The device admits more tabs: the first lapses while its session runs.
		live.delete(sessions[0]!.tab);
		expect(sessions[0]!.unlisted.admit(newId()), 'still mallory’s').toBe('new');
		expect(sessions[0]!.unlisted.admit(newId()), 'mallory’s allowance is spent').toBe('refused');
		// Tabs that lapse before they send anything name no member: refused, not a fresh allowance.
		for (const { tab, unlisted } of sessions.slice(1)) {
			live.delete(tab);
			expect(unlisted.admit(newId()), tab).toBe('refused');
		}
		expect(gate.unlistedFor('bob-1', docs).admit(newId()), 'bob’s share is untouched').toBe('new');
	});
});
