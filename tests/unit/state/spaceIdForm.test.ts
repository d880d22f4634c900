/**
 * What the app writes when a member creates a private channel or starts a direct conversation
 * (SpacesState): in a workspace made now, a space id of the marked form (teamId.ts
 * `isSpaceId`), which the root never lists, so no channel can be there before it and none
 * after; in a workspace made before marked ids, the old form, which devices not updated yet
 * still take. Public channels, notes and AI chats never get the space form. Alice's real app
 * state on fake-indexeddb, a team signed with real device keys.
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { assembleServices } from '../../../src/lib/app.js';
import { newId } from '../../../src/lib/doc/ids.js';
import type { TeamOp } from '../../../src/lib/doc/team/ops.js';
import { signTeamOp } from '../../../src/lib/doc/team/sign.js';
import { isSpaceId, newTeamNonce, newWorkspaceNonce, teamRosterId, teamWorkspaceId } from '../../../src/lib/doc/team/teamId.js';
import { addTeamOp } from '../../../src/lib/doc/team/TeamDoc.js';
import { WorkspaceDoc } from '../../../src/lib/doc/WorkspaceDoc.js';
import { WorkspaceState } from '../../../src/lib/state/WorkspaceState.svelte.js';
import type { WorkspaceRow } from '../../../src/lib/store/db.js';
import { OutpostDb } from '../../../src/lib/store/db.js';
import { DocStore } from '../../../src/lib/store/DocStore.js';
import { newDevice, write } from '../doc/team/teamKit.js';

const opened: WorkspaceState[] = [];
afterEach(async () => {
	for (const state of opened.splice(0)) await state.close().catch(() => undefined);
});

/** Alice's app in a workspace whose root the owner signed with `nonce`; Bob is a member too. */
async function alicesApp(nonce: string) {
	const [owner, alice, bob] = await Promise.all([newDevice(), newDevice(), newDevice()]);
	const ws = teamWorkspaceId(owner.peerId, nonce);
	const ops: TeamOp[] = [await signTeamOp(owner.key, owner.peerId, { ws, prev: [], at: 1_000 }, { t: 'create', nonce, name: 'Olga' })];
	ops.push(await write(owner, ws, ops, { t: 'add', member: alice.peerId, role: 'member', name: 'Alice' }));
	ops.push(await write(owner, ws, ops, { t: 'add', member: bob.peerId, role: 'member', name: 'Bob' }));
	const services = assembleServices(new OutpostDb(`ids-${newId()}`), new DocStore(`ids-${newId()}:`), { privateKey: alice.key, peerId: alice.peerId, displayName: 'Alice' });
	services.docs.onError = () => undefined;
	const rosterId = teamRosterId(ws);
	const roster = services.docs.open(rosterId);
	const root = services.docs.open(ws);
	await Promise.all([roster.ready, root.ready]);
	for (const op of ops) addTeamOp(roster.doc, op);
	new WorkspaceDoc(root.doc).init({ name: 'Harbour', color: '#1f6f5c', createdBy: owner.peerId, createdAt: 1_000, rosterId });
	const row: WorkspaceRow = { id: ws, name: 'Harbour', color: '#1f6f5c', rosterId, secret: new Uint8Array(32).fill(7), createdAt: 1_000, lastOpenedAt: 1_000 };
	await services.db.workspaces.put(row);
	const state = await WorkspaceState.open(services, row);
	opened.push(state);
	await state.team.authority.settled?.();
	return { state, alice, bob };
}

describe('the ids the app gives spaces', () => {
	it('in a workspace made now: private channels and conversations take marked ids; public channels, notes and AI chats never', async () => {
		const { state, alice, bob } = await alicesApp(newWorkspaceNonce());
		expect(state.team.authority.team.legacySpaceIds).toBe(false);
		const privateChannel = await state.createChannel({ name: 'board', private: true, members: [bob.peerId] });
		const direct = await state.openDirect(bob.peerId);
		expect(isSpaceId(privateChannel)).toBe(true);
		expect(isSpaceId(direct)).toBe(true);
		const team = state.team.authority.team;
		expect(team.spaces.get(privateChannel)?.creator).toBe(alice.peerId);
		expect(team.spaces.get(direct)?.kind).toBe('dm');
		expect(state.channels.map((c) => c.id)).toContain(privateChannel);

		const open = await state.createChannel({ name: 'plans' });
		const note = await state.createNote('minutes');
		const chat = await state.createAiThread('ideas');
		for (const id of [open, note, chat]) expect(isSpaceId(id)).toBe(false);
		expect(state.channels.map((c) => c.id)).toContain(open);
	});

	it('in a workspace made before: the old form, which the fold there still takes', async () => {
		const { state, alice, bob } = await alicesApp(newTeamNonce());
		expect(state.team.authority.team.legacySpaceIds).toBe(true);
		const privateChannel = await state.createChannel({ name: 'board', private: true, members: [bob.peerId] });
		expect(isSpaceId(privateChannel)).toBe(false);
		const made = state.team.authority.team.spaces.get(privateChannel);
		expect(made?.creator).toBe(alice.peerId);
		expect(state.channels.map((c) => c.id)).toContain(privateChannel);
	});
});
