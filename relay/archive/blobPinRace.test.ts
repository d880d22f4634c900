/**
 * Two member devices of a private space ask a relay outside it to keep the same sealed file
 * while its fetch still waits: found in review, the second PIN was answered END and not
 * recorded, so the first asker's UNPIN had the relay drop the file the second had asked to keep
 * (a member racing the author's PIN, then unpinning, dropped the author's file while his message
 * showed). Both are recorded now, and one's UNPIN leaves the other's pin. Also checked: an UNPIN
 * then a PIN while the first pin's fetch is under way (a message deleted and restored at once)
 * leaves the file kept. Real relay, database and libp2p nodes, set up as
 * relay/archive/blobUnpins.test.ts does.
 */
import '../../src/lib/mesh/polyfills.node.ts'; // before anything that loads libp2p
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { readBlob, storeBlob } from '../../src/lib/blob/BlobStore.ts';
import { manifestOf } from '../../src/lib/blob/blobManifest.ts';
import { newBlobKey, openBlob, sealBlob } from '../../src/lib/blob/blobSeal.ts';
import { ChannelDoc } from '../../src/lib/doc/ChannelDoc.ts';
import { newId } from '../../src/lib/doc/ids.ts';
import type { AttachmentRef } from '../../src/lib/doc/schema.ts';
import { newSpaceId } from '../../src/lib/doc/team/teamId.ts';
import { at, msg } from '../../tests/unit/doc/helpers.ts';
import { connect, stopPeers } from '../../tests/mesh/peers.ts';
import { randomBytes, stopBlobPeers, withBlobs, type BlobPeer } from '../../tests/mesh/blobPeers.ts';
import { createTeamWorkspace, invite, newKey, startJoiner, stopTeamPeers, type TeamPeer } from '../../tests/mesh/teamPeers.ts';
import { runRelay, type RunningRelay } from '../run.ts';
import { archiveAs, dialRelay, waitUntil } from '../teamFixture.ts';
import { useRelayDb } from './relayDb.ts';
import { SqliteBlobStore, SqliteSealedBlobIndex } from './SqliteBlobStore.ts';

let tmp: string;
const cleanups: (() => Promise<void>)[] = [];
let clock = 90_000;

beforeEach(async () => {
	tmp = await mkdtemp(join(tmpdir(), 'outpost-blob-unpins-'));
	await mkdir(join(tmp, 'build'), { recursive: true });
	await writeFile(join(tmp, 'build', 'index.html'), '<!doctype html><title>home</title>');
});

afterEach(async () => {
	await stopBlobPeers();
	await stopTeamPeers();
	await stopPeers();
	for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
	await rm(tmp, { recursive: true, force: true });
}, 15_000);

async function startRelay(): Promise<RunningRelay> {
	const relay = await runRelay({ root: join(tmp, 'build'), dataDir: join(tmp, 'data'), host: '127.0.0.1', port: 0, mdns: false, lanIps: [], log: () => undefined, quotas: {} });
	cleanups.push(() => relay.close());
	return relay;
}

/** The relay's database, read beside the running relay (it is shared). */
function relayDb() {
	const shared = useRelayDb(join(tmp, 'data'));
	cleanups.push(() => Promise.resolve(shared.release()));
	return shared.relayDb;
}

/** `peer` dials the relay and has a session with it in the workspace. */
async function onRelay(peer: TeamPeer, relay: RunningRelay, workspaceId: string): Promise<void> {
	await dialRelay(peer, relay);
	const relayPeer = relay.node.peerId.toString();
	await waitUntil(
		() => relay.archive.mesh.livePeers(workspaceId).includes(peer.peerId) && peer.mesh.livePeers(workspaceId).includes(relayPeer) && peer.authority.roleOf(relayPeer) === 'relay',
		'a session with the relay'
	);
}

/** A relay archiving a team: the owner, bob and mallory (members) in a private space the relay is not in. */
async function spaceOnRelay() {
	const relay = await startRelay();
	const { ws, owner } = await createTeamWorkspace((await newKey()).key);
	const bob = await startJoiner(ws, (await newKey()).key, 'bob', await invite(owner, 'member'));
	const mallory = await startJoiner(ws, (await newKey()).key, 'mallory', await invite(owner, 'member'));
	await connect(bob, owner);
	await connect(mallory, owner);
	await waitUntil(() => owner.authority.isMember(bob.peerId) && bob.authority.joined && owner.authority.isMember(mallory.peerId) && mallory.authority.joined, 'bob and mallory admitted');
	await archiveAs(owner, relay, ws);
	for (const peer of [owner, bob, mallory]) await onRelay(peer, relay, ws.id);
	const [ownerBlobs, bobBlobs, malloryBlobs] = [await withBlobs(owner), await withBlobs(bob), await withBlobs(mallory)];
	const { space, nonce } = newSpaceId(owner.authority.workspaceId, owner.peerId);
	await owner.authority.write({ t: 'space', space, nonce, kind: 'private', members: [owner.peerId, bob.peerId, mallory.peerId] });
	await waitUntil(
		() => relay.archive.authority(ws.id)?.spaceAccess(space) !== undefined && bob.authority.spaceAccess(space) !== undefined && mallory.authority.spaceAccess(space) !== undefined,
		'the relay and the members fold the space'
	);
	return { relay, ws, owner, bob, mallory, ownerBlobs, bobBlobs, malloryBlobs, space };
}

