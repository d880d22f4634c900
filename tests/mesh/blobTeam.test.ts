/**
 * Blobs under the team's rule, with real libp2p nodes running the workspace core and the blob
 * mesh every replica runs (core/blobMesh.ts): a member fetches a file a channel references; a
 * GET naming a document that does not reference the blob is refused; a member removed from a
 * private channel cannot fetch its blobs (old or new), even naming another document; a
 * replica that pins (as the relay does) fetches a file as soon as its message arrives and
 * serves it after its sender has left; a second tab of a member (a throwaway node key and its
 * device's delegation) fetches as its device does, until the device is removed. A reference
 * whose size understates its blob (a modified client) is neither fetched by a device, pinned,
 * nor served under it.
 */
import { newSpaceId } from '../../src/lib/doc/team/teamId.js';
import '../../src/lib/mesh/polyfills.node.js';
import { afterEach, describe, expect, it } from 'vitest';
import { BlobDenied } from '../../src/lib/blob/blobMessages.js';
import { BlobDeniedError, BlobRefusedError, BlobUnavailableError } from '../../src/lib/blob/blobService.js';
import { readBlob, storeBlob } from '../../src/lib/blob/BlobStore.js';
import { MAX_SEALED_PINS_PER_ASKER } from '../../src/lib/core/blobMesh.js';
import { DeviceBlobs } from '../../src/lib/core/deviceBlobs.js';
import type { AttachmentRef } from '../../src/lib/doc/schema.js';
import { ChannelDoc } from '../../src/lib/doc/ChannelDoc.js';
import { at, msg } from '../unit/doc/helpers.js';
import { newId } from '../../src/lib/doc/ids.js';
import { postFile, randomBytes, stopBlobPeers, withBlobs, withRogueBlobs } from './blobPeers.js';
import { waitFor } from './helpers.js';
import { connect, partition, stopPeers } from './peers.js';
import { has, listedDoc, post, startTeamPeer, stopTeamPeers, teamOfThree } from './teamPeers.js';

afterEach(async () => {
	await stopBlobPeers();
	await stopTeamPeers();
	await stopPeers();
});

async function refusal(fetching: Promise<unknown>): Promise<unknown> {
	const error = await fetching.then(() => undefined, (e: unknown) => e);
	expect(error).toBeInstanceOf(BlobUnavailableError);
	return (error as BlobUnavailableError).failures[0]?.error;
}

