/**
 * The relay pins the blobs of the workspaces it archives, within each workspace's blob quota:
 * a file a member posts is fetched by the relay as its message arrives, stored in the relay's
 * database, and served to a member who comes after the sender left; a file that would pass
 * the quota is not pinned, and the relay says so. A private channel's files, which the relay
 * cannot read, are kept sealed at a member's request and served to the channel's members only.
 * What the relay pins is judged by the manifest its id proves, not by the size a reference (or
 * a PIN, which says none) claims: a reference that understates its blob is not pinned, and a
 * sealed pin past the quota or the file policy is dropped.
 */
import { newSpaceId } from '../../src/lib/doc/team/teamId.ts';
import '../../src/lib/mesh/polyfills.node.ts'; // before anything that loads libp2p
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { readBlob, storeBlob } from '../../src/lib/blob/BlobStore.ts';
import { CHUNK_BYTES, chunkCount, encodeManifest } from '../../src/lib/blob/blobManifest.ts';
import { newBlobKey, openBlob, sealBlob, sealedSize } from '../../src/lib/blob/blobSeal.ts';
import { BlobDeniedError, BlobUnavailableError } from '../../src/lib/blob/blobService.ts';
import { ChannelDoc } from '../../src/lib/doc/ChannelDoc.ts';
import { newId } from '../../src/lib/doc/ids.ts';
import { at, msg } from '../../tests/unit/doc/helpers.ts';
import { connect, partition, stopPeers } from '../../tests/mesh/peers.ts';
import { postFile, randomBytes, stopBlobPeers, withBlobs, withRogueBlobs } from '../../tests/mesh/blobPeers.ts';
import { createTeamWorkspace, invite, listedDoc, newKey, startJoiner, stopTeamPeers } from '../../tests/mesh/teamPeers.ts';
import { runRelay, type RunningRelay } from '../run.ts';
import type { RelayQuotas } from '../cli.ts';
import { archiveAs, dialRelay, waitUntil } from '../teamFixture.ts';
import { useRelayDb } from './relayDb.ts';
import { SqliteBlobStore, SqliteSealedBlobIndex } from './SqliteBlobStore.ts';

/** What the relay's blob quota counts for a file of `size` bytes: its chunks and its manifest. */
function counted(size: number): number {
	const hashes = Array.from({ length: chunkCount(size, CHUNK_BYTES) }, () => new Uint8Array(32));
	return size + encodeManifest({ size, chunkBytes: CHUNK_BYTES, hashes }).byteLength;
}

let tmp: string;
const cleanups: (() => Promise<void>)[] = [];

