/**
 * An export file is a hostile member's too: its root lists what it likes and its states may
 * carry deletions. An import must not touch another workspace on this device, nor change a
 * document in a way no peer would accept (writePolicy.ts); nothing is written when it refuses.
 * Found in review: a file claiming a new workspace rewrote another workspace's roster (a
 * member's addition deleted) and replaced a note's text, past every write check.
 */
import 'fake-indexeddb/auto';
import { createHash } from 'node:crypto';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { newId } from '../../../src/lib/doc/ids';
import { TeamAuthority } from '../../../src/lib/core/TeamAuthority';
import { signTeamOp } from '../../../src/lib/doc/team/sign';
import { newSpaceId, newTeamNonce, teamRosterId, teamWorkspaceId } from '../../../src/lib/doc/team/teamId';
import { SpaceKind } from '../../../src/lib/doc/team/ops';
import { ChannelDoc } from '../../../src/lib/doc/ChannelDoc';
import { NoteDoc } from '../../../src/lib/doc/NoteDoc';
import { bindWriter } from '../../../src/lib/state/noteBinding';
import { at, msg } from '../doc/helpers';
import { teamOps } from '../../../src/lib/doc/team/TeamDoc';
import { OutpostDb } from '../../../src/lib/store/db';
import { DocStore } from '../../../src/lib/store/DocStore';
import { importWorkspace, InvalidManifestError } from '../../../src/lib/store/exchange';
import { MANIFEST_SIG_PATH, signManifest, type ExportSigner } from '../../../src/lib/store/exchange/exportSignature';

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** An export file of workspace `id` (roster `rosterId`) holding `states` (id → kind and state), signed by `signer` when given. */
async function exportFile(id: string, rosterId: string, states: Record<string, [kind: string, state: Uint8Array]>, signer?: ExportSigner): Promise<Uint8Array> {
	const manifest = {
		format: 'outpost-workspace-export',
		formatVersion: 1,
		appVersion: 'test',
		exportedAt: '',
		workspace: { id, name: 'Holiday pics', color: '', rosterId },
		documents: Object.entries(states).map(([doc, [kind, state]]) => ({ id: doc, kind, title: '', state: `yjs/${doc}.bin`, bytes: state.length, sha256: sha(state), files: [] }))
	};
	const manifestBytes = strToU8(JSON.stringify(manifest));
	const signature: Record<string, Uint8Array> = signer === undefined ? {} : { [MANIFEST_SIG_PATH]: await signManifest(signer, manifestBytes) };
	return zipSync({ 'manifest.json': manifestBytes, ...signature, ...Object.fromEntries(Object.entries(states).map(([doc, [, state]]) => [`yjs/${doc}.bin`, state])) });
}

async function key() {
	const privateKey = await generateKeyPair('Ed25519');
	return { privateKey, peerId: peerIdFromPrivateKey(privateKey).toString() };
}

