/**
 * A relay outside a private space keeps the space's sealed files at a member's request (PIN),
 * and cannot read the space's deletion or moderation marks. Found in review: once the author
 * deleted the message (or an admin hid it), the relay went on serving the sealed file to the
 * space's members. Now the author's device (or the admin's) asks the relay to drop it (UNPIN):
 * the relay drops it when the asker pinned it there or is an admin's device in the space, and
 * refuses a member who did not pin it and a stranger, dropping nothing. Real libp2p nodes and
 * the relay's database (relay/archive/sealedSpaceKit.ts).
 */
import '../../src/lib/mesh/polyfills.node.ts'; // before anything that loads libp2p
import { expect, it } from 'vitest';
import { readBlob, storeBlob } from '../../src/lib/blob/BlobStore.ts';
import { newBlobKey, openBlob, sealBlob } from '../../src/lib/blob/blobSeal.ts';
import { BlobDeniedError, BlobUnavailableError } from '../../src/lib/blob/blobService.ts';
import { ChannelDoc } from '../../src/lib/doc/ChannelDoc.ts';
import { newId } from '../../src/lib/doc/ids.ts';
import type { AttachmentRef } from '../../src/lib/doc/schema.ts';
import { signDeletionMark, signModerationMark } from '../../src/lib/doc/signature.ts';
import { at, msg } from '../../tests/unit/doc/helpers.ts';
import { randomBytes, withBlobs } from '../../tests/mesh/blobPeers.ts';
import { createTeamWorkspace, newKey } from '../../tests/mesh/teamPeers.ts';
import { dialRelay, waitUntil } from '../teamFixture.ts';
import { sealedSpaceKit } from './sealedSpaceKit.ts';
import { SqliteBlobStore, SqliteSealedBlobIndex } from './SqliteBlobStore.ts';

const { relayDb, spaceOnRelay, fromRelay } = sealedSpaceKit('outpost-blob-unpins-');
let clock = 90_000;

/**
 * A relay archiving a team: the owner (an admin), bob and mallory (members); a private space of
 * the three that the relay is not in. Bob posts a sealed file there and has the relay keep it.
 */
async function sealedOnRelay() {
	const { relay, ws, owner, bob, mallory, ownerBlobs, bobBlobs, malloryBlobs, space } = await spaceOnRelay();
	const plain = randomBytes(600 * 1024);
	const key = newBlobKey();
	const { id: blob } = await storeBlob(bobBlobs.store, await sealBlob(plain, key));
	const ref: AttachmentRef = { blob, size: plain.length, mime: 'application/pdf', name: 'plan.pdf', key };
	const msgId = newId();
	new ChannelDoc(bob.docs.get(space)).post({ ...msg(msgId, bob.peerId, at(++clock, bob.peerId), ''), files: [ref] });
	await waitUntil(() => owner.docs.docs.has(space) && new ChannelDoc(owner.docs.get(space)).messages.length === 1, 'the owner gets the message');
	expect(await bobBlobs.blobs.pinOnRelays(ws.id, space, [blob])).toBe(1);
	const kept = new SqliteBlobStore(relayDb(), ws.id);
	const index = new SqliteSealedBlobIndex(relayDb());
	await waitUntil(() => index.has(ws.id, blob, space), 'the relay to keep the sealed file', 20_000);
	expect(await kept.missing(blob)).toEqual([]);
	expect(index.askers(ws.id, blob, space)).toEqual([bob.peerId]);
	return { relay, ws, owner, bob, mallory, ownerBlobs, bobBlobs, malloryBlobs, space, blob, key, plain, msgId, kept };
}

function expectDenied(error: unknown): void {
	expect(error).toBeInstanceOf(BlobUnavailableError);
	expect((error as BlobUnavailableError).failures[0]!.error).toBeInstanceOf(BlobDeniedError);
}

it('drops a sealed file once its author deletes the message; a member who did not pin it, or a stranger, cannot have it dropped', async () => {
	const { relay, ws, bob, ownerBlobs, bobBlobs, malloryBlobs, space, blob, key, plain, msgId, kept } = await sealedOnRelay();
	const relayPeer = relay.node.peerId.toString();

	// Mallory, in the space but not the one who pinned it, asks the relay to drop it: refused, still served.
	expect(await malloryBlobs.blobs.service.unpin(ws.id, relayPeer, space, blob)).toBe(false);
	// A stranger (a device of another team) asks too: refused.
	const other = await createTeamWorkspace((await newKey()).key);
	const strangerBlobs = await withBlobs(other.owner);
	await dialRelay(other.owner, relay);
	expect(await strangerBlobs.blobs.service.unpin(ws.id, relayPeer, space, blob)).toBe(false);
	expect(await kept.missing(blob)).toEqual([]);
	expect(await fromRelay(malloryBlobs, relay, ws.id, space, blob)).toBeUndefined();
	expect(Buffer.compare(await openBlob((await readBlob(malloryBlobs.store, blob))!, key), plain)).toBe(0);

	// While the message shows, its author's device asks nothing of the relay.
	expect(await bobBlobs.blobs.unpinOnRelays(ws.id, space, [blob])).toBe(0);

	// Bob deletes his message; his device asks the relays it pinned to to drop the file.
	new ChannelDoc(bob.docs.get(space)).markDeletion(await signDeletionMark(bob.key, { msg: msgId, by: bob.peerId, hlc: at(++clock, bob.peerId), deleted: true }));
	expect(await bobBlobs.blobs.unpinOnRelays(ws.id, space, [blob])).toBe(1);
	expect(await kept.manifest(blob)).toBeUndefined();
	expect(new SqliteSealedBlobIndex(relayDb()).has(ws.id, blob, space)).toBe(false);

	// A member of the space who did not fetch it yet is refused by the relay now.
	expectDenied(await fromRelay(ownerBlobs, relay, ws.id, space, blob));
}, 120_000);

it('drops a sealed file an admin hid, at the admin’s request, though another device pinned it', async () => {
	const { relay, ws, owner, ownerBlobs, malloryBlobs, space, blob, msgId, kept } = await sealedOnRelay();
	new ChannelDoc(owner.docs.get(space)).markModeration(await signModerationMark(owner.key, { msg: msgId, by: owner.peerId, hlc: at(++clock, owner.peerId), hidden: true }));
	expect(await ownerBlobs.blobs.unpinOnRelays(ws.id, space, [blob])).toBe(1);
	expect(await kept.manifest(blob)).toBeUndefined();
	expectDenied(await fromRelay(malloryBlobs, relay, ws.id, space, blob));
}, 120_000);
