/**
 * The relay as an archive peer and member device of a team, in-process on 127.0.0.1 with team
 * peers on real libp2p nodes (tests/mesh/teamPeers.ts, as the browser builds them): once an
 * admin adds the relay and has it archive the workspace, a member's edit reaches the relay's
 * disk and a member that comes later gets it from the archive alone; a removed member gets
 * no new session from the relay, even with a client that ignores its removal; and a private
 * space the relay is not in never reaches it; and a burst of archive requests past the queue's
 * bound is refused at once rather than queued.
 */
import { newSpaceId } from '../../src/lib/doc/team/teamId.ts';
import '../../src/lib/mesh/polyfills.node.ts'; // before anything that loads libp2p
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { SYNC_PROTOCOL_ID } from '../../src/lib/mesh/constants.ts';
import { docDigest } from '../../src/lib/mesh/syncDocs.ts';
import { connect, stopPeers } from '../../tests/mesh/peers.ts';
import { createTeamWorkspace, has, invite, listedDoc, newKey, post, startJoiner, startTeamPeer, stopTeamPeers, type DeviceStores, type TeamPeer } from '../../tests/mesh/teamPeers.ts';
import type { StoredMirror } from '../../src/lib/core/sealedSync.ts';
import { runRelay } from '../run.ts';
import type { RunningRelay } from '../run.ts';
import { archiveAs, dialRelay, waitUntil } from '../teamFixture.ts';
import { ArchiveDocs } from './ArchiveDocs.ts';
import { ChannelDoc } from '../../src/lib/doc/ChannelDoc.ts';
import { newId } from '../../src/lib/doc/ids.ts';
import { at, msg } from '../../tests/unit/doc/helpers.ts';
import * as Y from 'yjs';
import { openSpaceKeys } from '../../src/lib/core/spaceKeys.ts';
import { sealSpaceUpdate } from '../../src/lib/core/spaceSeal.ts';
import { pendingBytes } from '../../src/lib/mesh/updateCheck.ts';
import { signTeamOp } from '../../src/lib/doc/team/sign.ts';
import { newTeamNonce, teamWorkspaceId } from '../../src/lib/doc/team/teamId.ts';
import { newSecret } from '../../src/lib/mesh/secret.ts';
import { MAX_PENDING_TASKS } from './serialQueue.ts';

let tmp: string;
const cleanups: (() => Promise<void>)[] = [];

beforeEach(async () => {
	tmp = await mkdtemp(join(tmpdir(), 'outpost-archive-peer-'));
	await mkdir(join(tmp, 'build'), { recursive: true });
	await writeFile(join(tmp, 'build', 'index.html'), '<!doctype html><title>home</title>');
});

afterEach(async () => {
	await stopTeamPeers();
	await stopPeers();
	for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
	await rm(tmp, { recursive: true, force: true });
}, 15_000);

async function startRelay(): Promise<RunningRelay> {
	const relay = await runRelay({ root: join(tmp, 'build'), dataDir: join(tmp, 'data'), host: '127.0.0.1', port: 0, mdns: false, lanIps: [], log: () => {} });
	let closed = false;
	cleanups.push(async () => {
		if (!closed) await relay.close();
		closed = true;
	});
	return relay;
}

/** A relay archiving a team of two, the owner and bob (admitted through the owner; `stores`: bob's device stores). */
async function archivedTeamOfTwo(stores: DeviceStores = {}) {
	const relay = await startRelay();
	const { ws, owner } = await createTeamWorkspace((await newKey()).key);
	const bobKey = await newKey();
	const bob = await startJoiner(ws, bobKey.key, 'bob', await invite(owner, 'member'), {}, stores);
	await connect(bob, owner);
	await waitUntil(() => owner.authority.isMember(bob.peerId) && bob.authority.joined, 'bob admitted');
	await archiveAs(owner, relay, ws);
	return { relay, ws, owner, bob, bobKey };
}

/**
 * {@link archivedTeamOfTwo} with a private space of the owner and bob (bob holds its key); then
 * bob is cut off from the owner and the owner is on the relay, so what the owner writes in the
 * space reaches bob only through what the relay keeps sealed. `logLength`: the relay's sealed
 * log of the space as `peer` (default the owner) reads it.
 */
