/**
 * A private channel's sealed file is never served under an open document, whatever the copied
 * reference says (found in review: a member removed from the space posted the file's reference
 * in an open channel without its key and with the sealed size; the owner served the sealed
 * blob under the open channel, and the removed member opened it with the key it had kept).
 * Real libp2p nodes.
 */
import '../../src/lib/mesh/polyfills.node.js';
import { afterEach, expect, it } from 'vitest';
import { readBlob } from '../../src/lib/blob/BlobStore.js';
import { openBlob, sealedSize } from '../../src/lib/blob/blobSeal.js';
import { ChannelDoc } from '../../src/lib/doc/ChannelDoc.js';
import { newId } from '../../src/lib/doc/ids.js';
import { newSpaceId } from '../../src/lib/doc/team/teamId.js';
import { at, msg } from '../../tests/unit/doc/helpers.js';
import { postFile, randomBytes, stopBlobPeers, withBlobs } from './blobPeers.js';
import { waitFor } from './helpers.js';
import { stopPeers } from './peers.js';
import { has, listedDoc, post, stopTeamPeers, teamOfThree } from './teamPeers.js';

afterEach(async () => {
	await stopBlobPeers();
	await stopTeamPeers();
	await stopPeers();
});

it('a removed member fetches a private channel’s sealed file through a key-less copy of its reference in an open channel', async () => {
	const { ws, owner, mallory, bob } = await teamOfThree();
	const [ownerBlobs, malloryBlobs] = [await withBlobs(owner), await withBlobs(mallory)];
	await withBlobs(bob);
	const { space, nonce } = newSpaceId(owner.authority.workspaceId, owner.peerId);
	await owner.authority.write({ t: 'space', space, nonce, kind: 'private', members: [owner.peerId, mallory.peerId, bob.peerId] });
	const plain = randomBytes(300_000);
	// Posted while she is in the space: she sees the reference (and its key) but does not download the file.
	const ref = await postFile(owner, ownerBlobs, space, plain, 'secret.bin', true);
	post(owner, space, 'first');
	await waitFor(() => has(mallory, space, 'first'), 'mallory gets the private channel');
	const key = ref.key!;

	await owner.authority.write({ t: 'space-members', space, add: [], remove: [mallory.peerId] });
	await waitFor(() => owner.authority.spaceAccess(space)?.reads(mallory.peerId) === false, 'the removal folded on the owner');
	const publicDoc = listedDoc(owner, ws.id);
	post(owner, publicDoc, 'public');
	await waitFor(() => has(mallory, publicDoc, 'public'), 'mallory still gets public documents');

	// The copy the earlier fix refuses carries the key; this one drops it and claims the sealed size.
	const { key: _dropped, ...rest } = ref;
	const copy = { ...rest, size: sealedSize(ref.size) };
	new ChannelDoc(mallory.docs.get(publicDoc)).post({ ...msg(newId(), mallory.peerId, at(99_999, mallory.peerId), ''), files: [copy] });
	await waitFor(
		() => new ChannelDoc(owner.docs.get(publicDoc)).messages.toArray().some((m) => m.files?.[0]?.blob === ref.blob),
		'the owner holds her copy of the reference'
	);

	const got = await malloryBlobs.blobs.service.fetch(ws.id, ref.blob, [owner.peerId], { docId: publicDoc }).then(
		() => true,
		() => false
	);
	if (got) {
		const opened = await openBlob((await readBlob(malloryBlobs.store, ref.blob))!, key);
		expect(Buffer.compare(opened, plain), 'she opened the private file').toBe(0);
	}
	// Hole: the owner must not serve a private space's sealed blob under an open document's reference.
	expect(got, 'the owner served the sealed blob to the removed member').toBe(false);
	// And to anyone else in the open channel under that copy.
	expect(await ownerBlobs.blobs.mayRead(ws.id, bob.peerId, ref.blob, publicDoc)).toBe(false);
}, 60_000);
