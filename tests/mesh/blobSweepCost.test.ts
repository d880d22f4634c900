/**
 * What a sweep pass looks at (blob/blobSweep.ts): only the fetched blobs named by the messages
 * whose marks arrived. Found in review: a pass checked every fetched blob of a document that
 * got any mark, and an update that merely held the word "deletions" (a message's text) marked
 * the document, so a member deleting her own messages, or posting that word, every 2 s kept
 * every device rechecking every file of a busy channel and reading its whole ledger. Real
 * libp2p nodes running the workspace core (the marks travel by sync); the sweep over bob's
 * documents, references index and blob store, as the blob mesh builds it.
 */
import '../../src/lib/mesh/polyfills.node.js';
import { afterEach, expect, it } from 'vitest';
import { BlobReferences } from '../../src/lib/blob/blobReferences.js';
import { BlobSweep } from '../../src/lib/blob/blobSweep.js';
import { MemoryBlobStore } from '../../src/lib/blob/BlobStore.js';
import { ChannelDoc } from '../../src/lib/doc/ChannelDoc.js';
import type { AttachmentRef } from '../../src/lib/doc/schema.js';
import { randomBytes } from './blobPeers.js';
import { deleteMessage, gone, heldEarlier, imageRef, postMessage, signedPost, stamps, stopSweepPeers } from './blobSweepKit.js';
import { waitFor, waitUntil } from './helpers.js';
import { listedDoc, teamOfThree, type TeamPeer } from './teamPeers.js';

const sweeps: BlobSweep[] = [];
afterEach(async () => {
	for (const sweep of sweeps.splice(0)) sweep.destroy();
	await stopSweepPeers();
});

const stamp = stamps(290_000);

/** `peer` posts a signed message in `docId` (with `files`); returns its id. */
async function postAs(peer: TeamPeer, docId: string, text: string, files?: AttachmentRef[]): Promise<string> {
	const message = await signedPost(peer, docId, text, stamp, files);
	postMessage(peer, docId, message);
	return message.id;
}

/** `peer` deletes its own message `msg` (a signed mark, as the app deletes). */
function deleteOwn(peer: TeamPeer, docId: string, msg: string): Promise<void> {
	return deleteMessage(peer, docId, msg, stamp);
}

it('a pass looks only at the files of the messages whose marks came, not at every file of their channel', async () => {
	const { ws, owner, mallory, bob } = await teamOfThree();
	const channel = listedDoc(owner, ws.id);
	// Bob's browser fetched the 24 images of a busy channel, and a marker image.
	const store = new MemoryBlobStore();
	const refs: AttachmentRef[] = [];
	for (let i = 0; i <= 24; i++) {
		const bytes = randomBytes(2_000 + i);
		refs.push(imageRef(await heldEarlier(store, bytes), bytes.byteLength, `${i}.png`));
	}
	const marker = refs.pop()!;
	for (const ref of refs) await postAs(owner, channel, ref.name, [ref]);
	const markerMsg = await postAs(owner, channel, 'marker', [marker]);
	await waitFor(() => bob.docs.docs.get(channel) !== undefined && new ChannelDoc(bob.docs.get(channel)).messages.length === 25, 'the channel reaches bob');

	const sweep = new BlobSweep({ docs: bob.docs, references: new BlobReferences(bob.docs), ledger: store, roleOf: (peer) => bob.authority.roleOf?.(peer), delayMs: 50, startMs: 600_000 });
	sweeps.push(sweep);

	// Mallory deletes her own text messages, and posts the word itself.
	for (let i = 0; i < 3; i++) await deleteOwn(mallory, channel, await postAs(mallory, channel, `noise ${i}`));
	await postAs(mallory, channel, 'deletions');
	await waitFor(() => new ChannelDoc(bob.docs.get(channel)).messages.toArray().some((m) => m.text === 'deletions'), 'her posts reach bob');
	// Then the marker's message is deleted: once its file is gone, the passes before it have run.
	await deleteOwn(owner, channel, markerMsg);
	await waitUntil(() => gone(store, marker.blob), 'bob drops the marker');
	expect(sweep.checked).toBe(1);
	for (const ref of refs) expect(await store.missing(ref.blob)).toEqual([]);
}, 60_000);