/** Fetches `blob` of `space` from the relay alone into `blobs`; the error when refused. */
async function fromRelay(blobs: BlobPeer, relay: RunningRelay, workspaceId: string, space: string, blob: string): Promise<unknown> {
	return blobs.blobs.service.fetch(workspaceId, blob, [relay.node.peerId.toString()], { docId: space }).then(
		() => undefined,
		(error: unknown) => error
	);
}


it('records every device that asked while the fetch waited; one device’s UNPIN leaves the other’s pin', async () => {
	const { relay, ws, owner, bob, mallory, ownerBlobs, bobBlobs, malloryBlobs, space } = await spaceOnRelay();
	const relayPeer = relay.node.peerId.toString();

	// Bob's message names a sealed file no device holds yet: the relay's fetch of it waits.
	const plain = randomBytes(300 * 1024);
	const key = newBlobKey();
	const sealed = await sealBlob(plain, key);
	const { id: blob } = await manifestOf(sealed);
	const ref: AttachmentRef = { blob, size: plain.length, mime: 'application/pdf', name: 'plan.pdf', key };
	new ChannelDoc(bob.docs.get(space)).post({ ...msg(newId(), bob.peerId, at(++clock, bob.peerId), ''), files: [ref] });
	await waitUntil(() => mallory.docs.docs.has(space) && new ChannelDoc(mallory.docs.get(space)).messages.length === 1, 'mallory gets the message');
	// Mallory asks first, then Bob (the author): both are taken while the fetch waits.
	expect(await malloryBlobs.blobs.service.pin(ws.id, relayPeer, space, blob)).toBe(true);
	expect(await bobBlobs.blobs.service.pin(ws.id, relayPeer, space, blob)).toBe(true);
	expect(relay.archive.blobs.pendingPins(ws.id)).toBe(1);

	// Bob's device gets the file; the relay's fetch, tried again, takes it.
	await storeBlob(bobBlobs.store, sealed);
	const index = new SqliteSealedBlobIndex(relayDb());
	await waitUntil(() => index.has(ws.id, blob, space), 'the relay to keep the sealed file', 30_000);
	expect(index.askers(ws.id, blob, space).sort()).toEqual([bob.peerId, mallory.peerId].sort());

	// Mallory unpins: her pin goes, Bob's keeps the file, still served to the space's members.
	expect(await malloryBlobs.blobs.service.unpin(ws.id, relayPeer, space, blob)).toBe(true);
	expect(await new SqliteBlobStore(relayDb(), ws.id).missing(blob)).toEqual([]);
	expect(await fromRelay(ownerBlobs, relay, ws.id, space, blob)).toBeUndefined();
	expect(Buffer.compare(await openBlob((await readBlob(ownerBlobs.store, blob))!, key), plain)).toBe(0);
}, 120_000);

it('keeps a file whose pin was asked again (UNPIN, then PIN) while its first fetch was under way', async () => {
	const { relay, ws, ownerBlobs, bob, bobBlobs, space } = await spaceOnRelay();
	const relayPeer = relay.node.peerId.toString();
	const plain = randomBytes(300 * 1024);
	const key = newBlobKey();
	const { id: blob } = await storeBlob(bobBlobs.store, await sealBlob(plain, key));
	const ref: AttachmentRef = { blob, size: plain.length, mime: 'application/pdf', name: 'plan.pdf', key };
	new ChannelDoc(bob.docs.get(space)).post({ ...msg(newId(), bob.peerId, at(++clock, bob.peerId), ''), files: [ref] });
	// Bob's device holds the relay's first fetch at its chunks until the test lets it go.
	const chunks = bobBlobs.store.chunks.bind(bobBlobs.store);
	let release = () => {};
	const gate = new Promise<void>((resolve) => (release = resolve));
	let asked = false;
	bobBlobs.store.chunks = async (id, indices) => {
		asked = true;
		await gate;
		return chunks(id, indices);
	};
	expect(await bobBlobs.blobs.service.pin(ws.id, relayPeer, space, blob)).toBe(true);
	await waitUntil(() => asked, 'the relay to ask for the chunks');
	// The message is deleted and restored while the fetch waits: UNPIN, then PIN again.
	expect(await bobBlobs.blobs.service.unpin(ws.id, relayPeer, space, blob)).toBe(true);
	expect(await bobBlobs.blobs.service.pin(ws.id, relayPeer, space, blob)).toBe(true);
	release();
	await waitUntil(() => relay.archive.blobs.pendingPins(ws.id) === 0, 'the relay to end its pins', 30_000);
	const index = new SqliteSealedBlobIndex(relayDb());
	expect(index.askers(ws.id, blob, space)).toEqual([bob.peerId]);
	expect(await fromRelay(ownerBlobs, relay, ws.id, space, blob)).toBeUndefined();
	expect(Buffer.compare(await openBlob((await readBlob(ownerBlobs.store, blob))!, key), plain)).toBe(0);
}, 120_000);