async function spaceKeptByRelay(stores: DeviceStores = {}) {
	const team = await archivedTeamOfTwo(stores);
	const { relay, ws, owner, bob } = team;
	const { space, nonce } = newSpaceId(owner.authority.workspaceId, owner.peerId);
	await owner.authority.write({ t: 'space', space, nonce, kind: 'private', members: [owner.peerId, bob.peerId] });
	await waitUntil(() => bob.authority.team.spaces.get(space)?.keyGenerations.size === 1, 'bob folds the space and its key');
	bob.gater.blocked.add(owner.node.peerId.toString());
	await bob.node.hangUp(owner.node.peerId);
	await dialRelay(owner, relay);
	const relayId = relay.node.peerId.toString();
	const logLength = async (peer: TeamPeer = owner) => (await peer.mesh.wantSealed(ws.id, relayId, space, 0).catch(() => ({ envelopes: [] }))).envelopes.length;
	return { ...team, space, relayId, logLength };
}

/** Open sync streams between the relay and `peer`. */
function sessions(relay: RunningRelay, peer: TeamPeer): number {
	return relay.node
		.getConnections(peer.node.peerId)
		.flatMap((c) => c.streams)
		.filter((s) => s.protocol === SYNC_PROTOCOL_ID && s.status === 'open').length;
}

it('archives a member edit on disk and serves it to a member that comes later', async () => {
	const relay = await startRelay();
	const { ws, owner } = await createTeamWorkspace((await newKey()).key);
	const lateInvite = await invite(owner, 'member');
	await archiveAs(owner, relay, ws);
	await dialRelay(owner, relay);
	const docId = listedDoc(owner, ws.id);
	post(owner, docId, 'left before you came');
	const expected = await docDigest(owner.docs.get(docId));
	await waitUntil(async () => (await relay.archive.archives.get(ws.id)?.digest(docId)) === expected, 'the relay to archive the edit');

	await stopTeamPeers();
	await stopPeers(); // the owner leaves
	for (const cleanup of cleanups.splice(0).reverse()) await cleanup(); // the relay stops
	const onDisk = await ArchiveDocs.open(join(tmp, 'data'), ws.id);
	expect(await onDisk.digest(docId)).toBe(expected);
	await onDisk.close();

	const restarted = await startRelay();
	const late = await startJoiner(ws, (await newKey()).key, 'late', lateInvite);
	await dialRelay(late, restarted);
	await waitUntil(() => has(late, docId, 'left before you came'), 'the late member to catch up', 15_000);
	expect(late.authority.joined).toBe(true);
}, 40_000);

it('refuses archive requests past the eight waiting at once (logged once), and takes them again once the queue drains', async () => {
	const logged: string[] = [];
	const relay = await runRelay({ root: join(tmp, 'build'), dataDir: join(tmp, 'data'), host: '127.0.0.1', port: 0, mdns: false, lanIps: [], log: (line) => logged.push(line) });
	cleanups.push(() => relay.close());
	// Each a stranger's own new workspace, without the relay in its team: refused once checked.
	const stranger = await newKey();
	const requests = await Promise.all(
		Array.from({ length: 21 }, async () => {
			const nonce = newTeamNonce();
			const id = teamWorkspaceId(stranger.peerId, nonce);
			const create = await signTeamOp(stranger.key, stranger.peerId, { ws: id, prev: [], at: Date.now() }, { t: 'create', nonce, name: 'x' });
			return { id, secret: newSecret(), ops: [create], signer: stranger.peerId };
		})
	);
	const burst = await Promise.allSettled(requests.slice(0, 20).map((request) => relay.archive.request(request)));
	const why = burst.map((outcome) => (outcome.status === 'rejected' ? (outcome.reason as Error).name : 'accepted'));
	expect(why).toEqual([...Array(MAX_PENDING_TASKS).fill('ArchiveRefusedError'), ...Array(20 - MAX_PENDING_TASKS).fill('ArchiveBusyError')]);
	expect(logged.filter((line) => line.startsWith('Archive requests:'))).toEqual([`Archive requests: ${MAX_PENDING_TASKS} waiting; refusing more until one finishes`]);
	await expect(relay.archive.request(requests[20]!)).rejects.toMatchObject({ name: 'ArchiveRefusedError', reason: 'relay-not-member' });
}, 30_000);

