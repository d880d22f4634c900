/**
 * A file whose message is deleted by its author, or hidden by an admin, is no longer served
 * under that message's channel (found in review: the app hid it, but any member's device, and
 * the relay, went on serving it to whoever asked). A newer mark that shows the message again
 * serves it again; a mark its signer did not sign, or a hide by someone who is not an admin,
 * changes nothing; the same file named by a shown message is still served. Real libp2p nodes.
 */
import '../../src/lib/mesh/polyfills.node.js';
import { afterEach, expect, it } from 'vitest';
import { BlobDenied } from '../../src/lib/blob/blobMessages.js';
import { BlobDeniedError, BlobUnavailableError } from '../../src/lib/blob/blobService.js';
import { ChannelDoc } from '../../src/lib/doc/ChannelDoc.js';
import { newId } from '../../src/lib/doc/ids.js';
import type { AttachmentRef } from '../../src/lib/doc/schema.js';
import { signDeletionMark, signModerationMark } from '../../src/lib/doc/signature.js';
import { at, msg } from '../unit/doc/helpers.js';
import { postFile, randomBytes, stopBlobPeers, withBlobs } from './blobPeers.js';
import { waitFor } from './helpers.js';
import { stopPeers } from './peers.js';
import { has, listedDoc, post, stopTeamPeers, teamOfThree, type TeamPeer } from './teamPeers.js';

afterEach(async () => {
	await stopBlobPeers();
	await stopTeamPeers();
	await stopPeers();
});

let clock = 50_000;

/** The id of the message in `docId` on `peer` that names blob `blob` (the first). */
function messageNaming(peer: TeamPeer, docId: string, blob: string): string {
	return new ChannelDoc(peer.docs.get(docId)).messages.toArray().find((m) => m.files?.some((f) => f.blob === blob))!.id;
}

it('a file whose message is deleted or hidden is not served under it; shown again, it is', async () => {
	const { ws, owner, mallory, bob } = await teamOfThree();
	const [ownerBlobs, bobBlobs, malloryBlobs] = [await withBlobs(owner), await withBlobs(bob), await withBlobs(mallory)];
	const channel = listedDoc(owner, ws.id);
	// Mallory posts the file (her device holds it); the owner's device fetched it and serves it.
	const ref = await postFile(mallory, malloryBlobs, channel, randomBytes(300_000), 'oops.bin');
	post(mallory, channel, 'sent');
	await waitFor(() => has(owner, channel, 'sent') && has(bob, channel, 'sent'), 'the message arrives');
	await ownerBlobs.blobs.service.fetch(ws.id, ref.blob, [mallory.peerId], { docId: channel });
	const id = messageNaming(owner, channel, ref.blob);
	const served = () => ownerBlobs.blobs.mayRead(ws.id, bob.peerId, ref.blob, channel);
	expect(await served()).toBe(true);

	// A deletion in her name that she did not sign (bob's modified client): nothing changes.
	const forged = await signDeletionMark(bob.key, { msg: id, by: mallory.peerId, hlc: at(++clock, mallory.peerId), deleted: true });
	new ChannelDoc(bob.docs.get(channel)).markDeletion(forged);
	await waitFor(() => new ChannelDoc(owner.docs.get(channel)).deletions.size === 1, 'the forged mark arrives');
	expect(await served()).toBe(true);

	// She deletes it: refused, with the same answer as for a file the channel never named.
	new ChannelDoc(mallory.docs.get(channel)).markDeletion(await signDeletionMark(mallory.key, { msg: id, by: mallory.peerId, hlc: at(++clock, mallory.peerId), deleted: true }));
	await waitFor(() => new ChannelDoc(owner.docs.get(channel)).deletions.size === 2, 'her deletion arrives');
	expect(await served()).toBe(false);
	const denied = await bobBlobs.blobs.service.fetch(ws.id, ref.blob, [owner.peerId], { docId: channel }).catch((error: unknown) => error);
	expect(denied).toBeInstanceOf(BlobUnavailableError);
	expect(((denied as BlobUnavailableError).failures[0]!.error as BlobDeniedError).reason).toBe(BlobDenied.notAllowed);
	expect(await bobBlobs.store.manifest(ref.blob)).toBeUndefined();

	// She shows it again: served again.
	new ChannelDoc(mallory.docs.get(channel)).markDeletion(await signDeletionMark(mallory.key, { msg: id, by: mallory.peerId, hlc: at(++clock, mallory.peerId), deleted: false }));
	await waitFor(() => new ChannelDoc(owner.docs.get(channel)).deletions.size === 3, 'her restore arrives');
	expect(await served()).toBe(true);

	// A member (bob, no admin) hides it: nothing changes; the owner hides it: refused.
	new ChannelDoc(bob.docs.get(channel)).markModeration(await signModerationMark(bob.key, { msg: id, by: bob.peerId, hlc: at(++clock, bob.peerId), hidden: true }));
	await waitFor(() => new ChannelDoc(owner.docs.get(channel)).moderation.size === 1, 'bob’s mark arrives');
	expect(await served()).toBe(true);
	new ChannelDoc(owner.docs.get(channel)).markModeration(await signModerationMark(owner.key, { msg: id, by: owner.peerId, hlc: at(++clock, owner.peerId), hidden: true }));
	expect(await served()).toBe(false);

	// The same file in a message that shows: served under it.
	const again: AttachmentRef = { ...ref, name: 'again.bin' };
	new ChannelDoc(mallory.docs.get(channel)).post({ ...msg(newId(), mallory.peerId, at(++clock, mallory.peerId), ''), files: [again] });
	await waitFor(() => new ChannelDoc(owner.docs.get(channel)).messages.length === 3, 'the second message arrives');
	expect(await served()).toBe(true);
}, 60_000);
