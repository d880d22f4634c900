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
import { MemoryBlobStore, storeBlob } from '../../src/lib/blob/BlobStore.js';
import { manifestOf } from '../../src/lib/blob/blobManifest.js';
import { ChannelDoc } from '../../src/lib/doc/ChannelDoc.js';
import { newId } from '../../src/lib/doc/ids.js';
import type { AttachmentRef } from '../../src/lib/doc/schema.js';
import { signDeletionMark, signMessage } from '../../src/lib/doc/signature.js';
import { at } from '../unit/doc/helpers.js';
import { randomBytes } from './blobPeers.js';
import { waitFor, waitUntil } from './helpers.js';
import { stopPeers } from './peers.js';
import { stopTeamPeers, listedDoc, teamOfThree, type TeamPeer } from './teamPeers.js';

const sweeps: BlobSweep[] = [];
afterEach(async () => {
	for (const sweep of sweeps.splice(0)) sweep.destroy();
	await stopTeamPeers();
	await stopPeers();
});

let clock = 290_000;

/** `peer` posts a signed message in `docId` (with `files`); returns its id. */
async function postAs(peer: TeamPeer, docId: string, text: string, files?: AttachmentRef[]): Promise<string> {
	const id = newId();
	new ChannelDoc(peer.docs.get(docId)).post(await signMessage(peer.key, { id, author: peer.peerId, hlc: at(++clock, peer.peerId), text, ...(files ? { files } : {}) }, docId));
	return id;
}

/** `peer` deletes its own message `msg` (a signed mark, as the app deletes). */
async function deleteOwn(peer: TeamPeer, docId: string, msg: string): Promise<void> {
	new ChannelDoc(peer.docs.get(docId)).markDeletion(await signDeletionMark(peer.key, { msg, by: peer.peerId, hlc: at(++clock, peer.peerId), deleted: true }));
}

it('a pass looks only at the files of the messages whose marks came, not at every file of their channel', async () => {
	const { ws, owner, mallory, bob } = await teamOfThree();
	const channel = listedDoc(owner, ws.id);
	// Bob's browser fetched the 24 images of a busy channel, and a marker image.
	const store = new MemoryBlobStore();
	const refs: AttachmentRef[] = [];
	for (let i = 0; i <= 24; i++) {
		const bytes = randomBytes(2_000 + i);
		const { id } = await manifestOf(bytes);
		await store.mark(id, bytes.byteLength, 'auto');
		await storeBlob(store, bytes);
		refs.push({ blob: id, size: bytes.byteLength, mime: 'image/png', name: `${i}.png` });
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
	await waitUntil(async () => (await store.manifest(marker.blob)) === undefined, 'bob drops the marker');
	expect(sweep.checked).toBe(1);
	for (const ref of refs) expect(await store.missing(ref.blob)).toEqual([]);
}, 60_000);