it('a removed member gets no new session from the relay, even with a client that ignores its removal', async () => {
	const relay = await startRelay();
	const { ws, owner } = await createTeamWorkspace((await newKey()).key);
	const bobKey = await newKey();
	const bob = await startJoiner(ws, bobKey.key, 'bob', await invite(owner, 'member'));
	await connect(bob, owner);
	await waitUntil(() => owner.authority.isMember(bob.peerId) && bob.authority.joined, 'bob admitted');
	await archiveAs(owner, relay, ws);
	await dialRelay(owner, relay);
	await dialRelay(bob, relay);
	const docId = listedDoc(bob, ws.id);
	post(bob, docId, 'from bob');
	const archived = async (value: string) => {
		const update = await relay.archive.archives.get(ws.id)?.diff(docId, new Uint8Array([0]));
		return update !== undefined && Buffer.from(update).includes(Buffer.from(value));
	};
	await waitUntil(() => archived('from bob'), "bob's edit on the relay");
	await bob.authority.settled();
	const staleOps = bob.authority.operations();

	// Bob leaves; the owner removes him; the relay learns it from the owner.
	await bob.mesh.stop();
	await bob.node.stop();
	await owner.authority.write({ t: 'remove', member: bob.peerId });
	await waitUntil(() => relay.archive.authority(ws.id)?.isMember(bob.peerId) === false, 'the removal on the relay');

	// Bob comes back with a client that never heard of the removal: the relay refuses it.
	const stale = await startTeamPeer(ws, bobKey.key, 'stale bob', staleOps);
	expect(stale.authority.joined).toBe(true);
	post(stale, docId, 'after removal');
	await dialRelay(stale, relay);
	await waitUntil(() => stale.errors.some((e) => e.error.name === 'MembershipDeniedError'), 'the relay to refuse the removed member');
	await new Promise((resolve) => setTimeout(resolve, 500));
	expect(sessions(relay, stale)).toBe(0);
	expect(await archived('after removal')).toBe(false);
}, 40_000);

it('archives no private space it is not in: its members never send it one', async () => {
	const { relay, ws, owner, bob } = await archivedTeamOfTwo();
	await dialRelay(owner, relay);
	await dialRelay(bob, relay);
	const { space, nonce } = newSpaceId(owner.authority.workspaceId, owner.peerId);
	await owner.authority.write({ t: 'space', space, nonce, kind: 'private', members: [owner.peerId, bob.peerId] });
	new ChannelDoc(owner.docs.get(space)).post(msg(newId(), owner.peerId, at(1, owner.peerId), 'between us'));
	await waitUntil(() => bob.docs.docs.get(space) !== undefined && new ChannelDoc(bob.docs.get(space)).messages.length === 1, 'bob gets it');
	// A later public edit reaches the relay: so would have the private one, had it been sent.
	const later = listedDoc(owner, ws.id);
	post(owner, later, 'later');
	await waitUntil(async () => (await relay.archive.archives.get(ws.id)?.digest(later)) !== undefined, 'the relay archives a later edit');
	expect(relay.archive.authority(ws.id)?.team.spaces.has(space)).toBe(true);
	expect(await relay.archive.archives.get(ws.id)?.digest(space)).toBeUndefined();
});

