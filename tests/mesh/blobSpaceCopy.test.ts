/**
 * A private channel's sealed file is not served under another private space's copy of its
 * reference to a member the first space does not let in (found in review: a member removed
 * from a private channel posted the file's reference, key and all, in a direct conversation
 * or another private channel she shares with a member still in the first; that member's
 * device served the sealed blob under the second space, and she opened it with the key she
 * had kept). Real libp2p nodes.
 */
import '../../src/lib/mesh/polyfills.node.js';
import { afterEach, expect, it } from 'vitest';
import { readBlob } from '../../src/lib/blob/BlobStore.js';
import { storeBlob } from '../../src/lib/blob/BlobStore.js';
import { newBlobKey, openBlob, sealBlob } from '../../src/lib/blob/blobSeal.js';
import type { AttachmentRef } from '../../src/lib/doc/schema.js';
import { signMessage } from '../../src/lib/doc/signature.js';
import { ChannelDoc } from '../../src/lib/doc/ChannelDoc.js';
import { newId } from '../../src/lib/doc/ids.js';
import { newSpaceId } from '../../src/lib/doc/team/teamId.js';
import { at } from '../../tests/unit/doc/helpers.js';
import { randomBytes, stopBlobPeers, withBlobs, type BlobPeer } from './blobPeers.js';
import { waitFor } from './helpers.js';
import { has, invite, newKey, post, startJoiner, stopTeamPeers, teamOfThree, type TeamPeer } from './teamPeers.js';
import { connect, stopPeers } from './peers.js';

let clock = 1000;

/** Posts `files` in `docId` as `peer`'s app does: a message signed by its device, bound to the document (`author`: whom it claims). */
async function postSigned(peer: TeamPeer, docId: string, files: AttachmentRef[], author = peer.peerId): Promise<void> {
	const record = await signMessage(peer.key, { id: newId(), author, hlc: at(++clock, peer.peerId), text: '', files }, docId);
	new ChannelDoc(peer.docs.get(docId)).post(record);
}

/** Seals `bytes` with a fresh key, stores the sealed blob on `peer` and posts it in private space `docId`. */
async function postSealed(peer: TeamPeer, blobs: BlobPeer, docId: string, bytes: Uint8Array): Promise<AttachmentRef> {
	const key = newBlobKey();
	const { id } = await storeBlob(blobs.store, await sealBlob(bytes, key));
	const ref: AttachmentRef = { blob: id, size: bytes.byteLength, mime: 'application/octet-stream', name: 'secret.bin', key };
	await postSigned(peer, docId, [ref]);
	return ref;
}

afterEach(async () => {
	await stopBlobPeers();
	await stopTeamPeers();
	await stopPeers();
});

it('a removed member cannot fetch a private channel’s file through a copy of its reference in another private space', async () => {
	const { ws, owner, mallory, bob } = await teamOfThree();
	const [ownerBlobs, malloryBlobs] = [await withBlobs(owner), await withBlobs(mallory)];
	await withBlobs(bob);
	const first = newSpaceId(owner.authority.workspaceId, owner.peerId);
	await owner.authority.write({ t: 'space', space: first.space, nonce: first.nonce, kind: 'private', members: [owner.peerId, mallory.peerId, bob.peerId] });
	// A second private space the owner and mallory share (a direct conversation is one too).
	const second = newSpaceId(owner.authority.workspaceId, owner.peerId);
	await owner.authority.write({ t: 'space', space: second.space, nonce: second.nonce, kind: 'private', members: [owner.peerId, mallory.peerId] });
	const plain = randomBytes(300_000);
	// Posted while she is in the first space: she sees the reference and its key, but does not download the file.
	const ref = await postSealed(owner, ownerBlobs, first.space, plain);
	post(owner, first.space, 'first');
	post(owner, second.space, 'second');
	await waitFor(() => has(mallory, first.space, 'first') && has(mallory, second.space, 'second'), 'mallory gets both spaces');

	await owner.authority.write({ t: 'space-members', space: first.space, add: [], remove: [mallory.peerId] });
	await waitFor(() => owner.authority.spaceAccess(first.space)?.reads(mallory.peerId) === false, 'the removal folded on the owner');

	// She copies the reference, key and size unchanged, into the space she still shares with the owner.
	await postSigned(mallory, second.space, [ref]);
	// And once more claiming the owner posted it (signed with her own key).
	await postSigned(mallory, second.space, [ref], owner.peerId);
	await waitFor(
		() => new ChannelDoc(owner.docs.get(second.space)).messages.toArray().some((m) => m.files?.[0]?.blob === ref.blob),
		'the owner holds her copy of the reference'
	);

	const got = await malloryBlobs.blobs.service.fetch(ws.id, ref.blob, [owner.peerId], { docId: second.space }).then(
		() => true,
		() => false
	);
	if (got) {
		const opened = await openBlob((await readBlob(malloryBlobs.store, ref.blob))!, ref.key!);
		expect(Buffer.compare(opened, plain), 'she opened the private file').toBe(0);
	}
	expect(got, 'the owner served the first space’s sealed blob to the removed member').toBe(false);
	expect(await ownerBlobs.blobs.mayRead(ws.id, mallory.peerId, ref.blob, second.space)).toBe(false);
	// Bob, still in the first space, is served under it as before.
	expect(await ownerBlobs.blobs.mayRead(ws.id, bob.peerId, ref.blob, first.space)).toBe(true);

	// A relay of the team, which keeps a space's sealed files for its members (and would serve
	// this one to mallory under the second space), is not given it under her copy either; under
	// the first space it still is.
	const relay = await startJoiner(ws, (await newKey()).key, 'relay', await invite(owner, 'relay'));
	await connect(relay, owner);
	await waitFor(() => owner.authority.roleOf(relay.peerId) === 'relay', 'the relay admitted');
	expect(await ownerBlobs.blobs.mayRead(ws.id, relay.peerId, ref.blob, second.space)).toBe(false);
	expect(await ownerBlobs.blobs.mayRead(ws.id, relay.peerId, ref.blob, first.space)).toBe(true);
}, 60_000);
