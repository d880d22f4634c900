/**
 * Space ids and the ids the workspace root lists never meet (found in review): a member listed
 * a public channel under an id she had derived for a space of her own (the derivation is
 * public: workspace, her device, a nonce she picks), then signed that space, and every replica
 * took the channel for the space: it left everyone's list and reached only the members she
 * chose. Now a space id carries a mark no other id has (teamId.ts `isSpaceId`), the root lists
 * nothing under a marked id (rootPolicy.ts, WorkspaceDoc.ts, writePolicy.ts `isListed*`), and a
 * workspace made now takes marked space ids only (`marksSpaceIds`). Real team operations
 * signed with real device keys, a real Yjs root delivered through the root's write policy.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { channelRules } from '../../../../src/lib/doc/channelRights.js';
import { newId } from '../../../../src/lib/doc/ids.js';
import { signChannelEntry } from '../../../../src/lib/doc/signature.js';
import { foldTeam, type Team } from '../../../../src/lib/doc/team/fold.js';
import type { SpaceKind, TeamOp } from '../../../../src/lib/doc/team/ops.js';
import { signTeamOp } from '../../../../src/lib/doc/team/sign.js';
import { deviceMayRead, spaceOf } from '../../../../src/lib/doc/team/spaces.js';
import { isSpaceId, legacySpaceId, newSpaceId, newTeamNonce, newWorkspaceNonce, teamRosterId, teamSpaceId, teamWorkspaceId } from '../../../../src/lib/doc/team/teamId.js';
import { checkRemoteUpdate, isListedDoc } from '../../../../src/lib/doc/team/writePolicy.js';
import { WorkspaceDoc } from '../../../../src/lib/doc/WorkspaceDoc.js';
import { newDevice, write, type Device } from './teamKit.js';

let owner: Device, ann: Device, bob: Device;

beforeAll(async () => {
	[owner, ann, bob] = await Promise.all([newDevice(), newDevice(), newDevice()]);
});

/** A workspace whose root the owner signs with `nonce` (made now: {@link newWorkspaceNonce}), with Ann and Bob as members, and its root document. */
async function workspace(nonce = newWorkspaceNonce()): Promise<{ ws: string; ops: TeamOp[]; root: WorkspaceDoc }> {
	const ws = teamWorkspaceId(owner.peerId, nonce);
	const ops = [await signTeamOp(owner.key, owner.peerId, { ws, prev: [], at: 1_000 }, { t: 'create', nonce, name: 'owner' })];
	ops.push(await write(owner, ws, ops, { t: 'add', member: ann.peerId, role: 'member', name: 'ann' }));
	ops.push(await write(owner, ws, ops, { t: 'add', member: bob.peerId, role: 'member', name: 'bob' }));
	const root = new WorkspaceDoc(new Y.Doc());
	root.init({ name: 'Harbour', color: '#1f6f5c', createdBy: owner.peerId, createdAt: 1_000, rosterId: teamRosterId(ws) });
	return { ws, ops, root };
}

/** The view's channel rules from `team` (channelRights.ts), as WorkspaceState builds them. */
function rules(team: Team) {
	const roleOf = (peerId: string) => team.members.get(team.devices.get(peerId) ?? '')?.role;
	return channelRules(roleOf, roleOf);
}

/**
 * `by` lists `id` in the root, in `index`, on her own replica (a modified client writes what
 * it likes there); returns why another replica's root policy refuses the update, if it does,
 * after applying it anyway: a replica that stored it before the rule holds it all the same.
 */
async function list(root: WorkspaceDoc, ws: string, by: Device, id: string, index: 'channels' | 'notes' | 'aiThreads' = 'channels'): Promise<string | undefined> {
	const theirs = new Y.Doc();
	Y.applyUpdate(theirs, Y.encodeStateAsUpdate(root.doc));
	const sv = Y.encodeStateVector(theirs);
	const mine = new WorkspaceDoc(theirs);
	if (index === 'channels') {
		mine.createChannel(await signChannelEntry(by.key as never, { id, name: 'plans', topic: '', private: false, readOnly: false, archived: false, createdAt: 2_000, createdBy: by.peerId }));
	} else if (index === 'notes') mine.createNote({ id, title: 'plans', createdAt: 2_000, updatedAt: 2_000 });
	else mine.createAiThread({ id, title: 'plans', createdAt: 2_000 });
	const update = Y.encodeStateAsUpdate(theirs, sv);
	const refused = checkRemoteUpdate(ws, ws, root.doc, update);
	Y.applyUpdate(root.doc, update, 'mesh');
	return refused;
}