/** A device holding workspace C: a roster of signed operations (its founder, and a member added), and a note. */
async function device() {
	const tag = newId();
	const db = new OutpostDb(`import-escape-${tag}`);
	await db.open();
	const docs = new DocStore(`import-escape-${tag}:`);
	const [owner, bob] = [await key(), await key()];
	const nonce = newTeamNonce();
	const c = teamWorkspaceId(owner.peerId, nonce);
	const rosterC = teamRosterId(c);
	const note = newId();
	await db.workspaces.put({ id: c, name: 'Crew', color: '#2f5fb3', rosterId: rosterC, createdAt: 1, lastOpenedAt: 1 });
	const root = docs.open(c);
	await root.ready;
	root.doc.getMap('meta').set('rosterId', rosterC);
	root.doc.getMap('notes').set(note, { title: 'plan' });
	const roster = docs.open(rosterC);
	await roster.ready;
	const team = new TeamAuthority({ workspaceId: c, doc: roster.doc, device: owner });
	await team.add(await signTeamOp(owner.privateKey, owner.peerId, { ws: c, prev: [], at: Date.now() }, { t: 'create', nonce, name: 'owner' }));
	const added = await team.write({ t: 'add', member: bob.peerId, role: 'member', name: 'bob' });
	const body = docs.open(note);
	await body.ready;
	const unbind = bindWriter(body.doc, note, owner.privateKey, owner.peerId);
	body.doc.transact(() => body.doc.getText('body').insert(0, 'the team plan, written by members'));
	unbind();
	// A private channel of the owner and Bob, not listed in the root, with a message.
	const { space, nonce: spaceNonce } = newSpaceId(c, owner.peerId);
	await team.write({ t: 'space', space, nonce: spaceNonce, kind: SpaceKind.private, members: [owner.peerId, bob.peerId] });
	const channel = docs.open(space);
	await channel.ready;
	new ChannelDoc(channel.doc).post(msg('m1', owner.peerId, at(100, owner.peerId), 'the plan'));
	return { db, docs, c, rosterC, note, roster: roster.doc, body: body.doc, added: added.id, owner, bob, space, channel: channel.doc, root: root.doc, team };
}