it('keeps a private space it is not in sealed for its members: stored, served back in order, refused to others', async () => {
	const relay = await startRelay();
	const { ws, owner } = await createTeamWorkspace((await newKey()).key);
	const bob = await startJoiner(ws, (await newKey()).key, 'bob', await invite(owner, 'member'));
	const eve = await startJoiner(ws, (await newKey()).key, 'eve', await invite(owner, 'member'));
	await connect(bob, owner);
	await connect(eve, owner);
	await waitUntil(() => owner.authority.isMember(bob.peerId) && owner.authority.isMember(eve.peerId) && bob.authority.joined && eve.authority.joined, 'bob and eve admitted');
	await archiveAs(owner, relay, ws);
	const { space, nonce } = newSpaceId(owner.authority.workspaceId, owner.peerId);
	await owner.authority.write({ t: 'space', space, nonce, kind: 'private', members: [owner.peerId, bob.peerId] });
	const relayId = relay.node.peerId.toString();
	for (const peer of [owner, bob, eve]) await dialRelay(peer, relay);
	await waitUntil(() => relay.archive.authority(ws.id)?.team.spaces.has(space) === true, 'the relay folds the space');
	const live = (peer: TeamPeer) => peer.mesh.status(ws.id)?.livePeers ?? 0;
	await waitUntil(() => [owner, bob, eve].every((p) => live(p) >= 1), 'live sessions with the relay');

	// The owner stores three sealed updates; bob reads them back in order.
	const envelopes = [1, 2, 3].map((i) => new Uint8Array(40).fill(i));
	await waitUntil(() => owner.mesh.putSealed(ws.id, relayId, space, envelopes), 'a live session to store on');
	const read = (peer: TeamPeer, from: number) => peer.mesh.wantSealed(ws.id, relayId, space, from, 2000).catch(() => ({ envelopes: [], more: false }));
	await waitUntil(async () => (await read(bob, 0)).envelopes.length === 3, 'bob reads what the owner stored', 20_000); // on a loaded machine, more than 10 s now and then
	// Two reads of one position at once (a caller asked again) both get the answer.
	const [first, again] = await Promise.all([read(bob, 0), read(bob, 0)]);
	expect([first.envelopes.length, again.envelopes.length]).toEqual([3, 3]);
	const batch = await bob.mesh.wantSealed(ws.id, relayId, space, 1);
	expect(batch.envelopes.map((e) => e[0])).toEqual([2, 3]);
	expect(batch.more).toBe(false);
	// Eve is in the team, not in the space: she neither reads nor adds.
	await waitUntil(() => eve.mesh.putSealed(ws.id, relayId, space, [new Uint8Array(8)]), 'eve’s live session with the relay');
	await expect(eve.mesh.wantSealed(ws.id, relayId, space, 0, 1500)).rejects.toThrow(/no sealed updates/);
	await new Promise((resolve) => setTimeout(resolve, 300));
	expect((await bob.mesh.wantSealed(ws.id, relayId, space, 0)).envelopes).toHaveLength(3);
	// And the relay stores nothing of the space in the clear.
	expect(await relay.archive.archives.get(ws.id)?.digest(space)).toBeUndefined();
}, 60_000);

it('a message of a private space reaches a member who only meets the relay after its author left, through what the relay keeps sealed', async () => {
	// Bob goes away; the owner writes in the space with only the relay online.
	const { relay, ws, owner, bob, space, logLength } = await spaceKeptByRelay();
	new ChannelDoc(owner.docs.get(space)).post(msg(newId(), owner.peerId, at(1, owner.peerId), 'kept sealed for bob'));
	await waitUntil(async () => (await logLength()) > 0, 'the relay keeps it sealed', 20_000); // a read the relay refused (the space not folded yet) is retried after 3 s
	owner.gater.blocked.add(relay.node.peerId.toString());
	await owner.node.hangUp(relay.node.peerId);
	// Bob comes back to the relay alone, and reads it.
	await dialRelay(bob, relay);
	await waitUntil(() => bob.docs.docs.get(space) !== undefined && new ChannelDoc(bob.docs.get(space)).messages.toArray().some((m) => m.text === 'kept sealed for bob'), 'bob gets the message from the relay', 20_000);
	expect(await relay.archive.archives.get(ws.id)?.digest(space)).toBeUndefined();
}, 60_000);