describe('blobs under the team', () => {
	it('a member fetches a file its channel references; naming a document that does not reference it is refused', async () => {
		const { ws, owner, bob } = await teamOfThree();
		const [ownerBlobs, bobBlobs] = [await withBlobs(owner), await withBlobs(bob)];
		const channel = listedDoc(owner, ws.id);
		const bytes = randomBytes(1_000_000);
		const ref = await postFile(owner, ownerBlobs, channel, bytes, 'report.bin');
		post(owner, channel, 'sent');
		await waitFor(() => has(bob, channel, 'sent'), 'bob gets the message');

		const other = listedDoc(owner, ws.id);
		post(owner, other, 'listed');
		await waitFor(() => has(bob, other, 'listed'), 'bob gets the other document');
		const denied = await refusal(bobBlobs.blobs.service.fetch(ws.id, ref.blob, [owner.peerId], { docId: other }));
		expect(denied).toBeInstanceOf(BlobDeniedError);
		expect((denied as BlobDeniedError).reason).toBe(BlobDenied.notAllowed);

		await bobBlobs.blobs.service.fetch(ws.id, ref.blob, [owner.peerId], { docId: channel });
		expect(Buffer.compare((await readBlob(bobBlobs.store, ref.blob))!, bytes)).toBe(0);
	}, 60_000);

	it('a member removed from a private channel cannot fetch its files, old or new, naming any document', async () => {
		const { ws, owner, mallory, bob } = await teamOfThree();
		const [ownerBlobs, malloryBlobs] = [await withBlobs(owner), await withBlobs(mallory)];
		await withBlobs(bob);
		const { space, nonce } = newSpaceId(owner.authority.workspaceId, owner.peerId);
		await owner.authority.write({ t: 'space', space, nonce, kind: 'private', members: [owner.peerId, mallory.peerId, bob.peerId] });
		const before = await postFile(owner, ownerBlobs, space, randomBytes(300_000), 'before.bin');
		post(owner, space, 'first');
		await waitFor(() => has(mallory, space, 'first'), 'mallory gets the private channel');
		// While in it she may fetch (the same device, the same rule).
		await malloryBlobs.blobs.service.fetch(ws.id, before.blob, [owner.peerId], { docId: space });

		await owner.authority.write({ t: 'space-members', space, add: [], remove: [mallory.peerId] });
		await waitFor(() => owner.authority.spaceAccess(space)?.reads(mallory.peerId) === false, 'the removal folded on the owner');
		const after = await postFile(owner, ownerBlobs, space, randomBytes(300_000), 'after.bin', true);
		// A modified client that knows the ids: the space's document, or a public one, or the blob she had.
		const publicDoc = listedDoc(owner, ws.id);
		post(owner, publicDoc, 'public');
		await waitFor(() => has(mallory, publicDoc, 'public'), 'mallory still gets public documents');
		for (const [blob, docId] of [
			[after.blob, space],
			[after.blob, publicDoc]
		] as const) {
			const denied = await refusal(malloryBlobs.blobs.service.fetch(ws.id, blob, [owner.peerId], { docId }));
			expect(denied).toBeInstanceOf(BlobDeniedError);
			expect((denied as BlobDeniedError).reason).toBe(BlobDenied.notAllowed);
		}
		expect(await malloryBlobs.store.manifest(after.blob)).toBeUndefined();
		// She copies the new file's reference (seen before her removal, or leaked) into the public
		// channel, which she may write: a sealed file is a space's, and naming the public copy opens nothing.
		new ChannelDoc(mallory.docs.get(publicDoc)).post({ ...msg(newId(), mallory.peerId, at(99_999, mallory.peerId), ''), files: [after] });
		await waitFor(() => new ChannelDoc(owner.docs.get(publicDoc)).messages.toArray().some((m) => m.files?.[0]?.blob === after.blob), 'the owner holds her copy of the reference');
		const copied = await refusal(malloryBlobs.blobs.service.fetch(ws.id, after.blob, [owner.peerId], { docId: publicDoc }));
		expect((copied as BlobDeniedError).reason).toBe(BlobDenied.notAllowed);
		expect(await ownerBlobs.blobs.mayRead(ws.id, bob.peerId, after.blob, publicDoc)).toBe(false);
		// What her device holds cannot be recalled; the owner no longer serves it to her.
		expect(await ownerBlobs.blobs.mayRead(ws.id, mallory.peerId, before.blob, space)).toBe(false);
		expect(await ownerBlobs.blobs.mayRead(ws.id, bob.peerId, before.blob, space)).toBe(true);
	}, 60_000);

	it('a pinning replica fetches a file as its message arrives and serves it once the sender has left', async () => {
		const { ws, owner, mallory, bob } = await teamOfThree();
		// Bob pins everything, as the relay does.
		const [ownerBlobs, bobBlobs, malloryBlobs] = [await withBlobs(owner), await withBlobs(bob, true), await withBlobs(mallory)];
		const channel = listedDoc(owner, ws.id);
		const bytes = randomBytes(5 * 1024 * 1024);
		const ref = await postFile(owner, ownerBlobs, channel, bytes, 'photo.bin');
		post(owner, channel, 'sent');
		await waitFor(() => bobBlobs.store.bytesHeld === bytes.length, 'bob pinned the file', 30_000);
		expect(bobBlobs.blobs.pendingPins(ws.id)).toBe(0);
		await waitFor(() => has(mallory, channel, 'sent'), 'mallory gets the message');
		// The sender leaves.
		await partition(owner, bob);
		await partition(owner, mallory);

		await malloryBlobs.blobs.service.fetch(ws.id, ref.blob, [owner.peerId, bob.peerId], { docId: channel });
		expect(Buffer.compare((await readBlob(malloryBlobs.store, ref.blob))!, bytes)).toBe(0);
	}, 60_000);
	it('a file the workspace’s policy forbids is neither pinned nor served, even when a modified client attaches it', async () => {
		const { ws, owner, mallory, bob } = await teamOfThree();
		await owner.authority.write({ t: 'file-policy', maxBytes: 1024 * 1024, autoFetchBytes: 0, blocked: ['.exe'] });
		await waitFor(() => bob.authority.team.filePolicy !== undefined && mallory.authority.team.filePolicy !== undefined, 'the policy folded');
		const [malloryBlobs, bobBlobs, ownerBlobs] = [await withBlobs(mallory), await withBlobs(bob, true), await withBlobs(owner)];
		const channel = listedDoc(owner, ws.id);
		const exe = randomBytes(200_000);
		const blocked = await postFile(mallory, malloryBlobs, channel, exe, 'setup.exe');
		const large = await postFile(mallory, malloryBlobs, channel, randomBytes(1024 * 1024 + 1), 'big.bin');
		const fine = await postFile(mallory, malloryBlobs, channel, randomBytes(200_000), 'notes.txt');
		post(mallory, channel, 'sent');
		await waitFor(() => bobBlobs.store.bytesHeld === 200_000, 'bob pins the allowed file', 20_000);
		await waitFor(() => has(owner, channel, 'sent'), 'the owner gets the messages');
		expect(await bobBlobs.store.manifest(blocked.blob)).toBeUndefined();
		expect(await bobBlobs.store.manifest(large.blob)).toBeUndefined();
		expect(await bobBlobs.store.missing(fine.blob)).toEqual([]);
		// Mallory's own (honest) device does not serve it either; the owner got the bytes some other way: it serves them to nobody.
		const fromMallory = await refusal(ownerBlobs.blobs.service.fetch(ws.id, blocked.blob, [mallory.peerId], { docId: channel }));
		expect((fromMallory as BlobDeniedError).reason).toBe(BlobDenied.notAllowed);
		await storeBlob(ownerBlobs.store, exe);
		const denied = await refusal(bobBlobs.blobs.service.fetch(ws.id, blocked.blob, [owner.peerId], { docId: channel }));
		expect((denied as BlobDeniedError).reason).toBe(BlobDenied.notAllowed);
	}, 60_000);

	it('a reference that understates its blob’s size is neither fetched nor pinned; an honest one still is', async () => {
		const { ws, owner, mallory, bob } = await teamOfThree();
		await owner.authority.write({ t: 'file-policy', maxBytes: 1024 * 1024, autoFetchBytes: 64 * 1024, blocked: [] });
		await waitFor(() => bob.authority.team.filePolicy !== undefined && mallory.authority.team.filePolicy !== undefined, 'the policy folded');
		const errors: string[] = [];
		// Mallory's modified client serves what it holds to anyone.
		const [malloryBlobs, bobBlobs, ownerBlobs] = [await withRogueBlobs(mallory), await withBlobs(bob, true, { onError: (e) => errors.push(e.message) }), await withBlobs(owner)];
		const channel = listedDoc(owner, ws.id);
		const { id } = await storeBlob(malloryBlobs.store, randomBytes(3 * 1024 * 1024));
		// A 3 MB blob as an "image" of 1,000 bytes (under the policy, and fetched at once).
		const lie: AttachmentRef = { blob: id, size: 1000, mime: 'image/png', name: 'cat.png' };
		new ChannelDoc(mallory.docs.get(channel)).post({ ...msg(newId(), mallory.peerId, at(5000, mallory.peerId), ''), files: [lie] });
		post(mallory, channel, 'sent');
		await waitFor(() => has(owner, channel, 'sent'), 'the message arrives');
		// The owner's view fetches it as the app does (DeviceBlobs): refused, nothing stored.
		const device = new DeviceBlobs(() => ownerBlobs.store);
		device.attach({ service: ownerBlobs.blobs.service, livePeers: () => [mallory.peerId] });
		const fetchAsView = (ref: AttachmentRef) => device.access(ws.id).fetch(channel, ref, () => {}, new AbortController().signal);
		const refused = await fetchAsView(lie).catch((error: unknown) => error);
		expect(refused).toBeInstanceOf(BlobRefusedError);
		expect((refused as Error).message).toContain('the file is not the size its reference says');
		expect(await ownerBlobs.store.manifest(id)).toBeUndefined();
		// Bob, pinning as the relay does, drops it at the first refusal (not after its tries).
		await waitFor(() => errors.some((e) => e.includes(id) && e.includes('not the size its reference says')), 'bob drops the pin', 20_000);
		expect(errors.filter((e) => e.includes(id))).toEqual([expect.stringContaining(`blob ${id} not pinned: the file is not the size its reference says`)]);
		expect(bobBlobs.store.bytesHeld).toBe(0);
		expect(bobBlobs.blobs.pendingPins(ws.id)).toBe(0);
		// An honest file is still pinned and fetched.
		const honest = await postFile(mallory, { store: malloryBlobs.store }, channel, randomBytes(600_000), 'fine.bin');
		await waitFor(() => bobBlobs.store.bytesHeld === 600_000, 'bob pins the honest file', 20_000);
		await waitFor(() => owner.docs.docs.has(channel), 'the owner has the channel');
		await fetchAsView(honest);
		expect(await ownerBlobs.store.missing(honest.blob)).toEqual([]);
	}, 60_000);

	it('a replica holding a blob does not serve it under a reference whose size it contradicts', async () => {
		const { ws, owner, mallory, bob } = await teamOfThree();
		const [ownerBlobs, bobBlobs] = [await withBlobs(owner), await withBlobs(bob), await withBlobs(mallory)];
		const channel = listedDoc(owner, ws.id);
		const honest = await postFile(owner, ownerBlobs, channel, randomBytes(2 * 1024 * 1024), 'plan.bin');
		post(owner, channel, 'sent');
		// Mallory names the same blob in another document, saying 1,000 bytes.
		const other = listedDoc(owner, ws.id);
		post(owner, other, 'listed');
		await waitFor(() => has(mallory, other, 'listed'), 'mallory gets the other document');
		new ChannelDoc(mallory.docs.get(other)).post({ ...msg(newId(), mallory.peerId, at(6000, mallory.peerId), ''), files: [{ ...honest, size: 1000 }] });
		post(mallory, other, 'lie');
		await waitFor(() => has(owner, other, 'lie') && has(bob, channel, 'sent'), 'the messages arrive');
		// Bob asks without checking the size (an older client): refused under the lie, served under the honest reference.
		const denied = await refusal(bobBlobs.blobs.service.fetch(ws.id, honest.blob, [owner.peerId], { docId: other }));
		expect(denied).toBeInstanceOf(BlobDeniedError);
		expect((denied as BlobDeniedError).reason).toBe(BlobDenied.notAllowed);
		expect(await ownerBlobs.blobs.mayRead(ws.id, bob.peerId, honest.blob, other)).toBe(false);
		await bobBlobs.blobs.service.fetch(ws.id, honest.blob, [owner.peerId], { docId: channel });
		expect(await bobBlobs.store.missing(honest.blob)).toEqual([]);
	}, 60_000);

	it('a member asking to keep sealed files gets at most its share of the queue; the others still get theirs', async () => {
		const { ws, owner, mallory, bob } = await teamOfThree();
		const kept = new Set<string>();
		const index = { has: (w: string, b: string, d: string) => kept.has(`${w}/${b}/${d}`), add: (w: string, b: string, d: string) => void kept.add(`${w}/${b}/${d}`) };
		// Bob keeps sealed files of spaces he is not in, as a relay does (fetching them takes the relay's role:
		// relay/archive/blobPins.test.ts); the space is the owner's and mallory's.
		const [ownerBlobs, malloryBlobs, bobBlobs] = [await withBlobs(owner), await withBlobs(mallory), await withBlobs(bob, true, { sealedIndex: index })];
		const { space, nonce } = newSpaceId(owner.authority.workspaceId, owner.peerId);
		await owner.authority.write({ t: 'space', space, nonce, kind: 'private', members: [owner.peerId, mallory.peerId] });
		await waitFor(() => bob.authority.spaceAccess(space)?.reads(mallory.peerId) === true, 'bob folds the space');
		// Mallory, in the space, asks bob to keep files nobody has, again and again (a modified client).
		const made = Array.from({ length: MAX_SEALED_PINS_PER_ASKER + 6 }, (_, i) => i.toString(16).padStart(64, '0'));
		const taken: boolean[] = [];
		for (const id of made) taken.push(await malloryBlobs.blobs.service.pin(ws.id, bob.peerId, space, id));
		expect(taken.filter(Boolean)).toHaveLength(MAX_SEALED_PINS_PER_ASKER);
		expect(taken.slice(MAX_SEALED_PINS_PER_ASKER)).toEqual([false, false, false, false, false, false]);
		// The owner's sealed file is still taken (bob waits to fetch it).
		const { id: blob } = await storeBlob(ownerBlobs.store, randomBytes(300_000));
		expect(await ownerBlobs.blobs.service.pin(ws.id, bob.peerId, space, blob)).toBe(true);
		// Waiting: mallory's 64 and the owner's one; her refused six were never queued.
		expect(bobBlobs.blobs.pendingPins(ws.id)).toBe(MAX_SEALED_PINS_PER_ASKER + 1);
	}, 60_000);

	it('a full pin queue makes room by dropping the longest-failing pin, so a real file is still pinned', async () => {
		const { ws, owner, bob } = await teamOfThree();
		const errors: string[] = [];
		const [ownerBlobs, bobBlobs] = [await withBlobs(owner), await withBlobs(bob, true, { maxPendingPins: 4, onError: (e) => errors.push(e.message) })];
		const channel = listedDoc(owner, ws.id);
		// Four references to files nobody holds fill bob's queue, and fail.
		for (let i = 0; i < 4; i++) {
			new ChannelDoc(owner.docs.get(channel)).post({ ...msg(newId(), owner.peerId, at(100 + i, owner.peerId), ''), files: [{ blob: `${i}`.padStart(64, 'e'), size: 10, mime: 'application/octet-stream', name: `gone${i}` }] });
		}
		await waitFor(() => bobBlobs.blobs.pendingPins(ws.id) === 4 && errors.length === 0, 'the four waiting');
		await waitFor(() => bobBlobs.blobs.failedPins(ws.id) === 4, 'each failed once');
		const bytes = randomBytes(200_000);
		const ref = await postFile(owner, ownerBlobs, channel, bytes, 'real.bin');
		await waitFor(() => bobBlobs.store.bytesHeld === bytes.length, 'bob pinned the real file', 20_000);
		expect(Buffer.compare((await readBlob(bobBlobs.store, ref.blob))!, bytes)).toBe(0);
		expect(errors.some((e) => e.includes('no longer waits to be pinned'))).toBe(true);
	}, 60_000);

	it('a second tab of a member fetches a file as its device does, until the device is removed', async () => {
		const { ws, owner, bob } = await teamOfThree();
		const tab = await startTeamPeer(ws, bob.key, 'bob-tab', [], true);
		const tabId = tab.node.peerId.toString();
		await connect(tab, owner);
		const [ownerBlobs, tabBlobs] = [await withBlobs(owner), await withBlobs(tab)];
		const channel = listedDoc(owner, ws.id);
		const bytes = randomBytes(600_000);
		const ref = await postFile(owner, ownerBlobs, channel, bytes, 'for-the-tab.bin');
		post(owner, channel, 'sent');
		await waitFor(() => has(tab, channel, 'sent'), 'the tab gets the message');

		await tabBlobs.blobs.service.fetch(ws.id, ref.blob, [owner.peerId], { docId: channel });
		expect(Buffer.compare((await readBlob(tabBlobs.store, ref.blob))!, bytes)).toBe(0);

		// Its device removed, the tab's delegation admits nothing.
		await owner.authority.write({ t: 'remove', member: bob.peerId });
		await waitFor(() => !owner.authority.isMember(bob.peerId), 'the removal folded on the owner');
		expect(await ownerBlobs.blobs.mayRead(ws.id, tabId, ref.blob, channel)).toBe(false);
	}, 60_000);
});