describe('an import that reaches past its own workspace', () => {
	it("refuses a file for a new workspace that carries another workspace's roster and note, and writes nothing", async () => {
		const { db, docs, rosterC, note, roster, body, added } = await device();
		// A member of C holds C's states; the file claims a new workspace A whose root lists C's note.
		const evilRoster = new Y.Doc();
		Y.applyUpdate(evilRoster, Y.encodeStateAsUpdate(roster));
		teamOps(evilRoster).delete(added);
		const evilNote = new Y.Doc();
		Y.applyUpdate(evilNote, Y.encodeStateAsUpdate(body));
		evilNote.getText('body').delete(0, evilNote.getText('body').length);
		evilNote.getText('body').insert(0, 'owned');
		const a = newId();
		const root = new Y.Doc();
		root.getMap('meta').set('rosterId', rosterC);
		root.getMap('notes').set(note, { title: 'x' });
		const file = await exportFile(a, rosterC, {
			[a]: ['workspace', Y.encodeStateAsUpdate(root)],
			[rosterC]: ['roster', Y.encodeStateAsUpdate(evilRoster)],
			[note]: ['note', Y.encodeStateAsUpdate(evilNote)]
		});
		// Refused for touching workspace C at all, before any state is weighed.
		await expect(importWorkspace({ db, docs }, file)).rejects.toThrow(/belongs to another workspace on this device/);
		await expect(importWorkspace({ db, docs }, file)).rejects.toBeInstanceOf(InvalidManifestError);
		expect(teamOps(roster).has(added)).toBe(true);
		expect(body.getText('body').toString()).toBe('the team plan, written by members');
		expect(await db.workspaces.get(a)).toBeUndefined();
	});

	it('refuses a file of this very workspace whose roster deletes an operation, as a peer would', async () => {
		const { db, docs, c, rosterC, roster, added, root } = await device();
		const evilRoster = new Y.Doc();
		Y.applyUpdate(evilRoster, Y.encodeStateAsUpdate(roster));
		teamOps(evilRoster).delete(added);
		const file = await exportFile(c, rosterC, { [c]: ['workspace', Y.encodeStateAsUpdate(root)], [rosterC]: ['roster', Y.encodeStateAsUpdate(evilRoster)] });
		await expect(importWorkspace({ db, docs }, file)).rejects.toThrow(/no peer accepts/);
		expect(teamOps(roster).has(added)).toBe(true);
		// The roster as this device holds it (what its own export carries) imports.
		const fine = await exportFile(c, rosterC, { [c]: ['workspace', Y.encodeStateAsUpdate(root)], [rosterC]: ['roster', Y.encodeStateAsUpdate(roster)] });
		await importWorkspace({ db, docs }, fine);
		expect(teamOps(roster).size).toBe(3); // create, add, space
	});

	it("checks a signed file's states against the team, as a live replica checks its sender's: a private channel's history, a note edit bound to a stranger", async () => {
		const { db, docs, c, rosterC, note, roster, body, space, channel, root, owner } = await device();
		const signer = { key: owner.privateKey, peerId: owner.peerId };
		const withRoster = (states: Record<string, [string, Uint8Array]>) =>
			exportFile(c, rosterC, { [c]: ['workspace', Y.encodeStateAsUpdate(root)], [rosterC]: ['roster', Y.encodeStateAsUpdate(roster)], ...states }, signer);
		// The private channel's message hard-deleted: its document only grows.
		const evilChannel = new Y.Doc();
		Y.applyUpdate(evilChannel, Y.encodeStateAsUpdate(channel));
		new ChannelDoc(evilChannel).messages.delete(0, 1);
		const device_ = { db, docs, device: owner.peerId };
		await expect(importWorkspace(device_, await withRoster({ [space]: ['channel', Y.encodeStateAsUpdate(evilChannel)] }))).rejects.toThrow(/no peer accepts/);
		expect(new ChannelDoc(channel).messages.length).toBe(1);
		// A note edit bound to a device that never wrote notes (no member's).
		const stranger = await key();
		const bound = new Y.Doc();
		Y.applyUpdate(bound, Y.encodeStateAsUpdate(body));
		const stop = bindWriter(bound, note, stranger.privateKey, stranger.peerId);
		bound.transact(() => new NoteDoc(bound).body.insert(0, 'IGNORE THE PLAN. '));
		stop();
		await expect(importWorkspace(device_, await withRoster({ [note]: ['note', Y.encodeStateAsUpdate(bound)] }))).rejects.toThrow(/no peer accepts/);
		expect(body.getText('body').toString()).toBe('the team plan, written by members');
		// The device's own states import, the private channel's included.
		const result = await importWorkspace(device_, await withRoster({ [space]: ['channel', Y.encodeStateAsUpdate(channel)], [note]: ['note', Y.encodeStateAsUpdate(body)] }));
		expect(result.documentsLeftOut).toBe(0);
	});

	it("a file brings only what its signer may pass on: no note content from an unsigned file, a removed member's or a guest's; no space its signer or this device is not in (found in review)", async () => {
		const { db, docs, c, rosterC, note, roster, body, space, channel, root, owner, bob, team } = await device();
		const importer = { db, docs, device: owner.peerId };
		const [carol, gus] = [await key(), await key()];
		await team.write({ t: 'add', member: carol.peerId, role: 'member', name: 'carol' });
		await team.write({ t: 'add', member: gus.peerId, role: 'guest', name: 'gus' });
		const states = (extra: Record<string, [string, Uint8Array]>) => ({ [c]: ['workspace', Y.encodeStateAsUpdate(root)] as [string, Uint8Array], [rosterC]: ['roster', Y.encodeStateAsUpdate(roster)] as [string, Uint8Array], ...extra });
		const annClient = Number([...body.getMap('bindings').keys()][0]!);
		// Note content under the owner's own bound client (the bytes cannot say who wrote it).
		const forged = new Y.Doc();
		Y.applyUpdate(forged, Y.encodeStateAsUpdate(body));
		forged.clientID = annClient;
		new NoteDoc(forged).body.insert(0, 'Plan cancelled. ');
		const forgedNote: Record<string, [string, Uint8Array]> = { [note]: ['note', Y.encodeStateAsUpdate(forged)] };
		const asGuest = { key: gus.privateKey, peerId: gus.peerId };
		for (const file of [await exportFile(c, rosterC, states(forgedNote)), await exportFile(c, rosterC, states(forgedNote), asGuest)]) {
			const result = await importWorkspace(importer, file);
			expect(result.documentsLeftOut).toBe(1);
			expect(body.getText('body').toString()).toBe('the team plan, written by members');
		}
		// A removed member's file: Bob, once a writer, binds a new client after his removal.
		await team.write({ t: 'remove', member: bob.peerId });
		const late = new Y.Doc();
		Y.applyUpdate(late, Y.encodeStateAsUpdate(body));
		const stop = bindWriter(late, note, bob.privateKey, bob.peerId);
		late.transact(() => new NoteDoc(late).body.insert(0, 'The dose is 50 mg. '));
		stop();
		const rosterNow = Y.encodeStateAsUpdate(roster);
		const fromBob = await exportFile(c, rosterC, { ...states({ [note]: ['note', Y.encodeStateAsUpdate(late)] }), [rosterC]: ['roster', rosterNow] }, { key: bob.privateKey, peerId: bob.peerId });
		expect((await importWorkspace(importer, fromBob)).documentsLeftOut).toBe(1);
		expect(body.getText('body').toString()).toBe('the team plan, written by members');
		// A private channel: Carol (a member, not in it) posts into it through the owner's import.
		const intruded = new Y.Doc();
		Y.applyUpdate(intruded, Y.encodeStateAsUpdate(channel));
		new ChannelDoc(intruded).post(msg('x1', carol.peerId, at(200, carol.peerId), 'carol was here'));
		const space_: Record<string, [string, Uint8Array]> = { [space]: ['channel', Y.encodeStateAsUpdate(intruded)] };
		const fromCarol = await exportFile(c, rosterC, { ...states(space_), [rosterC]: ['roster', Y.encodeStateAsUpdate(roster)] }, { key: carol.privateKey, peerId: carol.peerId });
		expect((await importWorkspace(importer, fromCarol)).documentsLeftOut).toBe(1);
		expect(new ChannelDoc(channel).messages.length).toBe(1);
		// The owner's own file: into a device of a member not in the space, it is left out too.
		const fromOwner = await exportFile(c, rosterC, { ...states(space_), [rosterC]: ['roster', Y.encodeStateAsUpdate(roster)] }, { key: owner.privateKey, peerId: owner.peerId });
		expect((await importWorkspace({ db, docs, device: carol.peerId }, fromOwner)).documentsLeftOut).toBe(1);
		expect(new ChannelDoc(channel).messages.length).toBe(1);
		// ...and into the owner's, it brings the post (signed by its author, shown by the views' rules).
		expect((await importWorkspace(importer, fromOwner)).documentsLeftOut).toBe(0);
		expect(new ChannelDoc(channel).messages.length).toBe(2);
		// A signature over other bytes vouches for nothing.
		const tampered = unzipSync(await exportFile(c, rosterC, states(forgedNote), { key: owner.privateKey, peerId: owner.peerId }));
		const manifest = JSON.parse(strFromU8(tampered['manifest.json']!)) as { appVersion: string };
		manifest.appVersion = 'other';
		tampered['manifest.json'] = strToU8(JSON.stringify(manifest));
		expect((await importWorkspace(importer, zipSync(tampered))).documentsLeftOut).toBe(1);
		expect(body.getText('body').toString()).toBe('the team plan, written by members');
	});

	it('refuses a file that names another roster than the workspace holds (a rewritten root)', async () => {
		const { db, docs, c, root, owner } = await device();
		const fake = newId();
		const rewritten = new Y.Doc();
		Y.applyUpdate(rewritten, Y.encodeStateAsUpdate(root));
		rewritten.getMap('meta').set('rosterId', fake);
		const file = await exportFile(c, fake, { [c]: ['workspace', Y.encodeStateAsUpdate(rewritten)], [fake]: ['roster', Y.encodeStateAsUpdate(new Y.Doc())] }, { key: owner.privateKey, peerId: owner.peerId });
		await expect(importWorkspace({ db, docs, device: owner.peerId }, file)).rejects.toThrow(/another roster/);
	});
});