it('a member device that restarts reads the relay\'s sealed log from where it stopped, and from the start when the log is not the one it read', async () => {
	// Bob's device stores: its documents and its mirrors of the relay's sealed logs, kept across restarts.
	const kept = new Map<string, StoredMirror>();
	const stores: DeviceStores = {
		sealedMirrors: { load: async (key: string) => kept.get(key), save: async (key: string, mirror: StoredMirror) => void kept.set(key, mirror) }
	};
	const team = await spaceKeptByRelay(stores);
	const { relay, ws, owner, bobKey, space, relayId, logLength } = team;
	let bob = team.bob;
	stores.docs = bob.docs; // a restarted device finds its documents where it left them
	// Three messages from the owner reach the relay sealed, one at a time.
	for (const [i, text] of ['one', 'two', 'three'].entries()) {
		new ChannelDoc(owner.docs.get(space)).post(msg(newId(), owner.peerId, at(i + 1, owner.peerId), text));
		await waitUntil(async () => (await logLength()) > i, `the relay keeps message ${text}`, 20_000);
	}
	owner.gater.blocked.add(relayId);
	await owner.node.hangUp(relay.node.peerId);
	const texts = (peer: TeamPeer) => (peer.docs.docs.get(space) === undefined ? [] : new ChannelDoc(peer.docs.get(space)).messages.toArray().map((m) => m.text));
	await dialRelay(bob, relay);
	await waitUntil(() => texts(bob).length === 3, 'bob reads the three messages from the relay', 20_000);
	const length = await logLength(bob);
	await bob.stop(); // saves its mirror
	await waitUntil(() => kept.get(`${relayId}\n${space}`)?.read === length, 'the mirror is kept with where bob stopped');

	/** Bob's device again, with the same stores; the positions it asks the relay's log from. */
	const restart = async () => {
		const peer = await startTeamPeer(ws, bobKey.key, 'bob', [], false, {}, stores);
		const asked: number[] = [];
		const want = peer.mesh.wantSealed.bind(peer.mesh);
		peer.mesh.wantSealed = (workspaceId, peerId, docId, from, timeoutMs) => (docId === space && asked.push(from), want(workspaceId, peerId, docId, from, timeoutMs));
		peer.gater.blocked.add(owner.node.peerId.toString());
		await dialRelay(peer, relay);
		return { peer, asked };
	};
	let again = await restart();
	bob = again.peer;
	// It checks the last envelope it read, then reads on from there: never from the start.
	await waitUntil(() => again.asked.length >= 2, 'bob reads the relay\'s log again', 20_000);
	expect(again.asked.slice(0, 2)).toEqual([length - 1, length]);
	expect(again.asked).not.toContain(0);
	expect(texts(bob)).toEqual(['one', 'two', 'three']);
	expect(await logLength(bob)).toBe(length); // and stored nothing again

	// A kept mirror whose last envelope is not the relay's (the relay lost or replaced its log) is forgotten.
	await bob.stop();
	const mirror = kept.get(`${relayId}\n${space}`)!;
	kept.set(`${relayId}\n${space}`, { ...mirror, last: new Uint8Array(32) });
	again = await restart();
	bob = again.peer;
	await waitUntil(() => again.asked.includes(0), 'bob reads the log from the start', 20_000);
	expect(again.asked[0]).toBe(length - 1);
	await waitUntil(() => bob.keyErrors.some((e) => /not the one this device read/.test(e.message)), 'the mismatch reported');
	expect(texts(bob)).toEqual(['one', 'two', 'three']);
}, 90_000);

it('a sealed update a member forged to leave more than 1 MiB pending is set aside by the reader, and the honest ones still arrive', async () => {
	const { relay, ws, owner, bob, space, relayId, logLength } = await spaceKeptByRelay();
	new ChannelDoc(owner.docs.get(space)).post(msg(newId(), owner.peerId, at(1, owner.peerId), 'honest'));
	await waitUntil(async () => (await logLength()) > 0, 'the relay keeps the honest message sealed', 20_000);
	// The modified client: a message whose struct waits for one its author never sends (1.2 MB).
	const forged = new Y.Doc();
	forged.clientID = 424_242;
	const messages = new ChannelDoc(forged);
	messages.post(msg(newId(), owner.peerId, at(2, owner.peerId), 'never sent'));
	const before = Y.encodeStateVector(forged);
	messages.post(msg(newId(), owner.peerId, at(3, owner.peerId), 'x'.repeat(1_200_000)));
	const orphan = Y.encodeStateAsUpdate(forged, before);
	const opened = openSpaceKeys(owner.authority.team, owner.key, owner.peerId).get(space)!;
	const stored = await logLength();
	expect(owner.mesh.putSealed(ws.id, relayId, space, [sealSpaceUpdate(opened.keys.get(opened.current!)!, opened.current!, space, orphan)])).toBe(true);
	new ChannelDoc(owner.docs.get(space)).post(msg(newId(), owner.peerId, at(4, owner.peerId), 'honest, after it'));
	await waitUntil(async () => (await logLength()) >= stored + 2, 'the relay keeps both');
	owner.gater.blocked.add(relayId);
	await owner.node.hangUp(relay.node.peerId);
	await dialRelay(bob, relay);
	const texts = () => (bob.docs.docs.get(space) === undefined ? [] : new ChannelDoc(bob.docs.get(space)).messages.toArray().map((m) => m.text));
	await waitUntil(() => texts().includes('honest, after it'), 'bob gets both honest messages', 20_000);
	expect(texts()).toContain('honest');
	expect(bob.keyErrors.some((e) => /does not apply cleanly/.test(e.message))).toBe(true);
	expect(pendingBytes(bob.docs.get(space))).toBe(0); // nothing of the forged update held
}, 60_000);