beforeEach(async () => {
	tmp = await mkdtemp(join(tmpdir(), 'outpost-blob-pins-'));
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

async function startRelay(log: string[] = [], quotas: RelayQuotas = {}): Promise<RunningRelay> {
	const relay = await runRelay({ root: join(tmp, 'build'), dataDir: join(tmp, 'data'), host: '127.0.0.1', port: 0, mdns: false, lanIps: [], log: (line) => log.push(line), quotas });
	let closed = false;
	cleanups.push(async () => {
		if (!closed) await relay.close();
		closed = true;
	});
	return relay;
}

/** A relay archiving a team of two (the owner and bob), the owner dialled to the relay. */
async function teamOnRelay(log: string[], quotas: RelayQuotas) {
	const relay = await startRelay(log, quotas);
	const { ws, owner } = await createTeamWorkspace((await newKey()).key);
	const bob = await startJoiner(ws, (await newKey()).key, 'bob', await invite(owner, 'member'));
	await connect(bob, owner);
	await waitUntil(() => owner.authority.isMember(bob.peerId) && bob.authority.joined, 'bob admitted');
	await archiveAs(owner, relay, ws);
	await dialRelay(owner, relay);
	await waitUntil(() => relay.archive.mesh.livePeers(ws.id).includes(owner.peerId), 'a session with the relay');
	return { relay, ws, owner, bob };
}

/** {@link teamOnRelay}, both with the blob mesh. */
async function archivedTeam(log: string[], quotas: RelayQuotas = {}) {
	const team = await teamOnRelay(log, quotas);
	return { ...team, ownerBlobs: await withBlobs(team.owner), bobBlobs: await withBlobs(team.bob) };
}

/**
 * {@link teamOnRelay} where bob runs a modified client (it serves whatever it holds to anyone:
 * tests/mesh/blobPeers.ts) and has a session with the relay too.
 */
async function archivedTeamWithRogue(log: string[], quotas: RelayQuotas) {
	const team = await teamOnRelay(log, quotas);
	const { relay, ws, bob } = team;
	await dialRelay(bob, relay);
	await waitUntil(() => relay.archive.mesh.livePeers(ws.id).includes(bob.peerId), 'bob’s session with the relay');
	return { ...team, ownerBlobs: await withBlobs(team.owner), rogue: await withRogueBlobs(bob) };
}

it('pins a posted file and serves it to a member after the sender left', async () => {
	const { relay, ws, owner, bob, ownerBlobs, bobBlobs } = await archivedTeam([]);
	const channel = listedDoc(owner, ws.id);
	const bytes = randomBytes(3 * 1024 * 1024);
	const ref = await postFile(owner, ownerBlobs, channel, bytes, 'survey.bin');
	const pinned = relayStore(ws.id);
	await waitUntil(async () => (await pinned.missing(ref.blob))?.length === 0, 'the relay to pin the file', 20_000);
	expect(relayStore(ws.id).bytes).toBe(counted(bytes.length)); // counted afresh from the database
	await waitUntil(() => bob.docs.docs.has(channel), 'bob to get the channel');

	// The sender leaves; bob meets the relay alone.
	await partition(owner, bob);
	await owner.node.hangUp(relay.node.peerId);
	await dialRelay(bob, relay);
	await waitUntil(() => relay.archive.mesh.livePeers(ws.id).includes(bob.peerId), 'bob’s session with the relay');
	await bobBlobs.blobs.service.fetch(ws.id, ref.blob, [owner.peerId, relay.node.peerId.toString()], { docId: channel });
	expect(Buffer.compare((await readBlob(bobBlobs.store, ref.blob))!, bytes)).toBe(0);
}, 60_000);

it('pins nothing past a workspace’s blob quota, and says so', async () => {
	const log: string[] = [];
	const { ws, owner, ownerBlobs } = await archivedTeam(log, { workspaceBlobBytes: 1024 * 1024 });
	const channel = listedDoc(owner, ws.id);
	const big = await postFile(owner, ownerBlobs, channel, randomBytes(1536 * 1024), 'big.bin');
	const small = await postFile(owner, ownerBlobs, channel, randomBytes(600 * 1024), 'small.bin');
	const pinned = relayStore(ws.id);
	await waitUntil(async () => (await pinned.missing(small.blob))?.length === 0, 'the relay to pin the small file', 20_000);
	expect(log.some((line) => line.includes(big.blob) && line.includes('quota'))).toBe(true);
	expect(await pinned.chunk(big.blob, 0)).toBeUndefined();
	expect(relayStore(ws.id).bytes).toBe(counted(600 * 1024));
}, 60_000);

it('pins nothing past what the relay stores in all, though the workspace’s own blob quota has room, and says so', async () => {
	const log: string[] = [];
	const { ws, owner, ownerBlobs } = await archivedTeam(log, { relayBytes: 2 * 1024 * 1024 });
	const channel = listedDoc(owner, ws.id);
	const big = await postFile(owner, ownerBlobs, channel, randomBytes(3 * 1024 * 1024), 'big.bin');
	const small = await postFile(owner, ownerBlobs, channel, randomBytes(600 * 1024), 'small.bin');
	const pinned = relayStore(ws.id);
	await waitUntil(async () => (await pinned.missing(small.blob))?.length === 0, 'the relay to pin the small file', 20_000);
	expect(log.some((line) => line.includes(big.blob) && line.includes('--relay-bytes'))).toBe(true);
	expect(await pinned.chunk(big.blob, 0)).toBeUndefined();
	expect(relayStore(ws.id).bytes).toBe(counted(600 * 1024));
}, 60_000);

/** The relay's blob store of a workspace, read beside the running relay (the database is shared). */
function relayStore(workspaceId: string): SqliteBlobStore {
	const { relayDb, release } = useRelayDb(join(tmp, 'data'));
	cleanups.push(() => Promise.resolve(release()));
	return new SqliteBlobStore(relayDb, workspaceId);
}

it('keeps a private channel’s files sealed for its members, at a member’s request, and serves them to those members only', async () => {
	const log: string[] = [];
	const { relay, ws, owner, bob, ownerBlobs, bobBlobs } = await archivedTeam(log);
	const mallory = await startJoiner(ws, (await newKey()).key, 'mallory', await invite(owner, 'member'));
	await connect(mallory, owner);
	await waitUntil(() => owner.authority.isMember(mallory.peerId) && mallory.authority.joined, 'mallory admitted');
	const malloryBlobs = await withBlobs(mallory);
	const { space, nonce } = newSpaceId(owner.authority.workspaceId, owner.peerId);
	await owner.authority.write({ t: 'space', space, nonce, kind: 'private', members: [owner.peerId, bob.peerId] });
	await waitUntil(() => relay.archive.authority(ws.id)?.spaceAccess(space) !== undefined, 'the relay folds the space');

	// The owner posts a sealed file in the private channel and asks the relays to keep it.
	const plain = randomBytes(700 * 1024);
	const key = newBlobKey();
	const { id: blob } = await storeBlob(ownerBlobs.store, await sealBlob(plain, key));
	new ChannelDoc(owner.docs.get(space)).post({ ...msg(newId(), owner.peerId, at(1, owner.peerId), ''), files: [{ blob, size: plain.length, mime: 'application/pdf', name: 'plan.pdf', key }] });
	expect(await ownerBlobs.blobs.pinOnRelays(ws.id, space, [blob])).toBe(1);
	const kept = relayStore(ws.id);
	await waitUntil(async () => (await kept.missing(blob))?.length === 0, 'the relay to keep the sealed file', 20_000);
	// What the relay holds is ciphertext: no piece of the file appears in it.
	const first = (await kept.chunk(blob, 0))!;
	expect(first.byteLength).toBe(256 * 1024);
	expect(Buffer.from(first).includes(Buffer.from(plain.subarray(0, 64)))).toBe(false);

	// The owner leaves; bob gets the file from the relay alone and opens it; mallory (not in the channel) is refused.
	await waitUntil(() => bob.docs.docs.has(space), 'bob to get the private channel');
	await partition(owner, bob);
	await owner.node.hangUp(relay.node.peerId);
	await dialRelay(bob, relay);
	await dialRelay(mallory, relay);
	await waitUntil(() => relay.archive.mesh.livePeers(ws.id).includes(bob.peerId) && relay.archive.mesh.livePeers(ws.id).includes(mallory.peerId), 'sessions with the relay');
	await bobBlobs.blobs.service.fetch(ws.id, blob, [relay.node.peerId.toString()], { docId: space });
	expect(Buffer.compare(await openBlob((await readBlob(bobBlobs.store, blob))!, key), plain)).toBe(0);
	const refused = await malloryBlobs.blobs.service.fetch(ws.id, blob, [relay.node.peerId.toString()], { docId: space }).then(
		() => undefined,
		(error: unknown) => error
	);
	expect(refused).toBeInstanceOf(BlobUnavailableError);
	expect((refused as BlobUnavailableError).failures[0]!.error).toBeInstanceOf(BlobDeniedError);
	// A PIN from a member outside the space is refused too.
	expect(await malloryBlobs.blobs.service.pin(ws.id, relay.node.peerId.toString(), space, 'ab'.repeat(32))).toBe(false);
	// A member's PIN of a blob nobody in the space holds is taken, but the relay records nothing it could not fetch.
	const made = 'cd'.repeat(32);
	expect(await bobBlobs.blobs.service.pin(ws.id, relay.node.peerId.toString(), space, made)).toBe(true);
	const shared = useRelayDb(join(tmp, 'data'));
	cleanups.push(() => Promise.resolve(shared.release()));
	const index = new SqliteSealedBlobIndex(shared.relayDb);
	await waitUntil(() => log.some((line) => line.includes(made)) || relay.archive.blobs.pendingPins(ws.id) > 0, 'the relay to try the pin');
	await new Promise((resolve) => setTimeout(resolve, 1_500)); // its first fetch fails: no peer holds it
	expect(index.has(ws.id, made, space)).toBe(false);
	expect(index.has(ws.id, blob, space)).toBe(true);
}, 90_000);

it('pins no blob whose reference understates its size, whatever the quota says of the claim; an honest file still', async () => {
	const log: string[] = [];
	const { ws, owner, bob, ownerBlobs, rogue } = await archivedTeamWithRogue(log, { workspaceBlobBytes: 1024 * 1024 });
	const channel = listedDoc(owner, ws.id);
	const { id } = await storeBlob(rogue.store, randomBytes(3 * 1024 * 1024));
	new ChannelDoc(bob.docs.get(channel)).post({ ...msg(newId(), bob.peerId, at(7000, bob.peerId), ''), files: [{ blob: id, size: 1, mime: 'application/octet-stream', name: 'tiny.bin' }] });
	await waitUntil(() => log.some((line) => line.includes(id) && line.includes('not the size its reference says')), 'the relay to drop the pin', 20_000);
	expect(relayStore(ws.id).bytes).toBe(0);
	expect(await relayStore(ws.id).manifest(id)).toBeUndefined();
	const honest = await postFile(owner, ownerBlobs, channel, randomBytes(600 * 1024), 'small.bin');
	const pinned = relayStore(ws.id);
	await waitUntil(async () => (await pinned.missing(honest.blob))?.length === 0, 'the relay to pin the honest file', 20_000);
	expect(relayStore(ws.id).bytes).toBe(counted(600 * 1024));
}, 60_000);

it('judges a sealed pin by its manifest: past the quota or the file policy it is dropped; one within both is kept', async () => {
	const log: string[] = [];
	const { relay, ws, owner, bob, rogue } = await archivedTeamWithRogue(log, { workspaceBlobBytes: 1024 * 1024 });
	const { space, nonce } = newSpaceId(owner.authority.workspaceId, owner.peerId);
	await owner.authority.write({ t: 'space', space, nonce, kind: 'private', members: [owner.peerId, bob.peerId] });
	await waitUntil(() => relay.archive.authority(ws.id)?.spaceAccess(space) !== undefined && bob.authority.spaceAccess(space) !== undefined, 'the relay and bob fold the space');
	const relayPeer = relay.node.peerId.toString();
	const sealed = async (size: number) => (await storeBlob(rogue.store, await sealBlob(randomBytes(size), newBlobKey()))).id;
	const dropped = (id: string, why: string) => waitUntil(() => log.some((line) => line.includes(id) && line.includes(why)), `the relay to drop ${id}`, 20_000);

	// An honest-looking 3 MB file in the space: the PIN is taken (its size is not known yet), the fetch refused at its manifest.
	const big = await sealed(3 * 1024 * 1024);
	expect(await rogue.service.pin(ws.id, relayPeer, space, big)).toBe(true);
	await dropped(big, 'quota');
	expect(relayStore(ws.id).bytes).toBe(0);

	// Within the quota, but larger than the file policy allows.
	await owner.authority.write({ t: 'file-policy', maxBytes: 200 * 1024, autoFetchBytes: 0, blocked: [] });
	await waitUntil(() => relay.archive.authority(ws.id)?.team.filePolicy?.maxBytes === 200 * 1024, 'the relay folds the policy');
	const large = await sealed(500 * 1024);
	expect(await rogue.service.pin(ws.id, relayPeer, space, large)).toBe(true);
	await dropped(large, 'file policy');
	expect(relayStore(ws.id).bytes).toBe(0);

	// Within both: kept.
	const small = await sealed(100 * 1024);
	expect(await rogue.service.pin(ws.id, relayPeer, space, small)).toBe(true);
	const kept = relayStore(ws.id);
	await waitUntil(async () => (await kept.missing(small))?.length === 0, 'the relay to keep the small file', 20_000);
	expect(relayStore(ws.id).bytes).toBe(counted(sealedSize(100 * 1024)));
	// The pin leaves the queue once its fetch returns, a moment after its last chunk is stored.
	await waitUntil(() => relay.archive.blobs.pendingPins(ws.id) === 0, 'the pin to leave the queue');
}, 90_000);