/**
 * Every document the root lists to the members is one every member reads: no space holds it,
 * none claims it (so the mesh offers it to everyone), and Bob reads it.
 */
function listedStayOpen(team: Team, root: WorkspaceDoc): void {
	const listed = [...root.listChannels(rules(team)).map((c) => c.id), ...root.listNotes().map((n) => n.id), ...root.listAiThreads().map((t) => t.id)];
	for (const id of listed) {
		expect(spaceOf(team, id), `${id} is listed and a space`).toBeUndefined();
		expect(team.claimedSpaces.has(id), `${id} is listed and claimed`).toBe(false);
		expect(deviceMayRead(team, bob.peerId, id)).toBe(true);
	}
}

describe('a space never takes a document the root lists', () => {
	for (const kind of ['private', 'dm'] as SpaceKind[]) {
		it(`a member's channel under a (marked) space id of her own lists nothing, and her ${kind} space takes nothing from anyone`, async () => {
			const { ws, ops, root } = await workspace();
			const nonce = newTeamNonce();
			const id = teamSpaceId(ws, ann.peerId, nonce);
			expect(await list(root, ws, ann, id)).toMatch(/private space's id/);
			expect(root.listChannels(rules(foldTeam(ws, ops))).map((c) => c.id)).not.toContain(id);
			expect(isListedDoc(ws, root.doc, id)).toBe(false);

			const members = kind === 'dm' ? [ann.peerId, owner.peerId] : [ann.peerId];
			ops.push(await write(ann, ws, ops, { t: 'space', space: id, nonce, kind, members }));
			const team = foldTeam(ws, ops);
			expect(spaceOf(team, id)?.creator).toBe(ann.peerId); // her space: never anybody's channel
			listedStayOpen(team, root);
		});

		it(`a member's channel under a space id of the old form stays everyone's: the ${kind} space that claims it is refused and claims nothing`, async () => {
			const { ws, ops, root } = await workspace();
			const nonce = newTeamNonce();
			const id = legacySpaceId(ws, ann.peerId, nonce);
			expect(await list(root, ws, ann, id)).toBeUndefined(); // an id like any channel's
			const before = foldTeam(ws, ops);
			expect(root.listChannels(rules(before)).map((c) => c.id)).toContain(id);

			const members = kind === 'dm' ? [ann.peerId, owner.peerId] : [ann.peerId];
			const claim = await write(ann, ws, ops, { t: 'space', space: id, nonce, kind, members });
			const team = foldTeam(ws, [...ops, claim]);
			listedStayOpen(team, root);
			expect(root.listChannels(rules(team)).map((c) => c.id)).toContain(id);
			expect(isListedDoc(ws, root.doc, id)).toBe(true);
			expect(team.legacySpaceIds).toBe(false);
			expect(team.rejected.get(claim.id)).toMatch(/not its author's/);
		});
	}

	it('nor a note or an AI chat listed under a space id', async () => {
		const { ws, ops, root } = await workspace();
		const forNote = newTeamNonce();
		const forChat = newTeamNonce();
		const note = teamSpaceId(ws, ann.peerId, forNote);
		const chat = teamSpaceId(ws, ann.peerId, forChat);
		expect(await list(root, ws, ann, note, 'notes')).toMatch(/private space's id/);
		expect(await list(root, ws, ann, chat, 'aiThreads')).toMatch(/private space's id/);
		expect(root.listNotes()).toEqual([]);
		expect(root.listAiThreads()).toEqual([]);
		ops.push(await write(ann, ws, ops, { t: 'space', space: note, nonce: forNote, kind: 'private', members: [ann.peerId] }));
		ops.push(await write(ann, ws, ops, { t: 'space', space: chat, nonce: forChat, kind: 'private', members: [ann.peerId] }));
		listedStayOpen(foldTeam(ws, ops), root);
	});
});

describe('no listing takes a space', () => {
	for (const index of ['channels', 'notes', 'aiThreads'] as const) {
		it(`a member lists another's space in ${index}: refused, listed nowhere, still read by its members only`, async () => {
			const { ws, ops, root } = await workspace();
			const made = newSpaceId(ws, bob.peerId, foldTeam(ws, ops).legacySpaceIds);
			ops.push(await write(bob, ws, ops, { t: 'space', ...made, kind: 'dm', members: [bob.peerId, owner.peerId] }));
			const team = foldTeam(ws, ops);
			expect(await list(root, ws, ann, made.space, index)).toMatch(/private space's id/);
			expect(isListedDoc(ws, root.doc, made.space)).toBe(false);
			expect(root.listChannels(rules(team)).map((c) => c.id)).not.toContain(made.space);
			expect(root.listNotes()).toEqual([]);
			expect(root.listAiThreads()).toEqual([]);
			expect(deviceMayRead(team, ann.peerId, made.space)).toBe(false);
			expect(deviceMayRead(team, owner.peerId, made.space)).toBe(true);
		});
	}
});

describe('the two forms of ids', () => {
	it('a space id made now is marked; no other id is', () => {
		const ws = teamWorkspaceId(owner.peerId, newWorkspaceNonce());
		for (let i = 0; i < 200; i++) {
			expect(isSpaceId(teamSpaceId(ws, ann.peerId, newTeamNonce()))).toBe(true);
			expect(isSpaceId(newSpaceId(ws, ann.peerId).space)).toBe(true);
			expect(isSpaceId(newId())).toBe(false); // channels, notes, AI chats
			expect(isSpaceId(legacySpaceId(ws, ann.peerId, newTeamNonce()))).toBe(false);
			expect(isSpaceId(teamWorkspaceId(ann.peerId, newWorkspaceNonce()))).toBe(false);
			expect(isSpaceId(teamRosterId(teamWorkspaceId(ann.peerId, newTeamNonce())))).toBe(false);
		}
		expect(isSpaceId('not an id')).toBe(false);
	});

	it('a workspace made now creates marked spaces; one made before keeps its old spaces, and creates spaces of the old form', async () => {
		const now = await workspace();
		expect(foldTeam(now.ws, now.ops).legacySpaceIds).toBe(false);
		const before = await workspace(newTeamNonce());
		expect(foldTeam(before.ws, before.ops).legacySpaceIds).toBe(true);
		// A space of the old form, from before: still a space, still private.
		const nonce = newTeamNonce();
		const old = legacySpaceId(before.ws, bob.peerId, nonce);
		before.ops.push(await write(bob, before.ws, before.ops, { t: 'space', space: old, nonce, kind: 'private', members: [bob.peerId] }));
		// A marked one counts there too.
		const marked = newSpaceId(before.ws, bob.peerId);
		before.ops.push(await write(bob, before.ws, before.ops, { t: 'space', ...marked, kind: 'private', members: [bob.peerId] }));
		const team = foldTeam(before.ws, before.ops);
		expect(spaceOf(team, old)?.creator).toBe(bob.peerId);
		expect(spaceOf(team, marked.space)?.creator).toBe(bob.peerId);
		expect(deviceMayRead(team, ann.peerId, old)).toBe(false);
		// What honest creation makes there (SpacesState passes the team's `legacySpaceIds`).
		expect(isSpaceId(newSpaceId(before.ws, bob.peerId, team.legacySpaceIds).space)).toBe(false);
		expect(isSpaceId(newSpaceId(now.ws, bob.peerId, foldTeam(now.ws, now.ops).legacySpaceIds).space)).toBe(true);
	});

	it('the mark is in the signed root: a later operation cannot change it', async () => {
		const { ws, ops } = await workspace(newTeamNonce());
		// A second `create` by the owner with a marked nonce certifies another workspace id, not this one.
		const forged = await signTeamOp(owner.key, owner.peerId, { ws, prev: [], at: 500 }, { t: 'create', nonce: newWorkspaceNonce(), name: 'owner' });
		expect(foldTeam(ws, [...ops, forged]).legacySpaceIds).toBe(true);
	});
});
