/**
 * When this device's user deletes her own message with files, the channel state asks the
 * relays outside the private space to drop the sealed ones (BlobMesh.unpinOnRelays: a relay
 * cannot read the deletion, and kept serving the file; relay/archive/blobUnpins.test.ts). Files
 * without a key (an open channel's, which every replica judges by the marks) are not sent; a
 * restore asks them to keep the sealed files again (PIN), as a post does. The real channel state over the real document store (fake-indexeddb),
 * real keys; the mesh side is the recording network the device's blobs are attached to.
 */
import 'fake-indexeddb/auto';
import { expect, it } from 'vitest';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { assembleServices } from '../../../src/lib/app.js';
import { ChannelDoc } from '../../../src/lib/doc/ChannelDoc.js';
import { formatHlc } from '../../../src/lib/doc/hlc.js';
import { newId } from '../../../src/lib/doc/ids.js';
import type { AttachmentRef } from '../../../src/lib/doc/schema.js';
import { signMessage } from '../../../src/lib/doc/signature.js';
import { ChannelState } from '../../../src/lib/state/ChannelState.svelte.js';
import { DocStore } from '../../../src/lib/store/DocStore.js';
import { OutpostDb } from '../../../src/lib/store/db.js';

it('asks the relays to drop the sealed files of a message its author deletes, and to keep them again on a restore', async () => {
	const privateKey = await generateKeyPair('Ed25519');
	const me = peerIdFromPrivateKey(privateKey).toString();
	const svc = await assembleServices(new OutpostDb(`withdrawn-${newId()}`), new DocStore(`withdrawn-${newId()}:`), { privateKey, peerId: me, displayName: 'Ann' });
	const asked: Array<{ workspaceId: string; docId: string; blobIds: readonly string[] }> = [];
	const kept: Array<{ workspaceId: string; docId: string; blobIds: readonly string[] }> = [];
	svc.blobs.attach({
		service: { fetch: () => Promise.reject(new Error('no fetch here')) },
		livePeers: () => [],
		pinOnRelays: (workspaceId, docId, blobIds) => {
			kept.push({ workspaceId, docId, blobIds });
			return Promise.resolve(blobIds.length);
		},
		unpinOnRelays: (workspaceId, docId, blobIds) => {
			asked.push({ workspaceId, docId, blobIds });
			return Promise.resolve(blobIds.length);
		}
	});
	const id = newId();
	const state = await ChannelState.open(svc, 'ws-withdrawn', id);
	const sealed: AttachmentRef = { blob: 'ab'.repeat(32), size: 10, mime: 'application/pdf', name: 'plan.pdf', key: 'k'.repeat(43) };
	const open: AttachmentRef = { blob: 'cd'.repeat(32), size: 10, mime: 'image/png', name: 'a.png' };
	const record = await signMessage(privateKey, { id: 'm1', author: me, hlc: formatHlc({ wall: Date.now(), counter: 0, node: me }), text: '', files: [sealed, open] }, id);
	new ChannelDoc(svc.docs.open(id).doc).post(record);
	const m = state.messages.find((x) => x.id === 'm1')!;

	await state.remove(m);
	// Asked as the deletion is written (the request itself runs on).
	expect(asked).toEqual([{ workspaceId: 'ws-withdrawn', docId: id, blobIds: [sealed.blob] }]);
	expect(kept).toEqual([]);
	await state.restore(m);
	expect(asked).toHaveLength(1);
	expect(kept).toEqual([{ workspaceId: 'ws-withdrawn', docId: id, blobIds: [sealed.blob] }]);
	await state.close();
});
